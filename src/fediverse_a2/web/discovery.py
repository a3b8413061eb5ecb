"""WebFinger, NodeInfo and host-meta: how other servers find our actors."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .. import __version__
from ..runtime import Runtime
from ..store import members, posts

__all__ = ["Discovery"]

JRD = "application/jrd+json"
NODEINFO_SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/2.1"


class Discovery:
    """Discovery endpoints; always open, even under authorized fetch."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    async def webfinger(self, request: Request) -> Response:
        """Resolve acct:user@host (or an actor URL) to the actor document link."""
        resource = request.query_params.get("resource", "").strip()
        if not resource:
            return _jrd_error("missing resource parameter", 400)
        urls = self.rt.urls
        username: str | None
        if resource.startswith("acct:"):
            user, _, authority = resource[5:].lstrip("@").rpartition("@")
            username = user if urls.is_own_authority(authority) else None
        else:
            username = urls.username(resource)
        if resource in (f"acct:{urls.hostname_handle}", urls.instance_actor):
            return self._instance_jrd(resource)
        member = await members.by_username(self.rt.db, username) if username else None
        if member is None:
            return _jrd_error("no such account", 404)
        if member.is_deleted:
            return _jrd_error("this account was deleted", 410)
        actor = urls.actor(member.username)
        doc = {
            "subject": f"acct:{member.username}@{urls.host}",
            "aliases": [actor],
            "links": [
                {"rel": "self", "type": "application/activity+json", "href": actor},
                {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": actor},
            ],
        }
        return Response(orjson.dumps(doc), media_type=JRD, headers={"Access-Control-Allow-Origin": "*"})

    def _instance_jrd(self, resource: str) -> Response:
        urls = self.rt.urls
        doc = {
            "subject": f"acct:{urls.hostname_handle}",
            "aliases": [urls.instance_actor],
            "links": [{"rel": "self", "type": "application/activity+json", "href": urls.instance_actor}],
        }
        return Response(orjson.dumps(doc), media_type=JRD)

    async def nodeinfo_links(self, request: Request) -> Response:
        """/.well-known/nodeinfo: where the NodeInfo 2.1 document is."""
        return JSONResponse({"links": [{"rel": NODEINFO_SCHEMA, "href": f"{self.rt.urls.base}/nodeinfo/2.1"}]})

    async def nodeinfo(self, request: Request) -> Response:
        """NodeInfo 2.1: software, protocols and usage."""
        db = self.rt.db
        users = await members.count(db)
        doc = {
            "version": "2.1",
            "software": {"name": "fediverse-a2", "version": __version__},
            "protocols": ["activitypub"],
            "services": {"inbound": [], "outbound": ["atom1.0"]},
            "openRegistrations": False,
            "usage": {
                "users": {"total": users, "activeMonth": users, "activeHalfyear": users},
                "localPosts": await posts.count_live(db),
            },
            "metadata": {
                "nodeName": self.rt.config.instance.name,
                "nodeDescription": self.rt.config.instance.description,
            },
        }
        return Response(
            orjson.dumps(doc),
            media_type=f'application/json; profile="{NODEINFO_SCHEMA}#"',
        )

    async def host_meta(self, request: Request) -> Response:
        """host-meta for older clients that look up WebFinger through it."""
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">'
            f'<Link rel="lrdd" template="{self.rt.urls.base}/.well-known/webfinger?resource={{uri}}"/></XRD>'
        )
        return Response(xml, media_type="application/xrd+xml")


def _jrd_error(message: str, status: int) -> Response:
    return Response(orjson.dumps({"error": message}), status_code=status, media_type=JRD)

"""GET /media/proxy/{kind}/{signature}/{encoded}: remote images served from this instance.

Pages never link another host's image: `ProxyLinks` (services/media_proxy.py; the templates'
`proxied` filter) turns a
remote image URL into a signed link here, and the route serves the re-encoded, cached copy
(services/media_proxy.py). A link this instance did not sign is a 404 and fetches nothing;
an image that cannot be fetched or is not an image is a 502, except an avatar: a member's page
shows this instance's own default avatar for it (as Mastodon shows its "missing" picture)
instead of a broken image, for as long as the refusal is remembered.
"""

from __future__ import annotations

import logging
from importlib.resources import files

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from ..media.proxy_links import AVATAR, ProxyLink, url_of
from ..runtime import Runtime
from ..services.media_proxy import MediaProxy, ProxyRefused

__all__ = ["MediaProxyRoute"]

log = logging.getLogger(__name__)

DEFAULT_AVATAR = files("fediverse_a2.web") / "static" / "avatar.png"
REFUSAL_MAX_AGE = 600  # seconds: as long as the proxy remembers a failed fetch


class MediaProxyRoute:
    """GET /media/proxy/{kind}/{signature}/{encoded}."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.proxy = MediaProxy(rt)

    async def get(self, request: Request) -> Response:
        """The cached copy of a remote image this instance linked; 404 for any other link."""
        params = request.path_params
        link = ProxyLink(params["kind"], params["signature"], params["encoded"])
        url = url_of(self.rt.web_secret, link)
        if url is None:
            return Response("not found", status_code=404, media_type="text/plain")
        try:
            cached = await self.proxy.get(link, url)
        except ProxyRefused as exc:
            log.info("media proxy: %s refused: %s", url, exc)
            if link.kind == AVATAR:
                return Response(
                    DEFAULT_AVATAR.read_bytes(),
                    media_type="image/png",
                    headers={"Cache-Control": f"public, max-age={REFUSAL_MAX_AGE}"},
                )
            return Response("the image could not be fetched", status_code=502, media_type="text/plain")
        max_age = int(self.proxy.expiry)
        return FileResponse(
            cached.path,
            media_type=cached.media_type,
            headers={"Cache-Control": f"public, max-age={max_age}", "Content-Security-Policy": "sandbox"},
        )

"""The old network's addresses on this instance: 301 to where the item lives now; imported attachments.

The old platform's links name an item by its id (`/xn/detail/2570916:BlogPost:1001`,
`/profiles/blog/show?id=...`, `/forum/topics/show?id=...`), a member by their contributorName
(`/profile/NAME`), or an item by its address (`/profiles/blogs/SLUG`, `/forum/topics/SLUG`, as saved
pages show them). Each is looked up in what the importers recorded (`store.legacy`); anything
unknown is an ordinary 404. Attachments copied from the archive are served for download only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from ..importer.media import FILE_TYPES, is_file_name
from ..runtime import Runtime
from ..store import legacy

__all__ = ["LegacyLinks", "legacy_routes"]

Endpoint = Callable[[Request], Awaitable[Response]]
# Paths under which the old platform showed an item by its address (looked up as a whole).
_ADDRESS_ROUTES = (
    "/profiles/blogs/{slug:str}",
    "/forum/topics/{slug:str}",
    "/group/{group:str}/forum/topics/{slug:str}",
)
# Old show pages that take the item's id as ?id=.
_SHOW_ROUTES = (
    "/profiles/blog/show",
    "/forum/topics/show",
    "/groups/group/show",
    "/profiles/members/show",
)


class LegacyLinks:
    """GETs of old addresses, answered with 301 to the new URL."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    async def _moved(self, old: str | None) -> Response:
        target = await legacy.redirect_target(self.rt.db, old) if old else None
        if target is None:
            raise HTTPException(404)
        return RedirectResponse(target, status_code=301)

    async def by_id(self, request: Request) -> Response:
        """/xn/detail/ID: an old post, comment, discussion or group by its id."""
        return await self._moved(request.path_params["old"])

    async def by_query(self, request: Request) -> Response:
        """/profiles/blog/show?id=ID and the like."""
        return await self._moved(request.query_params.get("id"))

    async def profile(self, request: Request) -> Response:
        """/profile/NAME: a member of the old network by contributorName."""
        return await self._moved(request.path_params["name"])

    async def by_address(self, request: Request) -> Response:
        """/profiles/blogs/SLUG and other addresses recorded as a whole path."""
        return await self._moved(request.scope["path"].rstrip("/"))

    async def attachment(self, request: Request) -> Response:
        """An attachment copied from the archive: download only, never rendered by the browser."""
        name = request.path_params["name"]
        path = self.rt.config.media_path / "files" / name
        if not is_file_name(name) or not path.is_file():
            raise HTTPException(404)
        suffix = "." + name.rsplit(".", 1)[1]
        return FileResponse(
            path,
            media_type=FILE_TYPES.get(suffix, "application/octet-stream"),
            headers={
                "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
                "Content-Security-Policy": "sandbox",
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "public, max-age=31536000, immutable",
            },
        )


def legacy_routes(links: LegacyLinks) -> list[tuple[str, Endpoint]]:
    """The paths of old addresses and archive attachments with their endpoints (for the route table)."""
    routes: list[tuple[str, Endpoint]] = [
        ("/xn/detail/{old:str}", links.by_id),
        ("/profile/{name:str}", links.profile),
        ("/files/{name:str}", links.attachment),
    ]
    routes += [(path, links.by_query) for path in _SHOW_ROUTES]
    routes += [(path, links.by_address) for path in _ADDRESS_ROUTES]
    return routes

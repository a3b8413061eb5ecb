"""Images from apps: `POST /api/v2/media` (and v1), `GET` and `PUT /api/v1/media/:id`.

An upload goes through the web's own service (services/uploads.py): the same checks, the same
re-encoding, the same limits. Its description is its alt text. An image is the uploader's
alone, and, as on Mastodon, can be read and changed here until a status carries it (its
description is then changed by editing the status).
"""

from __future__ import annotations

from starlette.responses import Response

from ..content import inert_text
from ..media.images import MAX_BYTES
from ..runtime import Runtime
from ..services.uploads import MAX_ALT, store_image
from ..store import media
from ..store.media import Media
from ..web.ids import parse_id
from . import entities
from .frame import ApiCall, ApiError, json
from .status_views import StatusViews

__all__ = ["UPLOAD_LIMIT", "MediaPages"]

UPLOAD_LIMIT = MAX_BYTES + 200_000  # the image in a multipart form, with room for the other fields


class MediaPages:
    """Handlers of the media endpoints."""

    def __init__(self, rt: Runtime, views: StatusViews) -> None:
        self.rt = rt
        self.views = views

    def _description(self, call: ApiCall) -> str | None:
        value = call.params.get("description")
        if value is not None and len(value) > MAX_ALT:
            raise ApiError(422, f"description is too long (at most {MAX_ALT} characters)")
        return value

    async def upload(self, call: ApiCall) -> Response:
        """POST /api/v2/media and /api/v1/media: `file` and `description`; ready at once (200)."""
        upload = call.params.file("file")
        if upload is None:
            raise ApiError(422, "file is missing")
        data = await upload.read()
        if not data:
            raise ApiError(422, "file is empty")
        stored = await store_image(self.rt, call.member, data, self._description(call) or "")
        return json(entities.media_attachment(self.views.media_view(stored)))

    async def _unattached(self, call: ApiCall) -> Media:
        number = parse_id(str(call.path["id"]))
        found = await media.by_id(self.rt.db, number) if number is not None else None
        if found is None or found.member_id != call.member.id or await media.is_attached(self.rt.db, found.id):
            raise ApiError(404, "Record not found")
        return found

    async def show(self, call: ApiCall) -> Response:
        """GET /api/v1/media/:id: one of the member's uploads that no status carries yet."""
        return json(entities.media_attachment(self.views.media_view(await self._unattached(call))))

    async def update(self, call: ApiCall) -> Response:
        """PUT /api/v1/media/:id: its description (alt text)."""
        found = await self._unattached(call)
        description = self._description(call)
        if description is not None:
            alt = inert_text(description, MAX_ALT)
            await media.set_alt(self.rt.db, found.id, alt)
            found = await media.by_id(self.rt.db, found.id) or found
        return json(entities.media_attachment(self.views.media_view(found)))

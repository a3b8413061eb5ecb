"""The instance as apps read it (`/api/v1/instance`, `/api/v2/instance`), the member's preferences and
markers, and the lists this server keeps empty (custom emojis, announcements, lists, filters, …)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from .. import __version__
from ..media.images import MAX_BYTES, MAX_PIXELS
from ..runtime import Runtime
from ..services.posts import MAX_IMAGES
from ..services.social import MAX_COMMENT
from ..services.uploads import MAX_ALT
from ..store import account_stats, markers
from . import entities
from .frame import ApiCall, ApiError, json

__all__ = ["InstancePages", "version_string"]

MIME_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
MARKER_TIMELINES = ("home", "notifications")


def version_string() -> str:
    """The version apps read: Mastodon's API level, then ours (`4.3.0 (compatible; fediverse-a2 0.1.0)`)."""
    return f"{entities.MASTODON_VERSION} (compatible; fediverse-a2 {__version__})"


class InstancePages:
    """Handlers of the instance, preference and marker endpoints."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    async def _view(self) -> entities.InstanceView:
        inst = self.rt.config.instance
        stats = await account_stats.for_instance(self.rt.db)
        return entities.InstanceView(
            domain=inst.host, title=inst.name, description=inst.description, version=version_string(),
            base_url=self.rt.urls.base, members=stats.members, statuses=stats.statuses, domains=stats.domains,
            languages=("nl", "en"), max_characters=MAX_COMMENT, max_media=MAX_IMAGES, mime_types=MIME_TYPES,
            description_limit=MAX_ALT, image_size_limit=MAX_BYTES, image_matrix_limit=MAX_PIXELS,
        )  # fmt: skip

    async def v1(self, call: ApiCall) -> Response:
        """GET /api/v1/instance."""
        return json(entities.instance_v1(await self._view()))

    async def v2(self, call: ApiCall) -> Response:
        """GET /api/v2/instance, with `configuration` (Ivory and Ice Cubes need it) and `api_versions`."""
        return json(entities.instance_v2(await self._view()))

    async def preferences(self, call: ApiCall) -> Response:
        """GET /api/v1/preferences: what this instance does by default (posts are public)."""
        return json({
            "posting:default:visibility": "public", "posting:default:sensitive": False,
            "posting:default:language": self.rt.config.instance.language,
            "reading:expand:media": "default", "reading:expand:spoilers": False,
        })  # fmt: skip

    async def get_markers(self, call: ApiCall) -> Response:
        """GET /api/v1/markers?timeline[]=home&timeline[]=notifications."""
        wanted = tuple(t for t in call.params.strings("timeline") if t in MARKER_TIMELINES)
        found = await markers.for_member(self.rt.db, call.member.id, wanted)
        return json({m.timeline: entities.marker(m.last_read_id, m.version, m.updated_at) for m in found})

    async def save_markers(self, call: ApiCall) -> Response:
        """POST /api/v1/markers with home[last_read_id] and/or notifications[last_read_id]."""
        out: dict[str, Any] = {}
        for timeline in MARKER_TIMELINES:
            last = call.params.text(f"{timeline}[last_read_id]", 40)
            if last is None:
                continue
            if not (last.isascii() and last.isdigit()):
                raise ApiError(422, f"{timeline}[last_read_id] must be an id")
            saved = await markers.save(self.rt.db, call.member.id, timeline, last)
            out[timeline] = entities.marker(saved.last_read_id, saved.version, saved.updated_at)
        if not out:
            raise ApiError(422, "give home[last_read_id] or notifications[last_read_id]")
        return json(out)

    async def empty(self, call: ApiCall) -> Response:
        """An empty but valid list (custom emojis, announcements, lists, filters, followed tags, conversations)."""
        return json([])

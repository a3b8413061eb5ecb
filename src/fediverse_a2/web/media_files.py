"""Serving uploaded images from the media folder: only names we made, never anything else."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from ..runtime import Runtime

__all__ = ["MediaFiles"]

_NAME = re.compile(r"[0-9a-f]{32}\.(jpg|png)")
_TYPES = {"jpg": "image/jpeg", "png": "image/png"}


class MediaFiles:
    """GET /media/{name}."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    async def get(self, request: Request) -> Response:
        """An image we re-encoded, cached for good (its name is its content's hash)."""
        name = request.path_params["name"]
        match = _NAME.fullmatch(name)
        path = self.rt.config.media_path / name
        if match is None or not path.is_file():
            return Response("not found", status_code=404, media_type="text/plain")
        return FileResponse(
            path,
            media_type=_TYPES[match.group(1)],
            headers={"Cache-Control": "public, max-age=31536000, immutable", "Content-Security-Policy": "sandbox"},
        )

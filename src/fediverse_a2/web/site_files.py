"""What browsers ask of a site by name: /favicon.ico and the web app manifest (/manifest.webmanifest).

The icons themselves are static files (web/static/icon*.png, icon.svg); the manifest carries the
instance's name and language, so it is made here from the config.
"""

from __future__ import annotations

from importlib.resources import files

import orjson
from starlette.requests import Request
from starlette.responses import Response

from ..runtime import Runtime

__all__ = ["SiteFiles"]

_DAY = 86400
THEME = "#154273"  # the header's blue (style.css --header-bg)


class SiteFiles:
    """GET /favicon.ico and GET /manifest.webmanifest."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._favicon = (files("fediverse_a2.web") / "static" / "favicon.ico").read_bytes()
        instance = rt.config.instance
        manifest = {
            "name": instance.name,
            "short_name": instance.name[:12],
            "lang": instance.language,
            "start_url": "/",
            "scope": "/",
            "display": "standalone",
            "background_color": "#ffffff",
            "theme_color": THEME,
            "icons": [
                {"src": "/static/icon-192.png", "sizes": "192x192", "type": "image/png"},
                {"src": "/static/icon-512.png", "sizes": "512x512", "type": "image/png"},
                {
                    "src": "/static/icon-maskable-512.png",
                    "sizes": "512x512",
                    "type": "image/png",
                    "purpose": "maskable",
                },
                {"src": "/static/icon.svg", "sizes": "any", "type": "image/svg+xml"},
            ],
        }
        self._manifest = orjson.dumps(manifest)

    async def favicon(self, request: Request) -> Response:
        """The icon browsers fetch without being told where it is."""
        return Response(
            self._favicon, media_type="image/x-icon", headers={"Cache-Control": f"public, max-age={7 * _DAY}"}
        )

    async def manifest(self, request: Request) -> Response:
        """The web app manifest: name, start page, colours and icons for "add to home screen"."""
        return Response(
            self._manifest, media_type="application/manifest+json", headers={"Cache-Control": f"public, max-age={_DAY}"}
        )

"""GET /media/proxy/{kind}/{signature}/{encoded}: remote images served from this instance.

Pages never link another host's image: `ProxyLinks` (the templates' `proxied` filter) turns a
remote image URL into a signed link here, and the route serves the re-encoded, cached copy
(services/media_proxy.py). A link this instance did not sign is a 404 and fetches nothing;
an image that cannot be fetched or is not an image is a 502.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from ..hosts import origin_of, same_origin
from ..html_images import with_alt
from ..media.proxy_links import AVATAR, IMAGE, ProxyLink, link_for, url_of
from ..runtime import Runtime
from ..services.media_proxy import MediaProxy, ProxyRefused

__all__ = ["MediaProxyRoute", "ProxyLinks"]

log = logging.getLogger(__name__)


class ProxyLinks:
    """The templates' filters: a remote image's address on this instance ("" for none)."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def link(self, url: str | None, kind: str = IMAGE) -> str:
        """Our own images stay as they are; any other http(s) image goes through the proxy."""
        if not url:
            return ""
        if same_origin(url, self.rt.urls.base):
            return url
        if origin_of(url) is None:
            # A path on this site stays; nothing else (data:, javascript:, //host) is ever a source.
            return url if url.startswith("/") and not url.startswith("//") else ""
        parts = link_for(self.rt.web_secret, kind, url)
        return self.rt.urls.media_proxy(parts.kind, parts.signature, parts.encoded)

    def stored_html(self, html: str) -> str:
        """Stored HTML (imported posts may hold other hosts' images) with every image through the
        proxy, and `alt=""` where it has none (html_images.with_alt)."""
        return with_alt(html, self.link)

    def avatar(self, url: str | None) -> str:
        """A remote avatar, as a small square."""
        return self.link(url, AVATAR)


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
            return Response("the image could not be fetched", status_code=502, media_type="text/plain")
        max_age = int(self.proxy.expiry)
        return FileResponse(
            cached.path,
            media_type=cached.media_type,
            headers={"Cache-Control": f"public, max-age={max_age}", "Content-Security-Policy": "sandbox"},
        )

"""The media proxy: remote images fetched by the server, re-encoded, cached on disk, served from here.

Readers never contact another host. A page links a remote image or avatar through a signed
proxy link (media/proxy_links.py); on the first request the image is fetched through the
guarded client (no private addresses unless `federation.allow_private_network`, at most
`media.proxy_max_bytes`), decoded and re-encoded without metadata (media/images.py; avatars
cropped to a square), and kept for `media.proxy_cache_days` in a hidden folder beside the
media (not backed up: it is fetched again). An answer that is not an image, too large, or
unreachable is refused, and that refusal is remembered for a while so a page full of broken
images does not fetch them on every view.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from ..hosts import origin_of, same_origin
from ..html_images import with_alt
from ..httpclient import MAX_BYTES, FetchError, read_limited
from ..media.images import ImageError, Processed, process_image
from ..media.proxy_links import AVATAR, IMAGE, ProxyLink, cache_key, link_for
from ..runtime import Runtime

__all__ = ["CACHE_FOLDER", "Cached", "MediaProxy", "ProxyLinks", "ProxyRefused"]

log = logging.getLogger(__name__)

CACHE_FOLDER = ".proxy-cache"  # under the media folder; a dot folder is left out of backups
_FAILED_FOR = 600.0  # seconds a refused image is not fetched again
_PRUNE_EVERY = 3600.0
_TYPES = {".jpg": "image/jpeg", ".png": "image/png"}


class ProxyRefused(Exception):
    """The remote image could not be fetched or is not an image we serve; the reason is for the log."""


@dataclass(frozen=True, slots=True)
class Cached:
    """A cached copy, ready to serve."""

    path: Path
    media_type: str


class ProxyLinks:
    """A remote image's address on this instance ("" for none): the pages' filters, the API's URLs."""

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


class MediaProxy:
    """Fetches, re-encodes and caches remote images; one per app."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.folder = rt.config.media_path / CACHE_FOLDER
        self.max_bytes = rt.config.media.proxy_max_bytes
        self.expiry = rt.config.media.proxy_cache_days * 86400.0
        self._pruned_at = 0.0
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(self, link: ProxyLink, url: str) -> Cached:
        """The cached copy of a signed link's image, fetched when missing or expired; ProxyRefused otherwise."""
        key = cache_key(link)
        lock = self._locks.setdefault(key, asyncio.Lock())
        try:
            async with lock:  # one fetch per image, however many readers ask at once
                now = time.time()
                found = await asyncio.to_thread(self._fresh, key, now)
                if isinstance(found, Cached):
                    return found
                if found == "failed":
                    raise ProxyRefused("refused a moment ago")
                try:
                    processed = await self._fetch(url, avatar=link.kind == AVATAR)
                except ProxyRefused:
                    await asyncio.to_thread(self._write, key, ".fail", b"")
                    raise
                path = await asyncio.to_thread(self._write, key, "." + processed.extension, processed.data)
                if now - self._pruned_at > _PRUNE_EVERY:
                    self._pruned_at = now
                    await asyncio.to_thread(self.prune, now)
                return Cached(path, processed.media_type)
        finally:
            if not lock.locked():
                self._locks.pop(key, None)

    async def _fetch(self, url: str, *, avatar: bool) -> Processed:
        try:
            async with self.rt.http.stream(
                "GET", url, headers={"Accept": "image/*"}, follow_redirects=True, extensions={MAX_BYTES: self.max_bytes}
            ) as response:
                if response.status_code != 200:
                    raise ProxyRefused(f"answered {response.status_code}")
                kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
                if not kind.startswith("image/"):
                    raise ProxyRefused(f"not an image: {kind or 'no Content-Type'}")
                data = await read_limited(response, self.max_bytes)
        except (FetchError, httpx.HTTPError) as exc:
            raise ProxyRefused(str(exc) or type(exc).__name__) from None
        try:
            return await asyncio.to_thread(process_image, data, avatar=avatar)
        except ImageError as exc:
            raise ProxyRefused(str(exc)) from None

    def _fresh(self, key: str, now: float) -> Cached | str | None:
        """The unexpired copy, "failed" for a recent refusal, or None."""
        for suffix, media_type in _TYPES.items():
            path = self.folder / (key + suffix)
            try:
                if now - path.stat().st_mtime < self.expiry:
                    return Cached(path, media_type)
            except FileNotFoundError:
                continue
        try:
            if now - (self.folder / (key + ".fail")).stat().st_mtime < _FAILED_FOR:
                return "failed"
        except FileNotFoundError:
            pass
        return None

    def _write(self, key: str, suffix: str, data: bytes) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in _TYPES:
            if old != suffix:
                (self.folder / (key + old)).unlink(missing_ok=True)
        target = self.folder / (key + suffix)
        temporary = target.with_name(f"{target.name}.{os.getpid()}.tmp")
        temporary.write_bytes(data)
        os.replace(temporary, target)  # a reader never sees half a file
        return target

    def prune(self, now: float) -> int:
        """Remove expired copies and old refusals; how many files went."""
        removed = 0
        if not self.folder.is_dir():
            return 0
        for path in self.folder.iterdir():
            limit = _FAILED_FOR if path.suffix == ".fail" else self.expiry
            try:
                if now - path.stat().st_mtime >= limit:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        if removed:
            log.info("media proxy: removed %d expired copies", removed)
        return removed

"""Storing uploaded images: re-encoded (media/images.py), written under a content-derived name."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from ..content import inert_text
from ..errors import UserError
from ..media.images import ImageError, Processed, process_image
from ..models import Member
from ..runtime import Runtime
from ..store import media
from ..store.media import Media

__all__ = ["MAX_ALT", "store_image", "upload_name"]

MAX_ALT = 1500  # Mastodon's limit for image descriptions


def _write(folder: Path, processed: Processed) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / processed.file_name
    if target.exists():
        return  # the same image again: same name, same bytes
    temporary = target.with_suffix(target.suffix + f".{os.getpid()}.tmp")
    temporary.write_bytes(processed.data)
    os.replace(temporary, target)  # never a half-written file under the final name


def upload_name(name: str | None) -> str:
    """An uploaded file's own name, as it may be shown: its last part, inert, at most 200 characters."""
    last = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    return inert_text(last, 200)


async def store_image(
    rt: Runtime, member: Member, data: bytes, alt: str, *, avatar: bool = False, original_name: str | None = None
) -> Media:
    """Re-encode an upload and keep it; UserError (in the member's words) when it is not a usable image."""
    try:
        # Decoding and encoding images is CPU work: off the event loop.
        processed = await asyncio.to_thread(process_image, data, avatar=avatar)
    except ImageError as exc:
        raise UserError(str(exc), key="image_refused") from None
    await asyncio.to_thread(_write, rt.config.media_path, processed)
    return await media.add(
        rt.db, member.id, processed.file_name, processed.media_type, processed.width, processed.height,
        len(processed.data), inert_text(alt, MAX_ALT), upload_name(original_name),
    )  # fmt: skip

"""PURE image handling: decode untrusted bytes under limits, re-encode without metadata.

Every upload is decoded and encoded again, so what we serve is always an image we made:
only its pixels go through, never what came beside them: no EXIF or GPS (location!), no XMP,
no JPEG comments (COM), no GIF comment extensions, no PNG text chunks, no ICC profile (its
colours are converted to sRGB first, and its text goes with it), no polyglot files. Limits
come first: the byte size, then the pixel count read from the header before any pixel is
decoded (decompression bombs), and Pillow's own bomb check as a second line.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

__all__ = ["MAX_BYTES", "MAX_PIXELS", "ImageError", "Processed", "process_image"]

MAX_BYTES = 10_000_000
MAX_PIXELS = 40_000_000  # 40 megapixels: any phone photo, no bomb
MAX_SIDE = 2560  # what we keep of a large photo (Mastodon resizes to about this too)
AVATAR_SIDE = 400
_FORMATS = {"JPEG", "PNG", "GIF", "WEBP"}


class ImageError(ValueError):
    """An upload that is not an image we accept; the message is shown to the member."""


@dataclass(frozen=True)
class Processed:
    """A re-encoded image, ready to store."""

    data: bytes
    media_type: str
    extension: str
    width: int
    height: int

    @property
    def file_name(self) -> str:
        """A name derived from the content: the same image is stored once."""
        return hashlib.sha256(self.data).hexdigest()[:32] + "." + self.extension


def _open(data: bytes) -> Image.Image:
    if len(data) > MAX_BYTES:
        raise ImageError(f"the image is larger than {MAX_BYTES // 1_000_000} MB")
    if not data:
        raise ImageError("the file is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in _FORMATS:
                raise ImageError("only JPEG, PNG, GIF and WebP images are accepted")
            if image.width * image.height > MAX_PIXELS:
                raise ImageError(f"the image has more than {MAX_PIXELS // 1_000_000} million pixels")
            image.load()
    except ImageError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError("the file is not an image we can read") from None
    except (OSError, ValueError, SyntaxError):  # truncated or corrupt data
        raise ImageError("the file is not an image we can read") from None
    return image


_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _in_srgb(image: Image.Image, icc: object) -> Image.Image:
    """The pixels converted from the embedded ICC profile to sRGB (as they were meant to look);
    unchanged when the profile is not one we can read (it is dropped either way)."""
    if not isinstance(icc, bytes) or not icc:
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(image, source, _SRGB, outputMode=image.mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image
    return converted if converted is not None else image


def _pixels_only(image: Image.Image) -> Image.Image:
    """A new image holding only the pixels: no info (comments, text, XMP, EXIF, ICC) carries over,
    since Pillow's encoders write some of it back from `info` (a JPEG's or GIF's comment does)."""
    fresh = Image.new(image.mode, image.size)
    fresh.paste(image)
    return fresh


def process_image(data: bytes, *, avatar: bool = False) -> Processed:
    """Decode an upload under the limits and re-encode it (JPEG, or PNG when it has transparency)."""
    image = _open(data)
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)  # an animation keeps its first frame
    icc = image.info.get("icc_profile")
    image = ImageOps.exif_transpose(image)  # turn as the camera meant, before the EXIF goes
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    image = _pixels_only(_in_srgb(image.convert("RGBA" if has_alpha else "RGB"), icc))
    if avatar:
        image = ImageOps.fit(image, (AVATAR_SIDE, AVATAR_SIDE), Image.Resampling.LANCZOS)
    elif max(image.size) > MAX_SIDE:
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if has_alpha:
        image.save(out, "PNG", optimize=True)
        kind, ext = "image/png", "png"
    else:
        image.save(out, "JPEG", quality=85, optimize=True, progressive=True)
        kind, ext = "image/jpeg", "jpg"
    return Processed(out.getvalue(), kind, ext, image.width, image.height)

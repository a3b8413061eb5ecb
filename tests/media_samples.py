"""Sample media for upload tests: images that carry metadata which must not survive."""

from __future__ import annotations

import io

from PIL import Image


def photo(size: tuple[int, int] = (800, 600), secret: str = "GPS 52.37N 4.89E") -> bytes:
    """A JPEG with EXIF metadata that must not survive."""
    image = Image.new("RGB", size, (20, 120, 200))
    exif = image.getexif()
    exif[0x010E] = secret  # ImageDescription
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()

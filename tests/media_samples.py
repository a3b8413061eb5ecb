"""Sample media for upload tests: images that carry metadata which must not survive."""

from __future__ import annotations

import io

from PIL import Image, ImageCms, PngImagePlugin


def photo(size: tuple[int, int] = (800, 600), secret: str = "GPS 52.37N 4.89E") -> bytes:
    """A JPEG with EXIF metadata that must not survive."""
    image = Image.new("RGB", size, (20, 120, 200))
    exif = image.getexif()
    exif[0x010E] = secret  # ImageDescription
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def png_bytes(size: tuple[int, int] = (64, 48), colour: tuple[int, int, int] = (200, 80, 20)) -> bytes:
    """A plain PNG."""
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


# -- one image per kind of metadata, each carrying a phone number -----------------------------

PHONE = "0612345678"


def _icc_with_text(text: str) -> bytes:
    """A valid sRGB ICC profile whose description (UTF-16 in an `mluc` tag) reads `text`."""
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    old = "sRGB built-in".encode("utf-16-be")
    assert old in profile and len(text) <= 13
    return profile.replace(old, text.ljust(13).encode("utf-16-be"))


def _xmp(text: str) -> bytes:
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description xmlns:vcard="http://www.w3.org/2006/vcard/ns#" vcard:tel="{text}"/>'
        "</rdf:RDF></x:xmpmeta>"
    ).encode()


def _save(image: Image.Image, kind: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, kind, **params)
    return out.getvalue()


def tagged_images(secret: str = PHONE) -> dict[str, bytes]:
    """Images carrying `secret` in one kind of metadata each (name -> bytes): JPEG COM, EXIF, GPS,
    XMP and ICC; a GIF comment extension; PNG tEXt, iTXt, zTXt, eXIf and iCCP; WebP EXIF, XMP, ICC."""
    rgb = Image.new("RGB", (64, 48), (20, 120, 200))
    rgba = Image.new("RGBA", (64, 48), (20, 120, 200, 128))
    exif = rgb.getexif()
    exif[0x010E] = f"tel {secret}"  # ImageDescription
    gps = Image.Exif()
    gps.get_ifd(0x8825)[0x001B] = f"ASCII\0\0\0tel {secret}".encode()  # GPSProcessingMethod
    gps.get_ifd(0x8825)[0x0001] = "N"
    text = PngImagePlugin.PngInfo()
    text.add_text("Phone", secret)
    itxt = PngImagePlugin.PngInfo()
    itxt.add_itxt("Phone", secret, lang="nl", tkey="Telefoon")
    ztxt = PngImagePlugin.PngInfo()
    ztxt.add_text("Phone", secret * 4, zip=True)
    icc = _icc_with_text(secret)
    gif = Image.new("P", (64, 48))
    return {
        "jpeg-comment": _save(rgb, "JPEG", comment=f"tel {secret}".encode()),
        "jpeg-exif": _save(rgb, "JPEG", exif=exif),
        "jpeg-gps": _save(rgb, "JPEG", exif=gps),
        "jpeg-xmp": _save(rgb, "JPEG", xmp=_xmp(secret)),
        "jpeg-icc": _save(rgb, "JPEG", icc_profile=icc),
        "gif-comment": _save(gif, "GIF", comment=f"tel {secret}".encode()),
        "png-text": _save(rgb, "PNG", pnginfo=text),
        "png-itxt": _save(rgba, "PNG", pnginfo=itxt),
        "png-ztxt": _save(rgb, "PNG", pnginfo=ztxt),
        "png-exif": _save(rgba, "PNG", exif=exif),
        "png-icc": _save(rgba, "PNG", icc_profile=icc),
        "webp-exif": _save(rgb, "WEBP", exif=exif),
        "webp-xmp": _save(rgb, "WEBP", xmp=_xmp(secret)),
        "webp-icc": _save(rgba, "WEBP", icc_profile=icc),
    }


def reveals(data: bytes, secret: str = PHONE) -> bool:
    """Whether image bytes carry `secret`: in the raw bytes (ASCII or UTF-16), or in any metadata
    Pillow decodes (compressed PNG text, ICC profiles, EXIF and its GPS block, XMP, comments)."""
    spellings = [secret.encode(), secret.encode("utf-16-be"), secret.encode("utf-16-le")]
    if any(s in data for s in spellings):
        return True
    image = Image.open(io.BytesIO(data))
    image.load()
    found: list[bytes] = []
    for value in image.info.values():
        found.append(value if isinstance(value, bytes) else str(value).encode())
    exif = image.getexif()
    for ifd in (exif, exif.get_ifd(0x8825), exif.get_ifd(0x8769)):
        found += [v if isinstance(v, bytes) else str(v).encode() for v in ifd.values()]
    icc = image.info.get("icc_profile")
    if icc:
        found.append(ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc))).encode())
    return any(s in blob for blob in found for s in spellings)

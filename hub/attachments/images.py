"""What a photo's bytes say: its type, size, when it was taken; its thumbnail.

The type is read from the bytes (a PDF named `.jpg` is no photo), the whole image is
decoded once so a truncated file is refused, and an image whose pixel count would take
more memory than a phone's photo ever needs (a decompression bomb) is refused before it
is decoded.
"""

from __future__ import annotations

import io
import threading
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import IO

from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

MAX_BYTES = 10 * 1024 * 1024
"""The largest photo accepted: 10 MB."""
MAX_PIXELS = 60_000_000
"""More pixels than any phone camera takes (a 200 MP sensor bins to 50 MP): a bomb."""
THUMBNAIL_PX = 320
TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
"""The formats accepted, by Pillow's name, and their media types."""
_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 0x9003
_OFFSET_ORIGINAL = 0x9011
_DATETIME = 0x0132


class NotAPhoto(ValueError):
    """The bytes are not a JPEG, PNG or WebP photo that can be shown (the reason says why)."""


@dataclass(frozen=True)
class Facts:
    """What was read from a photo."""

    content_type: str
    width: int
    height: int
    taken_at: datetime | None


def _taken_at(image: Image.Image, zone: tzinfo | None) -> datetime | None:
    """The EXIF time the photo was taken: its own offset if it has one, else the site's."""
    exif = image.getexif()
    inner = exif.get_ifd(_EXIF_IFD)
    raw = inner.get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
    if not isinstance(raw, str):
        return None
    try:
        local = datetime.strptime(raw.strip("\x00 "), "%Y:%m:%d %H:%M:%S")  # noqa: DTZ007
    except ValueError:
        return None
    offset = inner.get(_OFFSET_ORIGINAL)
    if isinstance(offset, str) and len(offset) >= 6 and offset[0] in "+-":
        try:
            hours, minutes = int(offset[1:3]), int(offset[4:6])
        except ValueError:
            hours = minutes = 0
        sign = -1 if offset[0] == "-" else 1
        tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
        return local.replace(tzinfo=tz).astimezone(UTC)
    if zone is None:
        return None
    return local.replace(tzinfo=zone).astimezone(UTC)


_STRICT = threading.Lock()


def _load_whole(image: Image.Image) -> None:
    """Decode every pixel, so a truncated file fails here and not when it is shown.

    Pillow's leniency is one flag for the whole process, and a library may set it (the PDF
    renderer does, for its own images): it is held off while a photo is checked.
    """
    with _STRICT:
        lenient = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            image.load()
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = lenient


def read(source: Path | IO[bytes], *, zone: tzinfo | None = None) -> Facts:
    """Check that `source` is a whole JPEG, PNG or WebP photo and read its facts."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source) as image:
                kind = image.format or ""
                if kind not in TYPES:
                    raise NotAPhoto(f"not a JPEG, PNG or WebP photo ({kind or 'unknown'})")
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise NotAPhoto(f"{width}×{height} pixels is more than any photo needs")
                _load_whole(image)
                taken = _taken_at(image, zone)
    except NotAPhoto:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise NotAPhoto("too many pixels: refused as a decompression bomb") from exc
    except UnidentifiedImageError as exc:
        raise NotAPhoto("not a JPEG, PNG or WebP photo") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise NotAPhoto(f"the image cannot be read whole: {exc}") from exc
    return Facts(TYPES[kind], width, height, taken)


def thumbnail(source: Path) -> bytes:
    """A JPEG at most 320 px on its longer side, turned upright as the camera's EXIF says."""
    with Image.open(source) as image:
        upright = ImageOps.exif_transpose(image)
        upright.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
        if upright.mode not in ("RGB", "L"):
            upright = upright.convert("RGB")
        out = io.BytesIO()
        upright.save(out, "JPEG", quality=80)
        return out.getvalue()

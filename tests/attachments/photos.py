"""Photos made in tests: a phone's JPEG with EXIF, PNG, WebP, and the uploads to refuse."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

ORIENTATION = 0x0112
DATETIME_ORIGINAL = 0x9003
OFFSET_ORIGINAL = 0x9011


def jpeg(
    width: int = 400,
    height: int = 200,
    *,
    orientation: int | None = None,
    taken: str | None = None,
    offset: str | None = None,
    color: tuple[int, int, int] = (200, 40, 40),
) -> bytes:
    """A JPEG as a phone writes it: the sensor's landscape pixels, EXIF saying how to turn them."""
    image = Image.new("RGB", (width, height), color)
    image.paste((20, 20, 220), (0, 0, width // 4, height))  # a mark on the sensor's left
    exif = Image.Exif()
    if orientation is not None:
        exif[ORIENTATION] = orientation
    if taken is not None:
        inner = exif.get_ifd(0x8769)
        inner[DATETIME_ORIGINAL] = taken
        if offset is not None:
            inner[OFFSET_ORIGINAL] = offset
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), quality=90)
    return out.getvalue()


def png(width: int = 64, height: int = 48) -> bytes:
    """A small PNG."""
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (0, 128, 0, 255)).save(out, "PNG")
    return out.getvalue()


def webp(width: int = 64, height: int = 48) -> bytes:
    """A small WebP."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), (0, 0, 128)).save(out, "WEBP")
    return out.getvalue()


def pdf() -> bytes:
    """A PDF: what a phone might send named `photo.jpg`."""
    return b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def bomb(side: int = 100_000) -> bytes:
    """A PNG of a few hundred bytes that claims side × side pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def big(size: int) -> bytes:
    """A JPEG padded past `size` bytes with a comment-free tail: still starts as a photo."""
    head = jpeg()
    return head + b"\x00" * (size - len(head))

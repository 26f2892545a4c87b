"""A summary on paper: its HTML as a PDF (WeasyPrint; CJK from Debian's fonts-noto-cjk or
fonts-wqy-zenhei, installed by scripts/bootstrap and the image)."""

from __future__ import annotations

import logging


def pdf(html: str) -> bytes:
    """The PDF of a summary page (A4, page numbers from its `@page` style)."""
    import weasyprint  # type: ignore[import-untyped]  # its first import loads pango; only printing needs it

    logging.getLogger("fontTools").setLevel(logging.WARNING)
    return bytes(weasyprint.HTML(string=html).write_pdf())

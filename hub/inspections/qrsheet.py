"""A route's QR sheet: one code per checkpoint with its name, printed for the walls.

Each code carries the URL of the checkpoint's entry form (`/patrol/checkpoints/{id}`);
scanning it with a phone opens the form, which records that the checkpoint was scanned.
The PDF is drawn offline: segno makes the codes, reportlab the page, and the Chinese names
use the PDF reader's standard Song face (STSong-Light), so no font is embedded.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from hub.registry.places import place_text

FONT = "STSong-Light"
COLUMNS, ROWS = 2, 3
CELL_W, CELL_H = 90 * mm, 88 * mm
CODE = 55 * mm


@dataclass(frozen=True)
class Label:
    """One checkpoint's code: what it opens and the words printed under it."""

    url: str
    title: str
    subtitle: str


def labels_for(base: str, checkpoints: Sequence[tuple[int, str | None, str | None]]) -> list[Label]:
    """The labels of a route's checkpoints `(id, location path, device id)`, numbered in
    walking order, their codes opening `{base}/patrol/checkpoints/{id}`."""
    labels = []
    for n, (checkpoint_id, path, device_id) in enumerate(checkpoints, start=1):
        zh, en = place_text(path)
        where = zh or device_id or path or ""
        labels.append(
            Label(
                url=f"{base.rstrip('/')}/patrol/checkpoints/{checkpoint_id}",
                title=f"{n}. {where}",
                subtitle=" · ".join(x for x in (en, device_id or "") if x),
            )
        )
    return labels


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _code(canvas: Canvas, url: str, x: float, y: float) -> None:
    """Draw the QR code of `url` as squares, its lower left corner at (x, y)."""
    matrix = segno.make(url, error="m").matrix
    size = len(matrix)
    module = CODE / size
    for row, line in enumerate(matrix):
        for col, dark in enumerate(line):
            if dark:
                top = y + CODE - (row + 1) * module
                canvas.rect(x + col * module, top, module, module, stroke=0, fill=1)


def sheet(route: str, labels: Sequence[Label]) -> bytes:
    """The PDF of a route's codes, six to an A4 page, each with its name."""
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, invariant=True)
    canvas.setTitle(route)
    font = _font()
    width, height = A4
    left = (width - COLUMNS * CELL_W) / 2
    for n, label in enumerate(labels):
        slot = n % (COLUMNS * ROWS)
        if n and slot == 0:
            canvas.showPage()
        if slot == 0:
            canvas.setFont(font, 14)
            canvas.drawString(left, height - 16 * mm, route)
        col, row = slot % COLUMNS, slot // COLUMNS
        x = left + col * CELL_W
        y = height - 22 * mm - (row + 1) * CELL_H
        canvas.rect(x + 2 * mm, y + 2 * mm, CELL_W - 4 * mm, CELL_H - 4 * mm, stroke=1, fill=0)
        _code(canvas, label.url, x + (CELL_W - CODE) / 2, y + 24 * mm)
        canvas.setFont(font, 13)
        canvas.drawCentredString(x + CELL_W / 2, y + 15 * mm, label.title[:30])
        canvas.setFont(font, 9)
        canvas.drawCentredString(x + CELL_W / 2, y + 8 * mm, label.subtitle[:60])
    if not labels:
        canvas.setFont(font, 14)
        canvas.drawString(left, height - 16 * mm, route)
    canvas.showPage()
    canvas.save()
    return out.getvalue()

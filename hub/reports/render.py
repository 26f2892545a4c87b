"""A report's JSON document rendered as CSV (UTF-8 with BOM) or XLSX (openpyxl).

CSV carries the report's main table, so it reads straight into a spreadsheet or a script;
the BOM makes Excel read the Chinese headers as UTF-8. XLSX carries a summary sheet and
every table on a sheet of its own: a bold, filled, frozen header, column widths, local
times as real dates, and a native chart of the table's figures.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from hub.codes import words
from hub.localtime import shown
from hub.registry.places import place_text
from hub.reports.enums import Lang
from hub.reports.tables import ChartKind, Column, Kind, Layout

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHART_ROWS = 50
"""Rows a chart shows at most (the first ones: tables are sorted by what matters most)."""

TOTALS: dict[str, tuple[str, str]] = {
    "complaints": ("投诉件数", "Complaints"),
    "parts_to_reorder": ("待订购备件", "Parts to reorder"),
    "previous": ("上期", "Previous period"),
    "change": ("增减", "Change"),
    "hot_items": ("热点数", "Hot items"),
    "answered": ("已统一答复", "Answered"),
    "items": ("未完成", "Unfinished"),
    "orders": ("工单", "Orders"),
    "lights": ("灯具", "Lights"),
    "on_hold": ("挂起", "On hold"),
    "breached": ("超时", "Breached"),
    "new_in_period": ("本期新增", "New in period"),
    "deadlines": ("时限数", "Deadlines"),
    "met": ("按时", "Met"),
    "pending": ("进行中", "Pending"),
    "met_rate": ("达成率", "Met rate"),
    "median_minutes": ("中位用时(分)", "Median (min)"),
    "p90_minutes": ("P90用时(分)", "P90 (min)"),
    "issues": ("问题数", "Issues"),
    "sensor_first": ("传感器先知", "Sensor first"),
    "complaint_first": ("投诉先知", "Complaint first"),
    "ratio": ("主动发现率", "Sensor-first ratio"),
    "median_lead_minutes": ("中位提前(分)", "Median lead (min)"),
    "callbacks_due": ("应回访", "Callbacks due"),
    "callbacks_within_2h": ("2小时内回访", "Callbacks within 2 h"),
    "callback_rate": ("回访及时率", "Callback rate"),
    "callback_rule_met": ("100%回访达成", "100 % rule met"),
    "satisfaction_scored": ("满意度评分数", "Satisfaction scores"),
    "satisfaction_mean": ("平均满意度(1-5)", "Mean satisfaction (1-5)"),
}
META: dict[str, tuple[str, str]] = {
    "report": ("报表", "Report"),
    "site": ("项目", "Site"),
    "since": ("起", "From"),
    "until": ("止", "Until"),
    "generated_at": ("生成时间", "Generated"),
}
TIME_FORMAT = "yyyy-mm-dd hh:mm"
_HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_THIN = Side(style="thin", color="999999")


def _label(pair: tuple[str, str], lang: Lang) -> str:
    return pair[0] if lang == Lang.zh else pair[1]


def _yes_no(value: bool, lang: Lang) -> str:
    if lang == Lang.zh:
        return "是" if value else "否"
    return "yes" if value else "no"


def _instant(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    return None


def coded(column: Column, value: Any, row: dict[str, Any], lang: Lang) -> Any:
    """A cell holding a code, as the words of `lang` (`hub.codes`); other cells as they are."""
    if column.key == "title" and lang == Lang.en and row.get("title_en"):
        return row["title_en"]  # the hub's own title of a sensor's order, in English
    if not column.codes or not isinstance(value, str):
        return value
    kind = column.codes
    if kind == "hot":
        kind = {"device_kind": "kind", "location": "place"}.get(str(row.get("dimension")), "")
        kind = kind or str(row.get("dimension") or "")
    if kind == "place":
        zh, en = place_text(value)
        return (zh if lang == Lang.zh else en) or value
    if kind == "cause":
        who, _, party = value.partition(":")
        said = words("responsibility", who, lang.value)
        return f"{said} ({words('party', party, lang.value)})" if party else said
    return words(kind, value, lang.value)


def _text(column: Column, value: Any, lang: Lang, zone: tzinfo, row: dict[str, Any]) -> str:
    """A cell as CSV text: local times with their offset, yes/no and codes in the language."""
    value = coded(column, value, row, lang)
    if value is None:
        return ""
    if column.kind == Kind.time and (at := _instant(value)) is not None:
        return shown(at, zone)
    if isinstance(value, bool):
        return _yes_no(value, lang)
    return str(value)


def to_csv(document: dict[str, Any], layout: Layout, *, lang: Lang, zone: tzinfo) -> bytes:
    """The report's main table as CSV, UTF-8 with a BOM."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.header(lang) for c in layout.columns])
    for row in document["sections"].get(layout.key, []):
        writer.writerow([_text(c, row.get(c.key), lang, zone, row) for c in layout.columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _cell(column: Column, value: Any, lang: Lang, zone: tzinfo, row: dict[str, Any]) -> Any:
    """A cell as XLSX holds it: local naive datetimes (Excel has no zones), numbers as such,
    codes as words."""
    value = coded(column, value, row, lang)
    if value is None:
        return None
    if column.kind == Kind.time and (at := _instant(value)) is not None:
        return at.astimezone(zone).replace(tzinfo=None)
    if isinstance(value, bool):
        return _yes_no(value, lang)
    return value


_FORMATS = {Kind.percent: "0.0%", Kind.float: "0.0", Kind.int: "0", Kind.time: TIME_FORMAT}


def _header(sheet: Any, titles: Sequence[str], widths: Sequence[int]) -> None:
    for index, (title, width) in enumerate(zip(titles, widths, strict=True), 1):
        cell = sheet.cell(row=1, column=index, value=title)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.border = Border(bottom=_THIN, top=_THIN, left=_THIN, right=_THIN)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        # CJK characters take two columns' width.
        wide = sum(2 if ord(ch) > 0x2E80 else 1 for ch in title) + 2
        sheet.column_dimensions[get_column_letter(index)].width = max(width, wide)
    sheet.freeze_panes = "A2"
    sheet.row_dimensions[1].height = 22


def _chart(sheet: Any, layout: Layout, rows: int, lang: Lang) -> None:
    spec = layout.chart
    if spec is None or rows == 0:
        return
    keys = [c.key for c in layout.columns]
    shown_rows = min(rows, CHART_ROWS)
    chart = BarChart() if spec.kind == ChartKind.bar else LineChart()
    chart.title = spec.title(lang)
    chart.height, chart.width = 9, 18
    for key in spec.values:
        col = keys.index(key) + 1
        data = Reference(sheet, min_col=col, min_row=1, max_row=shown_rows + 1)
        chart.add_data(data, titles_from_data=True)
    label = keys.index(spec.label) + 1
    chart.set_categories(Reference(sheet, min_col=label, min_row=2, max_row=shown_rows + 1))
    sheet.add_chart(chart, f"{get_column_letter(len(keys) + 2)}2")


def _summary(book: Workbook, document: dict[str, Any], lang: Lang, zone: tzinfo) -> None:
    sheet = book.active
    sheet.title = "概要" if lang == Lang.zh else "Summary"
    _header(
        sheet,
        ["项目" if lang == Lang.zh else "Item", "值" if lang == Lang.zh else "Value"],
        [22, 34],
    )
    row = 2
    for key, pair in META.items():
        value: Any = document[key]
        if key in ("since", "until", "generated_at"):
            value = shown(datetime.fromisoformat(value), zone)
        sheet.cell(row=row, column=1, value=_label(pair, lang))
        sheet.cell(row=row, column=2, value=value)
        row += 1
    for key, value in document["totals"].items():
        sheet.cell(row=row, column=1, value=_label(TOTALS.get(key, (key, key)), lang))
        cell = sheet.cell(
            row=row, column=2, value=_yes_no(value, lang) if isinstance(value, bool) else value
        )
        if key.endswith(("rate", "ratio")):
            cell.number_format = "0.0%"
        row += 1


def to_xlsx(
    document: dict[str, Any], layouts: Sequence[Layout], *, lang: Lang, zone: tzinfo
) -> bytes:
    """The whole report as a workbook: the summary, then one sheet with a chart per table."""
    book = Workbook()
    _summary(book, document, lang, zone)
    for layout in layouts:
        sheet = book.create_sheet(layout.title(lang)[:31])
        _header(sheet, [c.header(lang) for c in layout.columns], [c.width for c in layout.columns])
        rows = document["sections"].get(layout.key, [])
        for r, row in enumerate(rows, 2):
            for c, column in enumerate(layout.columns, 1):
                cell = sheet.cell(
                    row=r, column=c, value=_cell(column, row.get(column.key), lang, zone, row)
                )
                if column.kind in _FORMATS:
                    cell.number_format = _FORMATS[column.kind]
        if rows:
            sheet.auto_filter.ref = f"A1:{get_column_letter(len(layout.columns))}{len(rows) + 1}"
        _chart(sheet, layout, len(rows), lang)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

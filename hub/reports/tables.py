"""A report as tables: columns with their zh/en headers and kind, rows, a chart per table.

Every report is built into this shape once; JSON, CSV and XLSX are renderings of it, and a
stored run keeps its JSON, from which the other two are rendered again on download.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Float, cast, func
from sqlalchemy.sql.elements import ColumnElement

from hub.reports.enums import Lang


class Kind(StrEnum):
    """What a column holds, which decides its cell format."""

    text = "text"
    int = "int"
    float = "float"
    percent = "percent"
    """A share 0..1, shown as a percentage."""
    time = "time"
    """A UTC instant, shown in local time."""


@dataclass(frozen=True)
class Column:
    """One column: its key in the JSON rows, its headers, kind and width in characters."""

    key: str
    zh: str
    en: str
    kind: Kind = Kind.text
    width: int = 12
    codes: str = ""
    """The kind of code its cells hold (`status`, `department`, …): a file says the words
    of its language (`hub.codes`); `hot` is a hot item, read by its row's dimension."""

    def header(self, lang: Lang) -> str:
        """The header in `lang`."""
        return self.zh if lang == Lang.zh else self.en


class ChartKind(StrEnum):
    """The native chart drawn under a sheet."""

    bar = "bar"
    line = "line"


@dataclass(frozen=True)
class Chart:
    """A chart of some numeric columns against a label column."""

    kind: ChartKind
    label: str
    values: tuple[str, ...]
    zh: str
    en: str

    def title(self, lang: Lang) -> str:
        """The chart's title in `lang`."""
        return self.zh if lang == Lang.zh else self.en


@dataclass(frozen=True)
class Layout:
    """A table as the report defines it, without rows."""

    key: str
    zh: str
    en: str
    columns: tuple[Column, ...]
    chart: Chart | None = None

    def title(self, lang: Lang) -> str:
        """The sheet's name in `lang`."""
        return self.zh if lang == Lang.zh else self.en


@dataclass
class Report:
    """A built report: what, where, when, its totals and its tables' rows."""

    name: str
    site: str
    since: datetime
    until: datetime
    generated_at: datetime
    totals: dict[str, Any]
    sections: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def document(self) -> dict[str, Any]:
        """The JSON document (times as ISO-8601 UTC), as answered and as stored."""
        return {
            "report": self.name,
            "site": self.site,
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "generated_at": self.generated_at.isoformat(),
            "totals": _plain(self.totals),
            "sections": {key: [_plain(row) for row in rows] for key, rows in self.sections.items()},
        }


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}


def percentile(values: list[float], pct: float, *, ordered: bool = False) -> float | None:
    """The `pct` percentile by linear interpolation between closest ranks (None if empty);
    `ordered` says `values` are sorted already."""
    if not values:
        return None
    ranked = values if ordered else sorted(values)
    rank = (len(ranked) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ranked) - 1)
    return ranked[low] + (ranked[high] - ranked[low]) * (rank - low)


def share(part: int, whole: int) -> float | None:
    """`part / whole` to three places, or None when there is no whole."""
    return round(part / whole, 3) if whole else None


def seconds_between(dialect: str, later: Any, earlier: Any) -> ColumnElement[Any]:
    """`later - earlier` in seconds as the database computes it (SQLite: to ~1 ms)."""
    if dialect == "postgresql":
        return cast(func.extract("epoch", later - earlier), Float)
    return cast((func.julianday(later) - func.julianday(earlier)) * 86400.0, Float)

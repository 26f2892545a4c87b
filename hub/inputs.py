"""What both databases can store, checked where input arrives.

PostgreSQL refuses NUL in text and integers past a column's range where SQLite shrugs;
text with a lone surrogate cannot even be encoded for either. Every request body derives
from `Input`, whose check names the offending field, so such input is a 422, never a 500.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

INT32_MAX = 2**31 - 1
"""The largest value of an INTEGER column (ids, amounts, counts) on PostgreSQL."""
INT64_MAX = 2**63 - 1

Id = Annotated[int, Field(ge=1, le=INT32_MAX)]
"""A row id as a request names it."""
Amount = Annotated[int, Field(ge=0, le=INT32_MAX)]
"""A count or an amount kept in an INTEGER column."""


EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
"""The earliest time the hub takes from a person or a device."""
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
"""The latest: far enough for any deadline, far from the end of `datetime` (year 9999),
where a shift to UTC or a day added overflows."""


class TimeOutOfRange(ValueError):
    """A well-formed time outside `EARLIEST`..`LATEST` (in UTC)."""


def parse_time(text: str) -> datetime:
    """The one parser of a time someone sends: ISO-8601 text with its offset, in UTC.

    Bounded: the instant lies within `EARLIEST`..`LATEST`, so `9999-12-31T23:59:59-14:00`
    (year 10000 in UTC) or `0001-01-01T00:00:00+14:00` (year 0) is a `TimeOutOfRange`, as
    is any time the databases or the hub's arithmetic could not take. Anything else wrong
    is a `ValueError`; nothing else is raised, whatever `text` is.
    """
    if len(text) > 64:
        raise ValueError("expected ISO-8601 with an offset, e.g. 2026-12-01T14:00:00+08:00")
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(
            "expected ISO-8601 with an offset, e.g. 2026-12-01T14:00:00+08:00"
        ) from exc
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError("the time needs its UTC offset, e.g. +08:00")
    try:
        moment = parsed.astimezone(UTC)
    except OverflowError as exc:
        raise TimeOutOfRange(_RANGE) from exc
    if not EARLIEST <= moment <= LATEST:
        raise TimeOutOfRange(_RANGE)
    return moment


_RANGE = f"the time must lie between {EARLIEST.year} and {LATEST.year} (in UTC)"


def _iso_with_offset(value: object) -> object:
    """A time is ISO-8601 text with its offset (`parse_time`); `0.5` or `1700000000` is
    refused, and so is a `datetime` out of range."""
    if isinstance(value, str):
        return parse_time(value)
    if isinstance(value, datetime):
        return parse_time(value.isoformat())
    return value


When = Annotated[datetime, BeforeValidator(_iso_with_offset)]
"""A moment given as text (`since`, `until`, `observed_at`): ISO-8601 with its offset,
within `EARLIEST`..`LATEST` (`parse_time`); pydantic then refuses anything but a time."""


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable(text: str) -> str | None:
    """Why `text` cannot be stored (NUL, a lone surrogate), or None when it can."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    char = found.group()
    what = "NUL" if char == "\x00" else f"a lone surrogate U+{ord(char):04X}"
    return f"text contains {what} at position {found.start()}, which cannot be stored"


def check_storable(value: Any) -> None:
    """Raise ValueError if any text or integer in `value` (nested too) cannot be stored."""
    if isinstance(value, str):
        if (why := unstorable(value)) is not None:
            raise ValueError(why)
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if not -INT64_MAX - 1 <= value <= INT64_MAX:
            raise ValueError("integer out of range")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            check_storable(key)
            check_storable(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            check_storable(item)


class Input(BaseModel):
    """Base of every request body: unknown fields refused, text storable, then trimmed.

    Text is trimmed after its length is checked, so a limit means what the OpenAPI
    document says of the text as sent.
    """

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        check_storable(value)
        return value.strip() if type(value) is str else value  # enums are str too: kept

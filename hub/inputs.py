"""What both databases can store, checked where input arrives.

PostgreSQL refuses NUL in text and integers past a column's range where SQLite shrugs;
text with a lone surrogate cannot even be encoded for either. Every request body derives
from `Input`, whose check names the offending field, so such input is a 422, never a 500.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

INT32_MAX = 2**31 - 1
"""The largest value of an INTEGER column (ids, amounts, counts) on PostgreSQL."""
INT64_MAX = 2**63 - 1

Id = Annotated[int, Field(ge=1, le=INT32_MAX)]
"""A row id as a request names it."""
Amount = Annotated[int, Field(ge=0, le=INT32_MAX)]
"""A count or an amount kept in an INTEGER column."""


def _iso_with_offset(value: object) -> object:
    """A time is ISO-8601 text with its offset; `0.5` or `1700000000` is refused."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValueError(
                "expected ISO-8601 with an offset, e.g. 2026-12-01T14:00:00+08:00"
            ) from exc
        if parsed.tzinfo is None:
            raise ValueError("the time needs its UTC offset, e.g. +08:00")
        return parsed
    return value


When = Annotated[datetime, BeforeValidator(_iso_with_offset)]
"""A moment given as text (`since`, `until`, `observed_at`): ISO-8601 with its offset."""


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

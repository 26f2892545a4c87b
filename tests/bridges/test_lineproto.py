"""Line protocol as the sink writes it: any tag text or number gives one well-formed point
that reads back as the (cleaned) value, never a broken or an extra line."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from bridges.lineproto import _CONTROL, line, number


def _split(text: str, separators: str) -> list[str]:
    """Split on separators not escaped by a backslash; keep the escapes."""
    parts, current, escaped = [], "", False
    for char in text:
        if escaped:
            current += "\\" + char
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in separators:
            parts.append(current)
            current = ""
        else:
            current += char
    assert not escaped, "a line ending in a lone backslash"
    return [*parts, current]


def _unescape(text: str) -> str:
    out, escaped = "", False
    for char in text:
        if escaped:
            out += char
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            out += char
    return out


def _parse(point: str) -> tuple[str, dict[str, str], dict[str, str], int]:
    """A point's measurement, tags, fields and timestamp, as an InfluxDB parser reads them."""
    assert "\n" not in point
    head, fields, ts = _split(point, " ")
    measurement, *pairs = _split(head, ",")
    tags = {}
    for pair in pairs:
        key, value = _split(pair, "=")
        tags[_unescape(key)] = _unescape(value)
    values = dict(_split(f, "=") for f in _split(fields, ","))
    return _unescape(measurement), tags, values, int(ts)


@given(st.text(), st.text())
def test_any_tag_text_reads_back_cleaned(building: str, floor: str) -> None:
    point = line("leak", {"building": building, "floor": floor}, {"battery": "80.0"}, 1234)
    measurement, tags, fields, ts = _parse(point)
    assert (measurement, fields, ts) == ("leak", {"battery": "80.0"}, 1234)
    expected = {
        k: cleaned
        for k, v in (("building", building), ("floor", floor))
        if (cleaned := _CONTROL.sub(" ", v).strip())
    }
    assert tags == expected


@given(st.one_of(st.floats(), st.integers(), st.booleans(), st.text(), st.none()))
def test_a_field_value_is_a_finite_float_or_left_out(value: object) -> None:
    written = number(value)
    if written is None:
        assert isinstance(value, bool | str | type(None)) or not math.isfinite(float(value))  # type: ignore[arg-type]
    else:
        assert math.isfinite(float(written))
        assert float(written) == float(value)  # type: ignore[arg-type]

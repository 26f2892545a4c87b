"""Canonical JSON (RFC 8785, JCS): one byte string for one JSON value, so it can be hashed.

Object members sorted by their names' UTF-16 code units, no insignificant whitespace,
strings escaped as ECMAScript's `JSON.stringify` does, numbers in ECMAScript's shortest
form (`1.0` is `1`, `1e21` is `1e+21`). Input must be I-JSON: no NaN or infinities, no
lone surrogates, integers beyond ±2⁵³ are written as the double they become.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

_SAFE_INT = 2**53
_string = json.JSONEncoder(ensure_ascii=False).encode


def canonical(value: Any) -> bytes:
    """`value` (dicts, lists, str, int, float, bool, None) as RFC 8785 canonical JSON."""
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts).encode("utf-8")


def canonical_text(value: Any) -> str:
    """`canonical(value)` as text."""
    return canonical(value).decode("utf-8")


def _write(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_text(value))
    elif isinstance(value, int):
        out.append(str(value) if -_SAFE_INT <= value <= _SAFE_INT else number(float(value)))
    elif isinstance(value, float):
        out.append(number(value))
    elif isinstance(value, Mapping):
        _object(value, out)
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise TypeError(f"not a JSON value: {type(value).__name__}")


def _object(value: Mapping[Any, Any], out: list[str]) -> None:
    for key in value:
        if not isinstance(key, str):
            raise TypeError(f"object member names must be strings, not {type(key).__name__}")
    out.append("{")
    for i, key in enumerate(sorted(value, key=lambda k: k.encode("utf-16-be", "surrogatepass"))):
        if i:
            out.append(",")
        out.append(_text(key))
        out.append(":")
        _write(value[key], out)
    out.append("}")


def _text(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("a string holds a lone surrogate (not I-JSON)") from exc
    return _string(value)


def number(value: float) -> str:
    """A double as ECMAScript's Number::toString writes it (the form RFC 8785 prescribes)."""
    if math.isnan(value) or math.isinf(value):
        raise ValueError("NaN and infinities are not JSON")
    if value == 0:
        return "0"  # -0 too
    sign = "-" if value < 0 else ""
    digits, n = _digits(repr(abs(value)))
    k = len(digits)
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = f"{digits[:n]}.{digits[n:]}"
    elif -6 < n <= 0:
        body = "0." + "0" * -n + digits
    else:
        exponent = n - 1
        mantissa = digits if k == 1 else f"{digits[0]}.{digits[1:]}"
        body = f"{mantissa}e{'+' if exponent >= 0 else '-'}{abs(exponent)}"
    return sign + body


def _digits(shortest: str) -> tuple[str, int]:
    """The significant digits of a positive float's shortest repr, and n: value = 0.digits × 10ⁿ."""
    mantissa, _, exp = shortest.partition("e")
    whole, _, fraction = mantissa.partition(".")
    raw = whole + fraction
    n = len(whole) + (int(exp) if exp else 0)
    stripped = raw.lstrip("0")
    n -= len(raw) - len(stripped)
    return stripped.rstrip("0"), n

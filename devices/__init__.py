"""Device kinds: one module per kind, each a `KindSpec` value (payload schema, rules, simulator)."""

from __future__ import annotations

from devices import gate, leak, light, restroom
from devices.base import KindSpec

SPECS: dict[str, KindSpec] = {
    spec.kind: spec for spec in (gate.SPEC, light.SPEC, leak.SPEC, restroom.SPEC)
}
"""Every kind's spec by kind name."""

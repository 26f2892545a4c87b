"""What the parts of this process report about themselves: `/readyz` details and `/metrics`.

A part that runs beside the API (the bridge's InfluxDB sink, for one) registers a probe:
a callable returning its state as a flat mapping. `/readyz` shows each probe's report;
`/metrics` writes every number in it as a Prometheus gauge `fhub_{probe}_{name}`, and a
`state` as `fhub_{probe}_up` (1 when it is `ok`). A probe that raises reports its error
rather than taking the endpoint down. The hub's own readiness does not depend on them:
InfluxDB being away is shown, not a reason to stop serving.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any

logger = logging.getLogger(__name__)

Probe = Callable[[], Mapping[str, Any]]

_NAME = re.compile(r"[^a-zA-Z0-9_]")


class Health:
    """The probes of one process."""

    def __init__(self) -> None:
        self._probes: dict[str, Probe] = {}
        self._lock = threading.Lock()

    def register(self, name: str, probe: Probe) -> None:
        """Report `probe` under `name` (replacing one of that name)."""
        with self._lock:
            self._probes[name] = probe

    def unregister(self, name: str) -> None:
        """Stop reporting `name`."""
        with self._lock:
            self._probes.pop(name, None)

    def reports(self) -> dict[str, dict[str, Any]]:
        """Every probe's report, by name."""
        with self._lock:
            probes = dict(self._probes)
        out: dict[str, dict[str, Any]] = {}
        for name, probe in sorted(probes.items()):
            try:
                out[name] = dict(probe())
            except Exception as exc:  # noqa: BLE001 - a failing probe is reported, not raised
                logger.exception("health probe %s failed", name)
                out[name] = {"state": "error", "error": f"{type(exc).__name__}: {exc}"}
        return out

    def metrics(self) -> str:
        """Every numeric value of every report in the Prometheus text format."""
        lines: list[str] = []
        for name, report in self.reports().items():
            probe = _NAME.sub("_", name)
            for key, value in report.items():
                metric = f"fhub_{probe}_{_NAME.sub('_', key)}"
                if key == "state":
                    up = f"fhub_{probe}_up"
                    lines += [f"# TYPE {up} gauge", f"{up} {int(value == 'ok')}"]
                elif isinstance(value, bool):
                    lines += [f"# TYPE {metric} gauge", f"{metric} {int(value)}"]
                elif isinstance(value, int | float) and math.isfinite(value):
                    lines += [f"# TYPE {metric} gauge", f"{metric} {value}"]
        return "\n".join(lines) + "\n"


PROCESS = Health()
"""The probes of this process (the app shows these unless given others)."""

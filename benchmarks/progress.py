"""A progress line on standard error for the long phases of a benchmark run."""

from __future__ import annotations

import sys


class Progress:
    """Draws `name [#####.....] 12,345 msgs` on one line, then the cell's result."""

    width = 30

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()

    def update(self, name: str, fraction: float, count: int) -> None:
        """Redraw the bar of the running phase."""
        if not self.tty:
            return
        filled = int(self.width * max(0.0, min(1.0, fraction)))
        bar = "#" * filled + "." * (self.width - filled)
        sys.stderr.write(f"\r{name:<36} [{bar}] {count:>10,}")
        sys.stderr.flush()

    def done(self, name: str, summary: str) -> None:
        """Finish the phase's line with its result."""
        prefix = "\r" if self.tty else ""
        sys.stderr.write(f"{prefix}{name:<36} {summary:<{self.width + 14}}\n")
        sys.stderr.flush()

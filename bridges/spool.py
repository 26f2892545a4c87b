"""The bridge's last resort: dead letters the database would not take, in a local file.

A message that ingest cannot store is kept as a dead letter; one whose dead letter cannot
be written either (while the database answers otherwise) would hold every message behind
it back, redelivered first after each restart. It goes here instead, one JSON line with
its original bytes, and is acknowledged. The file is bounded: past `max_bytes` a line is
dropped and counted, never written.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import orjson

logger = logging.getLogger(__name__)

SPOOL_FILE = "dead-letters.spool.jsonl"
SPOOL_MAX_BYTES = 16 * 1024 * 1024


class Spool:
    """An append-only file of JSON lines, at most `max_bytes` long."""

    def __init__(self, path: Path, max_bytes: int = SPOOL_MAX_BYTES) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.written = 0
        self.dropped = 0
        self._lock = threading.Lock()

    def put(self, row: dict[str, Any]) -> bool:
        """Append `row` as one line; False (and counted) if the file is full or unwritable."""
        line = orjson.dumps(row, option=orjson.OPT_NON_STR_KEYS) + b"\n"
        with self._lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                size = self.path.stat().st_size if self.path.exists() else 0
                if size + len(line) <= self.max_bytes:
                    with self.path.open("ab") as spool:
                        spool.write(line)
                    self.written += 1
                    return True
                logger.error("dead-letter spool %s is full (%d bytes)", self.path, size)
            except OSError:
                logger.exception("dead-letter spool %s cannot be written", self.path)
            self.dropped += 1
            return False

    def rows(self) -> list[dict[str, Any]]:
        """What the spool holds, oldest first."""
        if not self.path.exists():
            return []
        with self._lock:
            return [orjson.loads(line) for line in self.path.read_bytes().splitlines() if line]

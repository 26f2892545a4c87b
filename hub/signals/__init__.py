"""Signals: every accepted device message, append-only, deduplicated, hash-chained."""

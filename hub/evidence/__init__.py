"""Dispute evidence: timelines, chain verification, signed checkpoints, verifiable export packs."""

"""Retention of raw telemetry: old readings pruned per kind, the evidence chain kept verifiable."""

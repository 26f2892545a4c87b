"""The complaint desk: intake, classification, repeat rule, workflow, replies, escalation."""

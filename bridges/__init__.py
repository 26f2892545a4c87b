"""facility-hub: bridges."""

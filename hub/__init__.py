"""facility-hub: hub."""

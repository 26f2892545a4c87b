"""facility-hub: devices."""

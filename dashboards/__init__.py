"""facility-hub: dashboards."""

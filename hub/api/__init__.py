"""The HTTP API: application factory, dependencies and error responses."""

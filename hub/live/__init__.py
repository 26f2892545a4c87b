"""The live stream: committed changes as events for the web pages (`GET /api/v1/stream`)."""

"""The benchmark suite behind `fhub bench`: hub ingest against the raw MQTT ceiling."""

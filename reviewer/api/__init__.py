"""The HTTP API: a thin shell over the core (upload, queue, report)."""

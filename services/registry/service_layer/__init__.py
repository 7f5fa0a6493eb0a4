"""The registry's use cases: what the entrypoints call."""

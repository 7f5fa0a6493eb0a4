"""Benchmarks: scripts that print their figures; not part of the test run."""

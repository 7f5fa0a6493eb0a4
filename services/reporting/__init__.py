"""Reporting: projections and the reports provinces owe."""

"""Benchmarks: each script prints JSON figures measured against a reference in the same run."""

"""Benchmarks: each script prints JSON figures measured against a reference in the same run;
``python -m benchmarks`` runs them all and prints one table (:mod:`benchmarks.suite`)."""

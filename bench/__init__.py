"""Benchmarks, run on demand: `python -m bench` prints the figures."""

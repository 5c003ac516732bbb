"""Benchmarks and evaluations; their results are recorded in docs/."""

"""Benchmarks: the evaluation protocol, metrics, submissions, reproduction of the paper's tables
and performance benchmarks."""

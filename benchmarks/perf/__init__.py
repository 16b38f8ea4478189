"""Performance and calibration scripts (``python -m benchmarks.perf.NAME``): they time
and probe the library through its public functions; nothing here is imported by it."""

"""Shared code of the benchmarks (not an entry point): simulators and dashboards in their own
processes, the measured cycle, layouts, reports, and the single-piece timings the entry points
(`perf.py`, `push_vs_poll.py`) dispatch to."""

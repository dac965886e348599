"""Benchmarks of the bridge, run by hand: see bench/README.md and bench/RESULTS.md."""

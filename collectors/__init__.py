"""Load tests, benchmarks and the run store."""

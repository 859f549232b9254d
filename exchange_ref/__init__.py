"""PinCEX Perf Lab: the reference exchange under test."""

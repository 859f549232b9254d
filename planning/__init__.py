"""SLO verdicts, regression detection, capacity and cost models."""

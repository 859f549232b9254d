"""The lowest layer: small helpers every package may use (one-line failures, URL masking,
descriptor limits, free ports). It imports nothing else of ours."""

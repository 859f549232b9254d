"""A load test judged: the specification's expected results as verdicts, and the post-test
analysis. Pure: the caller passes what was measured (`LoadTestMeasures`)."""

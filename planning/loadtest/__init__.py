"""A load test judged: the specification's expected results as verdicts, and the post-test
analysis. Pure: the caller passes what was measured (`LoadTestMeasures`).

    verdicts = judge(load_config(), definitions, measures)        # planning.slo.load_config
    analysis = analyse(measures, verdicts, slos, definitions, capacity_config, run=..., ...)

The pieces: `measures` (the input), `verdict` (a verdict, the scaling rules), `verdicts`
(judge: latency, errors, throughput, stable, corruption), `stress`, `spike`, `trend`
(Mann-Kendall), `baseline` (against the pinned run), `bottleneck`, `capacity_check`,
`analysis`.
"""

from planning.loadtest.analysis import Analysis, analyse
from planning.loadtest.baseline import BaselineComparison, RunFigures, compare_with_baseline
from planning.loadtest.capacity_check import CapacityCheck, CapacityCheckError
from planning.loadtest.measures import InvariantCheck, LoadTestMeasures, StageMeasure, WindowSeries
from planning.loadtest.verdict import LoadVerdict, LoadVerdicts
from planning.loadtest.verdicts import judge

__all__ = [
    "Analysis",
    "BaselineComparison",
    "CapacityCheck",
    "CapacityCheckError",
    "InvariantCheck",
    "LoadTestMeasures",
    "LoadVerdict",
    "LoadVerdicts",
    "RunFigures",
    "StageMeasure",
    "WindowSeries",
    "analyse",
    "compare_with_baseline",
    "judge",
]

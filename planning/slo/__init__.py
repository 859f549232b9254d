"""Service-level objectives: the specification's targets as data, and verdicts on measured results.

    config = load_config()                   # config/slo.yaml (or PINCEX_CONFIG_DIR's)
    verdicts = evaluate(config, {"order_processing_p95_ms": 9.3}, profile=None)
    verdicts.overall  # "not_measured": the other target-table SLOs have no figure

The pieces: `model` (metrics, SLOs, sections, verdicts), `config` (slo.yaml read and checked),
`results` (results files), `evaluation` (figures judged, margins). Their public names are all
importable from `planning.slo`.
"""

from planning.slo.config import DEFAULT_CONFIG, default_config_path, load_config, parse_config
from planning.slo.evaluation import evaluate, margin, resolve_results, satisfies
from planning.slo.model import (
    Comparator,
    ConfigError,
    Metric,
    Overall,
    ResultsError,
    Section,
    Slo,
    SloConfig,
    SloError,
    Status,
    Verdict,
    Verdicts,
)
from planning.slo.results import load_results

__all__ = [
    "DEFAULT_CONFIG",
    "Comparator",
    "ConfigError",
    "Metric",
    "Overall",
    "ResultsError",
    "Section",
    "Slo",
    "SloConfig",
    "SloError",
    "Status",
    "Verdict",
    "Verdicts",
    "default_config_path",
    "evaluate",
    "load_config",
    "load_results",
    "margin",
    "parse_config",
    "resolve_results",
    "satisfies",
]

"""Regression detection: the specification's baseline check and change points in run histories.

The names below load on first use (PEP 562), so that importing `planning.regress.check` (the
CLI does at start-up) does not load numpy and scipy for the detector.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from planning.regress.check import CheckResult, ResultsError, check_regression, load_results
    from planning.regress.detect import (
        DEFAULT_SETTINGS,
        Change,
        Detection,
        DetectorSettings,
        Level,
        Outlier,
        Trend,
        detect,
    )
    from planning.regress.directions import DirectionError, direction_of
    from planning.regress.history import HistoryError, RunHistory, parse_histories, read_histories
    from planning.regress.report import analyse, report_json, report_lines

__all__ = [
    "DEFAULT_SETTINGS",
    "Change",
    "CheckResult",
    "Detection",
    "DetectorSettings",
    "DirectionError",
    "HistoryError",
    "Level",
    "Outlier",
    "ResultsError",
    "RunHistory",
    "Trend",
    "analyse",
    "check_regression",
    "detect",
    "direction_of",
    "load_results",
    "parse_histories",
    "read_histories",
    "report_json",
    "report_lines",
]

_MODULES = {
    "check": ("CheckResult", "ResultsError", "check_regression", "load_results"),
    "detect": ("DEFAULT_SETTINGS", "Change", "Detection", "DetectorSettings", "Level", "Outlier",
               "Trend", "detect"),
    "directions": ("DirectionError", "direction_of"),
    "history": ("HistoryError", "RunHistory", "parse_histories", "read_histories"),
    "report": ("analyse", "report_json", "report_lines"),
}  # fmt: skip
_HOME = {name: module for module, names in _MODULES.items() for name in names}


def __getattr__(name: str) -> object:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)

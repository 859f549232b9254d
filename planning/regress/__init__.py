"""Regression detection: the specification's baseline check and change points in run histories."""

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

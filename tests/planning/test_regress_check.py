"""`pincex regress check` and scripts/check-regression.py: the specification's lines and exits."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from pincex.commands.regress import regress
from planning.regress.check import check_regression

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data" / "regress"
SCRIPT = ROOT / "scripts" / "check-regression.py"

BAD_LINES = (
    "Performance regressions detected:\n"
    "  - Order processing P95 latency regression: 40ms -> 47ms\n"
    "  - Throughput regression: 1000.0 -> 849.5 orders/sec\n"
    "  - Database query P95 regression: 5.5ms -> 6.5ms\n"
)
OK_LINES = "No performance regressions detected.\n"


def _check(*args: str):
    return CliRunner().invoke(regress, ["check", *args])


def _files(current: str) -> list[str]:
    return [
        "--baseline-file",
        str(DATA / "baseline.json"),
        "--current-results",
        str(DATA / current),
    ]


def test_regressions_print_the_specification_lines_and_exit_1():
    result = _check(*_files("current_bad.json"))
    assert result.exit_code == 1
    assert result.stdout == BAD_LINES


def test_within_threshold_prints_no_regressions_and_exit_0():
    result = _check(*_files("current_ok.json"))
    assert result.exit_code == 0
    assert result.stdout == OK_LINES


def test_threshold_option_changes_the_decision():
    result = _check(*_files("current_ok.json"), "--threshold", "0.05")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "Performance regressions detected:",
        "  - Order processing P95 latency regression: 40ms -> 45ms",
        "  - Throughput regression: 1000.0 -> 900.0 orders/sec",
        "  - Database query P95 regression: 5.5ms -> 6.0ms",
    ]


def test_missing_key_is_taken_as_zero_with_a_warning_naming_it():
    result = _check(*_files("current_partial.json"))
    # db p95 missing in current -> 0, which is not above the baseline: no regression there
    assert result.exit_code == 0
    assert result.stdout == OK_LINES
    assert "database_query_p95_ms" in result.stderr
    assert result.stderr.startswith("warning:")


def test_json_is_one_object_with_the_same_decision():
    result = _check(*_files("current_bad.json"), "--json")
    assert result.exit_code == 1
    obj = json.loads(result.stdout)
    assert obj["regressed"] is True
    assert obj["exit_code"] == 1
    first = obj["regressions"][0]
    assert first["metric"] == "order_processing_p95_ms"
    assert (first["baseline"], first["current"], first["threshold"]) == (40, 47, 0.15)
    assert first["change_pct"] == pytest.approx(17.5)
    assert [r["metric"] for r in obj["regressions"]] == [
        "order_processing_p95_ms",
        "orders_per_second",
        "database_query_p95_ms",
    ]


def test_values_print_as_python_fstrings_do():
    result = check_regression(
        {"order_processing_p95_ms": 1e-05, "orders_per_second": 3, "database_query_p95_ms": 2.50},
        {"order_processing_p95_ms": 1.0, "orders_per_second": 1, "database_query_p95_ms": 10},
    )
    assert result.lines()[1:] == [
        "  - Order processing P95 latency regression: 1e-05ms -> 1.0ms",
        "  - Throughput regression: 3 -> 1 orders/sec",
        "  - Database query P95 regression: 2.5ms -> 10ms",
    ]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (None, "does not exist"),
        ("{not json", "is not JSON"),
        ("[1, 2]", "is not a JSON object"),
        ('{"orders_per_second": "fast"}', "is not a number"),
        ('{"orders_per_second": null}', "is not a number"),
        ('{"orders_per_second": true}', "is not a number"),
    ],
)
def test_bad_files_are_one_error_line_and_exit_2(tmp_path, content, fragment):
    current = tmp_path / "current.json"
    if content is not None:
        current.write_text(content)
    args = ["--baseline-file", str(DATA / "baseline.json"), "--current-results", str(current)]
    result = _check(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and fragment in lines[0]
    assert "Traceback" not in result.stderr

    script = subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False
    )
    assert script.returncode == 2
    assert script.stderr.strip().splitlines() == lines


@pytest.mark.parametrize(
    ("current", "code", "stdout"),
    [("current_bad.json", 1, BAD_LINES), ("current_ok.json", 0, OK_LINES)],
)
def test_script_keeps_the_specification_interface(current, code, stdout):
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), *_files(current)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == code
    assert proc.stdout == stdout

"""`pincex regress detect` through its click group: JSON shape, table, bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pincex.commands.regress import regress

HISTORY = Path(__file__).resolve().parent / "data" / "regress" / "history.csv"
CHANGE_KEYS = {
    "index",
    "direction",
    "change_pct",
    "interval_pct",
    "before",
    "after",
    "confidence",
    "noise",
    "runs_since",
    "why_not_outlier",
    "moved_with",
}


def _detect(*args: str):
    return CliRunner().invoke(regress, ["detect", *args])


def test_json_is_exactly_one_object_with_series_trends_outliers():
    result = _detect("--input", str(HISTORY), "--json")
    assert result.exit_code == 0, result.output
    obj = json.loads(result.stdout)  # one object, nothing else on stdout
    assert set(obj) >= {"series", "trends", "outliers"}
    latency = obj["series"]["checkout/order_processing_p95_ms"]
    throughput = obj["series"]["checkout/orders_per_second"]
    assert [(c["index"], c["direction"]) for c in latency] == [(20, "regression")]
    assert [(c["index"], c["direction"]) for c in throughput] == [(20, "regression")]
    change = latency[0]
    assert set(change) >= CHANGE_KEYS
    assert set(change["before"]) >= {"median", "spread"}
    lo, hi = change["interval_pct"]
    assert lo <= change["change_pct"] <= hi
    assert change["runs_since"] == 20
    assert change["moved_with"] == ["checkout/orders_per_second"]
    assert obj["series"]["db/database_query_p95_ms"] == []
    assert [o["index"] for o in obj["outliers"]["db/database_query_p95_ms"]] == [15]
    assert obj["trends"]["checkout/order_processing_p95_ms"] == []
    assert obj["not_enough_data"] == ["new/order_processing_p95_ms"]


def test_human_output_is_a_short_table_per_alert():
    result = _detect("--input", str(HISTORY))
    assert result.exit_code == 0
    out = result.stdout
    assert "checkout/order_processing_p95_ms: regression at run 20 (20 runs since)" in out
    assert "db/database_query_p95_ms: outliers at runs 15 (not steps)" in out
    assert "new/order_processing_p95_ms: not enough data yet (5 runs; need 8)" in out


def test_ci_flag_exits_1_on_a_regression():
    assert _detect("--input", str(HISTORY), "--ci").exit_code == 1


def test_overrides_name_the_direction(tmp_path):
    path = tmp_path / "h.csv"
    rows = ["series,metric,value"] + [
        f"s,rss,{100 + (30 if i >= 10 else 0) + i % 2}" for i in range(20)
    ]
    path.write_text("\n".join(rows) + "\n")
    bad = _detect("--input", str(path))
    assert bad.exit_code == 2
    assert bad.stderr.startswith("error:") and "'rss'" in bad.stderr
    good = _detect("--input", str(path), "--json", "--higher-is-worse", "rss")
    assert good.exit_code == 0
    assert [c["index"] for c in json.loads(good.stdout)["series"]["s/rss"]] == [10]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (None, "does not exist"),
        ("", "is empty"),
        ("a,b,c\nx,order_processing_p95_ms,1\n", "header"),
        ("series,metric,value\n", "no runs"),
        ("series,metric,value\nx,order_processing_p95_ms,fast\n", "not a number"),
        ("series,metric,value\nx,order_processing_p95_ms,1,2\n", "expected 3 fields"),
        ("series,metric,value\nx,order_processing_p95_ms,nan\n", "not finite"),
    ],
)
def test_bad_files_are_one_error_line_and_exit_2(tmp_path, content, fragment):
    path = tmp_path / "h.csv"
    if content is not None:
        path.write_text(content)
    result = _detect("--input", str(path), "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and fragment in lines[0]


def test_every_command_has_help():
    for args in (["--help"], ["check", "--help"], ["detect", "--help"]):
        result = CliRunner().invoke(regress, args)
        assert result.exit_code == 0 and "Usage:" in result.output


def test_human_output_matches_the_golden_file():
    golden = HISTORY.with_name("detect_human.txt").read_text()
    result = _detect("--input", str(HISTORY))
    assert result.stdout == golden

"""`pincex bench engine`: deterministic flows, deterministic replay figures, strict input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pincex.cli import cli

HEADER = "op,order_id,side,price,quantity\n"


@pytest.fixture
def run():
    def invoke(*args: str):
        return CliRunner().invoke(cli, ["bench", "engine", *args])

    return invoke


@pytest.fixture
def flow(run, tmp_path: Path) -> Path:
    path = tmp_path / "flow.csv"
    result = run("--generate", "2000", "--seed", "7", "-o", str(path))
    assert result.exit_code == 0, result.output
    return path


def test_generation_is_deterministic(run, flow: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.csv"
    result = run("--generate", "2000", "--seed", "7", "-o", str(again), "--json")
    assert result.exit_code == 0, result.output
    assert again.read_bytes() == flow.read_bytes()
    summary = json.loads(result.stdout)
    assert summary["operations"] == 2000
    assert summary["limits"] + summary["markets"] + summary["cancels"] == 2000
    assert summary["markets"] > 0 and summary["cancels"] > 0
    other = tmp_path / "other.csv"
    assert run("--generate", "2000", "--seed", "8", "-o", str(other)).exit_code == 0
    assert other.read_bytes() != flow.read_bytes()


def test_generated_flow_looks_like_the_format(flow: Path) -> None:
    lines = flow.read_text().splitlines()
    assert lines[0] == HEADER.strip()
    assert len(lines) == 2001
    ops = {line.split(",")[0] for line in lines[1:]}
    assert ops == {"limit", "market", "cancel"}
    first = lines[1].split(",")
    assert first[0] == "limit" and first[2] in ("buy", "sell")
    assert first[3].replace(".", "").isdigit() and len(first[3].partition(".")[2]) <= 2


def test_replay_json_is_complete_and_deterministic(run, flow: Path) -> None:
    first = run("--replay", str(flow), "--json", "--repeat", "1")
    second = run("--replay", str(flow), "--json", "--repeat", "2")
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    a, b = json.loads(first.stdout), json.loads(second.stdout)
    keys = {"operations", "trades", "traded_quantity", "best_bid", "best_ask", "resting_orders"}
    assert keys | {"ops_per_s", "latency_us", "baseline", "speedup", "method"} <= set(a)
    assert set(a["latency_us"]) >= {"p50", "p99", "p999"}
    assert {k: a[k] for k in keys} == {k: b[k] for k in keys}
    assert a["operations"] == 2000
    assert a["trades"] > 0 and a["resting_orders"] > 0
    assert isinstance(a["traded_quantity"], str) and isinstance(a["best_bid"], str)
    assert a["baseline_agrees"] is True
    assert {k: a["baseline"][k] for k in keys} == {k: a[k] for k in keys}
    assert a["ops_per_s"] > 0 and a["baseline"]["ops_per_s"] > 0 and a["speedup"] > 0
    assert len(a["ops_per_s_runs"]) == 1 and len(b["ops_per_s_runs"]) == 2
    assert "perf_counter_ns" in a["method"]


def test_replay_prints_a_human_summary(run, flow: Path) -> None:
    result = run("--replay", str(flow), "--repeat", "1")
    assert result.exit_code == 0, result.output
    assert "2,000 operations" in result.stdout
    assert "speedup" in result.stdout and "baseline agrees: yes" in result.stdout


def test_replay_of_a_hand_written_flow(run, tmp_path: Path) -> None:
    path = tmp_path / "hand.csv"
    path.write_text(
        HEADER
        + "limit,1,sell,50000.01,0.5\n"
        + "limit,2,sell,50000.02,1\n"
        + "limit,3,buy,49999.9,0.25\n"
        + "cancel,3,buy,,\n"
        + "cancel,99,,,\n"
        + "market,4,buy,,0.75\n"
        + "limit,5,sell,49999,0.00001\n"
    )
    result = run("--replay", str(path), "--json", "--repeat", "1")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["operations"] == 7
    assert doc["trades"] == 2
    assert doc["traded_quantity"] == "0.75"
    assert (doc["best_bid"], doc["best_ask"]) == (None, "49999")
    assert doc["resting_orders"] == 2


@pytest.mark.parametrize(
    ("body", "line", "reason"),
    [
        ("op,id,side,price,qty\n", 1, "header must be"),
        ("", 1, "empty file"),
        (HEADER + "limit,1,buy,50000,1\nmodify,2,buy,50000,1\n", 3, "unknown op 'modify'"),
        (HEADER + "limit,1,buy,5000O.5,1\n", 2, "price '5000O.5' is not a decimal number"),
        (
            HEADER + "limit,1,buy,50000,1\nlimit,2,buy,50000.001,1\n",
            3,
            "price '50000.001' is not a multiple of the tick 0.01",
        ),
        (HEADER + "limit,1,buy,50000,0.000001\n", 2, "is not a multiple of the lot 0.00001"),
        (HEADER + "limit,1,buy,50000,-1\n", 2, "quantity '-1' must be positive"),
        (HEADER + "limit,1,buy,0,1\n", 2, "price '0' must be positive"),
        (HEADER + "limit,1,buy,50000\n", 2, "expected 5 fields"),
        (HEADER + "limit,1,buy,,1\n", 2, "price is missing"),
        (HEADER + "market,1,sell,,\n", 2, "quantity is missing"),
        (HEADER + "limit,1.5,buy,50000,1\n", 2, "order_id '1.5' is not"),
        (HEADER + "limit,x,buy,50000,1\n", 2, "order_id 'x' is not"),
        (HEADER + "cancel,-4,,,\n", 2, "order_id '-4' is not"),
        (HEADER + "limit,1,up,50000,1\n", 2, "side 'up' must be buy or sell"),
        (HEADER + "market,1,buy,50000,1\n", 2, "a market order takes no price"),
        (HEADER + "cancel,1,,50000,\n", 2, "a cancel takes no price"),
        (HEADER + "limit,1,buy,50000,1\nlimit,1,sell,50001,1\n", 3, "order_id 1 is used"),
        (HEADER + "limit,1,buy,1e5,1\n", 2, "is not a decimal number"),
    ],
)
def test_malformed_flows_fail_with_one_line_naming_the_row(
    run, tmp_path: Path, body: str, line: int, reason: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(body)
    result = run("--replay", str(path))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith(f"error: {path} line {line}: ")
    assert reason in result.stderr
    assert "Traceback" not in result.output


def test_missing_file_and_bad_usage_fail_with_one_line(run, tmp_path: Path) -> None:
    missing = run("--replay", str(tmp_path / "nope.csv"))
    assert missing.exit_code == 2
    assert missing.stderr == f"error: {tmp_path / 'nope.csv'}: No such file or directory\n"
    for args in ([], ["--generate", "10"], ["--generate", "10", "--replay", "x", "-o", "y"]):
        result = run(*args)
        assert result.exit_code == 2
        assert len(result.stderr.splitlines()) == 1
        assert result.stderr.startswith("error: ")
    headers_only = tmp_path / "empty.csv"
    headers_only.write_text(HEADER)
    result = run("--replay", str(headers_only))
    assert (result.exit_code, result.stderr) == (
        2,
        f"error: {headers_only}: the flow has no operations\n",
    )

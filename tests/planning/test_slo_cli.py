"""`pincex slo check` and `pincex diagnose` via click: exit codes, JSON, golden tables, errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result

from pincex.commands.slo import diagnose, slo

SMALL = Path(__file__).parent / "data" / "slo" / "small.yaml"

Write = Callable[[str], Path]


@pytest.fixture
def write(tmp_path: Path) -> Write:
    """Write text to a fresh file under tmp_path and return its path."""
    counter = iter(range(1000))

    def _write(text: str) -> Path:
        path = tmp_path / f"results-{next(counter)}.json"
        path.write_text(text)
        return path

    return _write


def run_check(*args: str | Path) -> Result:
    return CliRunner().invoke(slo, ["check", *map(str, args)])


def run_diagnose(*args: str | Path) -> Result:
    return CliRunner().invoke(diagnose, list(map(str, args)))


def only_json(result: Result) -> dict[str, Any]:
    """The one JSON object on stdout, checking nothing else is there."""
    assert result.stdout.endswith("\n") and result.stdout.count("\n") == 1, result.stdout
    doc = orjson.loads(result.stdout)
    assert isinstance(doc, dict)
    assert result.stderr == ""
    return doc


def assert_one_line_error(result: Result, starts: str) -> None:
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"error: {starts}"), result.stderr
    assert "Traceback" not in result.stderr
    assert isinstance(result.exception, SystemExit)


GOLDEN = """\
target tables: engine
SLO                          target            observed       margin                   verdict
order_processing_p95_ms      < 10 ms           9.3 ms         +0.7 ms (+7.0%)          met
order_throughput_per_second  > 10000 orders/s  9000 orders/s  -1000 orders/s (-10.0%)  MISSED
trading_engine_cpu_percent   < 70%             70%            0 pp (+0.0%)             MISSED
overall: MISSED (1 met, 2 missed, 0 not measured, 0 informational)
not in this scope, ignored: request_latency_p95_ms
"""


def test_golden_table(write):
    results = write(
        '{"order_processing_p95_ms": 9.3, "orders_per_second": 9000,'
        ' "trading_engine_cpu_percent": 70, "request_latency_p95_ms": 2}'
    )
    result = run_check("--results", results, "--config", SMALL)
    assert result.exit_code == 1
    assert result.stdout == GOLDEN
    assert result.stderr == ""


def test_golden_profile_table(write):
    results = write('{"request_latency_p95_ms": 2, "queue_depth_max": 40}')
    result = run_check("--results", results, "--config", SMALL, "--profile", "baseline")
    assert result.exit_code == 0
    assert result.stdout == (
        "profile: baseline\n"
        "SLO                     target                  observed  margin          verdict\n"
        "request_latency_p95_ms  < 10 ms                 2 ms      +8 ms (+80.0%)  met\n"
        "queue_depth_max         Queue depth manageable  40 count  -               info\n"
        "overall: MET (1 met, 0 missed, 0 not measured, 1 informational)\n"
    )


ALL_MET = (
    '{"order_processing_p95_ms": 1, "orders_per_second": 20000, "trading_engine_cpu_percent": 5}'
)


@pytest.mark.parametrize(
    ("results", "extra", "code", "overall"),
    [
        (ALL_MET, [], 0, "met"),
        ('{"order_processing_p95_ms": 10}', [], 1, "missed"),
        ('{"order_processing_p95_ms": 1}', [], 1, "not_measured"),
        ('{"order_processing_p95_ms": 1}', ["--allow-unmeasured"], 0, "met"),
        ('{"order_processing_p95_ms": 11}', ["--allow-unmeasured"], 1, "missed"),
        ("{}", ["--allow-unmeasured"], 1, "not_measured"),
        ('{"request_latency_p95_ms": 10}', ["--profile", "baseline"], 1, "missed"),
        ("{}", ["--profile", "stress"], 0, "informational"),
    ],
)
def test_exit_codes_and_json(write, results, extra, code, overall):
    result = run_check("--results", write(results), "--config", SMALL, *extra, "--json")
    assert result.exit_code == code
    doc = only_json(result)
    assert doc["overall"] == overall
    assert doc["passed"] is (code == 0)


def test_json_document(write):
    results = write('{"orders_per_second": 9000, "trading_engine_cpu_percent": null}')
    doc = only_json(run_check("--results", results, "--config", SMALL, "--json"))
    assert (doc["scope"], doc["profile"], doc["tables"]) == ("tables", None, ["engine"])
    assert doc["counts"] == {"met": 0, "missed": 1, "not_measured": 2, "informational": 0}
    throughput = doc["verdicts"][1]
    assert throughput == {
        "metric": "order_throughput_per_second",
        "description": "Order Throughput",
        "table": "engine",
        "profile": None,
        "component": "Trading Engine",
        "comparator": ">",
        "target": 10000,
        "unit": "orders/s",
        "spec": "> 10,000 orders/sec",
        "measurement": None,
        "status": "missed",
        "observed": 9000,
        "margin": -1000.0,
        "margin_percent": -10.0,
        "result_key": "orders_per_second",
    }


def test_the_shipped_config_is_the_default(write):
    ci = write(
        '{"order_processing_p95_ms": 8, "orders_per_second": 12000, "database_query_p95_ms": 20}'
    )
    result = run_check("--results", ci, "--json")
    doc = only_json(result)
    assert result.exit_code == 1
    assert doc["counts"] == {"met": 3, "missed": 0, "not_measured": 28, "informational": 0}
    assert run_check("--results", ci, "--allow-unmeasured").exit_code == 0


@pytest.mark.parametrize(
    ("text", "extra", "starts"),
    [
        (None, [], "{results}: no such file"),
        ("{not json", [], "{results}: not valid JSON"),
        (
            "[1, 2]",
            [],
            "{results}: expected a JSON object of metric names to numbers, not an array",
        ),
        (
            '{"order_processing_p95_ms": "fast"}',
            [],
            "{results}: value of 'order_processing_p95_ms'",
        ),
        ('{"p95": 3}', [], "{results}: unknown metric 'p95'"),
        ("{}", ["--profile", "soak"], "unknown profile 'soak'"),
        ("{}", ["--config", "{missing}"], "{missing}: no such file"),
    ],
)
def test_bad_input_is_one_line_on_stderr(write, tmp_path, text, extra, starts):
    results = write(text) if text is not None else tmp_path / "absent.json"
    missing = tmp_path / "absent.yaml"
    extra = [arg.format(missing=missing) for arg in extra]
    for as_json in ([], ["--json"]):
        result = run_check("--results", results, *extra, *as_json)
        assert_one_line_error(result, starts.format(results=results, missing=missing))


def test_a_malformed_config_is_one_line_on_stderr(write, tmp_path):
    config = tmp_path / "slo.yaml"
    config.write_text(SMALL.read_text().replace('comparator: "<", target: 10,', "target: 10,"))
    result = run_check("--results", write("{}"), "--config", config)
    assert_one_line_error(result, f"{config}: tables.engine.slos[0] (order_processing_p95_ms)")
    config.write_text("version: 1\nmetrics: [\n")
    assert_one_line_error(
        run_check("--results", write("{}"), "--config", config), f"{config}: not valid YAML"
    )


def test_missing_results_option():
    assert_one_line_error(run_check(), "missing --results FILE")
    assert_one_line_error(run_diagnose(), "missing --results FILE")


# -- diagnose ---------------------------------------------------------------------------------


def test_diagnose_lists_findings_and_exits_zero(write):
    results = write(
        '{"trading_engine_cpu_percent": 91, "database_query_p95_ms": 50,'
        ' "database_cache_hit_ratio_percent": 99}'
    )
    result = run_diagnose("--results", results)
    assert result.exit_code == 0
    assert result.stdout == (
        "2 findings: 3 rules checked, 18 lacking a figure or target\n"
        "1. High CPU Usage (Trading Engine): CPU Usage 91% breaks the target < 70%,"
        " 30.0% past the threshold\n"
        "   investigate: Check goroutines, GC frequency\n"
        "   resolve:     Optimize algorithms, tune GOGC\n"
        "2. High DB Latency (Database): Query Response Time (P95) 50 ms breaks the target"
        " < 50 ms, at the threshold\n"
        "   investigate: Analyze slow queries, check locks\n"
        "   resolve:     Add indexes, optimize queries\n"
    )


def test_diagnose_json(write):
    results = write('{"database_lock_wait_avg_ms": 25, "request_error_rate_percent": 0.5}')
    doc = only_json(run_diagnose("--results", results, "--json"))
    assert set(doc) == {"findings", "checked", "not_evaluated"}
    assert [f["rule"] for f in doc["findings"]] == ["high_error_rates", "high_lock_wait"]
    assert doc["findings"][1]["figures"] == {"database_lock_wait_avg_ms": 25}
    assert [c["rule"] for c in doc["checked"]] == ["high_lock_wait", "high_error_rates"]
    assert len(doc["not_evaluated"]) == 19
    peak = only_json(run_diagnose("--results", results, "--profile", "peak", "--json"))
    assert [f["rule"] for f in peak["findings"]] == ["high_lock_wait"]


def test_diagnose_without_findings(write):
    result = run_diagnose("--results", write('{"trading_engine_cpu_percent": 10}'))
    assert (result.exit_code, result.stdout) == (
        0,
        "no findings: 1 rule checked, 20 lacking a figure or target\n",
    )


@pytest.mark.parametrize(
    ("text", "extra", "starts"),
    [
        (None, [], "{results}: no such file"),
        ("nope", [], "{results}: not valid JSON"),
        ('{"cpu": 1}', [], "{results}: unknown metric 'cpu'"),
        ('{"trading_engine_cpu_percent": [1]}', [], "{results}: value of"),
        ("{}", ["--profile", "soak"], "unknown profile 'soak'"),
    ],
)
def test_diagnose_bad_input(write, tmp_path, text, extra, starts):
    results = write(text) if text is not None else tmp_path / "absent.json"
    result = run_diagnose("--results", results, *extra)
    assert_one_line_error(result, starts.format(results=results))


def test_help_texts():
    for result in (
        CliRunner().invoke(slo, ["--help"]),
        CliRunner().invoke(slo, ["check", "--help"]),
        run_diagnose("--help"),
    ):
        assert result.exit_code == 0
        assert "Usage:" in result.stdout

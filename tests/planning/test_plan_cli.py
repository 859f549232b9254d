"""`pincex plan capacity|usl|size` via click: golden output, one JSON object, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from pincex.commands.plan import plan
from tests.planning.test_capacity import SCRIPT_LINES_3X

DATA = Path(__file__).resolve().parent / "data" / "plan"
ROOT = Path(__file__).resolve().parents[2]
POD_CURVE = str(DATA / "pod_curve.csv")
BELOW_KNEE = str(DATA / "below_knee.csv")


def run(*args: str):
    return CliRunner().invoke(plan, list(args))


def one_json_object(result) -> dict:
    assert result.stderr == "", result.stderr
    data = json.loads(result.stdout)  # fails on anything but one JSON document
    assert isinstance(data, dict)
    return data


def assert_one_line_error(result, starts: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert result.stdout == ""
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {starts}"), lines[0]


# --- capacity ------------------------------------------------------------------------------------


def test_capacity_prints_the_scripts_lines_then_runway_and_notes():
    result = run("capacity")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[: len(SCRIPT_LINES_3X)] == SCRIPT_LINES_3X
    assert result.stdout == (DATA / "capacity_3x.txt").read_text()


def test_capacity_growth_3_is_the_default():
    assert run("capacity", "--growth", "3").stdout == run("capacity").stdout
    assert run("capacity", "--growth", "3.0", "--months", "12").stdout == run("capacity").stdout


def test_capacity_scenario_golden():
    result = run("capacity", "--scenario", "conservative")
    assert result.exit_code == 0, result.output
    assert result.stdout == (DATA / "capacity_conservative.txt").read_text()


def test_capacity_json_is_one_object_with_notes_and_runway():
    data = one_json_object(run("capacity", "--json"))
    assert data["lines"] == SCRIPT_LINES_3X
    assert data["figures"]["recommended_pods"] == 12
    assert data["figures"]["total_cost"] == 2994.6
    runway = {e["resource"]: e["month"] for e in data["exhaustion"]}
    assert runway == {
        "trading_engine_pods": 2,
        "database_cpu_cores": 1,
        "memory": None,
        "network_bandwidth": None,
    }
    assert len(data["monthly"]) == 13
    assert any("never uses it" in note for note in data["notes"])
    assert any("MonthsAhead" in note for note in data["notes"])
    assert any("11.6 orders/s" in note for note in data["notes"])


def test_capacity_scenario_json_has_targets():
    data = one_json_object(run("capacity", "--scenario", "aggressive", "--json"))
    pods = next(t for t in data["targets"] if t["resource"] == "trading_engine_pods")
    assert pods == {"resource": "trading_engine_pods", "unit": "pods", "computed": 75,
                    "target": 30, "gap": 45}  # fmt: skip
    assert data["growth"]["scenario"] == "aggressive"


def test_capacity_help_states_the_flaws():
    result = run("capacity", "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    for phrase in (
        "projected and never used",
        "MonthsAhead is only printed",
        "11.6 orders/s",
        "memory headroom multiplies the projected usage",
        "$$",
    ):
        assert phrase in text, phrase


def test_capacity_reads_another_config(tmp_path):
    raw = yaml.safe_load((ROOT / "config" / "capacity.yaml").read_text())
    raw["calculate_capacity"]["trading_engine"]["orders_per_pod"] = 2500
    path = tmp_path / "capacity.yaml"
    path.write_text(yaml.safe_dump(raw))
    result = run("capacity", "--config", str(path))
    assert "  Required Pods: 6" in result.stdout.splitlines()


@pytest.mark.parametrize(
    ("args", "starts"),
    [
        (["--growth", "0"], "--growth must be a number above 0"),
        (["--growth", "-2"], "--growth must be a number above 0"),
        (["--growth", "nan"], "--growth must be a number above 0"),
        (["--growth", "abc"], "Invalid value for '--growth'"),
        (["--months", "0"], "Invalid value for '--months'"),
        (["--months", "1.5"], "Invalid value for '--months'"),
        (["--scenario", "moderate"], "unknown scenario 'moderate'"),
        (["--scenario", "conservative", "--growth", "3"], "give --growth or --scenario"),
        (
            ["--scenario", "conservative", "--months", "6"],
            "the conservative scenario is a 12-month",
        ),
        (["--config", "/nonexistent/capacity.yaml"], "/nonexistent/capacity.yaml: no such file"),
        (["--bogus"], "No such option '--bogus'"),
    ],
)
def test_capacity_bad_inputs(args, starts):
    assert_one_line_error(run("capacity", *args), starts)


def test_capacity_malformed_config_names_the_key(tmp_path):
    text = (ROOT / "config" / "capacity.yaml").read_text()
    path = tmp_path / "capacity.yaml"
    path.write_text(text.replace("volume_growth: 3.0x", "volume_growth: lots"))
    assert_one_line_error(
        run("capacity", "--config", str(path)),
        f"{path}: growth_projections.conservative_12_months.volume_growth: expected a multiplier",
    )


# --- usl -----------------------------------------------------------------------------------------


def test_usl_json_is_one_object():
    data = one_json_object(run("usl", "--input", POD_CURVE, "--json"))
    assert data["points"] == 8
    assert data["sigma"] == pytest.approx(0.03, abs=0.003)
    assert data["kappa"] == pytest.approx(0.0005, rel=0.05)
    assert data["lambda"] == pytest.approx(1000, rel=0.02)
    assert data["peak_concurrency"] == pytest.approx((0.97 / 0.0005) ** 0.5, rel=0.02)
    assert data["warnings"] == []
    assert data["intervals"]["level"] == 0.95 and "Wald" in data["intervals"]["method"]
    low, high = data["intervals"]["kappa"]
    assert low < data["kappa"] < high


def test_usl_human_output_warns_below_the_knee():
    result = run("usl", "--input", BELOW_KNEE)
    assert result.exit_code == 0, result.output
    assert "warning: the κ interval includes 0" in result.stdout
    assert "well below the fitted peak" in result.stdout
    data = one_json_object(run("usl", "--input", BELOW_KNEE, "--json"))
    assert len(data["warnings"]) == 2


def test_usl_normalized_method():
    data = one_json_object(run("usl", "--input", POD_CURVE, "--method", "normalized", "--json"))
    assert data["lambda"] == 1010.0 and data["intervals"]["lambda"] is None


@pytest.mark.parametrize(
    ("content", "starts"),
    [
        ("", "empty file"),
        ("concurrency,throughput\n1,10\n2,ten\n4,35\n8,60\n", "line 3: throughput 'ten'"),
        ("concurrency,throughput\n1,10\n2,19\n4,35\n", "needs at least 4 distinct concurrency"),
        ("concurrency,throughput\n1,10\n2,-19\n4,35\n8,60\n", "line 3: throughput must be above"),
        ("concurrency,throughput\n0,10\n2,19\n4,35\n8,60\n", "line 2: concurrency must be above"),
        ("concurrency,throughput,throughput\n1,2,3\n", "duplicate column 'throughput'"),
        ("concurrency\n1\n2\n4\n8\n", "the header must name the columns"),
        ("load;throughput\n1;10\n", "the header must name the columns"),
    ],
)
def test_usl_bad_files(tmp_path, content, starts):
    path = tmp_path / "points.csv"
    path.write_text(content)
    assert_one_line_error(run("usl", "--input", str(path)), f"{path}: {starts}")


def test_usl_bad_arguments(tmp_path):
    assert_one_line_error(run("usl"), "Missing option '--input'")
    assert_one_line_error(run("usl", "--input", str(tmp_path / "no.csv")), f"{tmp_path}/no.csv")
    assert_one_line_error(run("usl", "--input", str(tmp_path)), f"{tmp_path}: cannot read")
    assert_one_line_error(
        run("usl", "--input", POD_CURVE, "--method", "magic"), "Invalid value for '--method'"
    )


# --- size ----------------------------------------------------------------------------------------


def test_size_from_a_fit_gives_a_range():
    data = one_json_object(
        run("size", "--usl", POD_CURVE, "--target-rate", "100000", "--slo-p99-ms", "200", "--json")
    )
    assert data["reachable"] is True and data["reason"] is None
    assert data["recommended_pods"] == 8 and data["monthly_cost"] == 800
    low, high = data["pods_range"]
    assert low <= 8 <= high
    assert data["at_recommended"]["p99_latency_ms"] <= 200
    assert "M/M/c" in data["model"]


def test_size_from_coefficients_human():
    result = run(
        "size", "--sigma", "0.02671591", "--kappa", "0.0007690945", "--lambda", "995.6486",
        "--target-rate", "100000", "--slo-p99-ms", "13.5", "--cost-per-pod", "250",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "  Pods: 11 recommended (SLO 11, stable 9, headroom x1 9)" in result.stdout
    assert "  Monthly cost: $2750 at $250/pod" in result.stdout


def test_size_unreachable_reports_the_reason_and_exits_1():
    args = ["size", "--usl", POD_CURVE, "--target-rate", "1000", "--slo-p99-ms", "5"]
    result = run(*args)
    assert result.exit_code == 1
    assert "Unreachable: a single idle pod's P99 latency" in result.stdout
    result = run(*args, "--json")
    assert result.exit_code == 1
    data = one_json_object(result)
    assert data["reachable"] is False and data["recommended_pods"] is None
    assert "idle pod" in data["reason"]
    capped = run("size", "--usl", POD_CURVE, "--target-rate", "1e6", "--slo-p99-ms", "200",
                 "--max-pods", "10", "--json")  # fmt: skip
    assert capped.exit_code == 1
    assert "more than the 10 pods allowed" in one_json_object(capped)["reason"]


@pytest.mark.parametrize(
    ("args", "starts"),
    [
        (["--target-rate", "1000", "--slo-p99-ms", "25"], "give --usl FILE or all of"),
        (["--sigma", "0.1", "--target-rate", "1000", "--slo-p99-ms", "25"], "give --usl FILE"),
        (["--usl", POD_CURVE, "--sigma", "0.1", "--target-rate", "1", "--slo-p99-ms", "2"],
         "give --usl or --sigma/--kappa/--lambda, not both"),
        (["--sigma", "1.5", "--kappa", "0.001", "--lambda", "100", "--target-rate", "10",
          "--slo-p99-ms", "25"], "--sigma must be in [0, 1)"),
        (["--sigma", "0.1", "--kappa", "-1", "--lambda", "100", "--target-rate", "10",
          "--slo-p99-ms", "25"], "--kappa must be 0 or more"),
        (["--sigma", "0.1", "--kappa", "0.001", "--lambda", "0", "--target-rate", "10",
          "--slo-p99-ms", "25"], "--lambda must be a number above 0"),
        (["--sigma", "0.1", "--kappa", "0", "--lambda", "100", "--target-rate", "10",
          "--slo-p99-ms", "25"], "the curve has no peak"),
        (["--usl", POD_CURVE, "--target-rate", "-5", "--slo-p99-ms", "25"],
         "--target-rate must be a number above 0"),
        (["--usl", POD_CURVE, "--target-rate", "5", "--slo-p99-ms", "abc"],
         "Invalid value for '--slo-p99-ms'"),
        (["--usl", POD_CURVE, "--slo-p99-ms", "25"], "Missing option '--target-rate'"),
        (["--usl", POD_CURVE, "--target-rate", "5", "--slo-p99-ms", "25", "--headroom", "0.5"],
         "--headroom must be 1 or more"),
        (["--usl", POD_CURVE, "--target-rate", "5", "--slo-p99-ms", "25", "--cost-per-pod", "-1"],
         "--cost-per-pod must be 0 or more"),
        (["--usl", POD_CURVE, "--target-rate", "5", "--slo-p99-ms", "25", "--concurrency", "0"],
         "Invalid value for '--concurrency'"),
        (["--usl", "/nonexistent.csv", "--target-rate", "5", "--slo-p99-ms", "25"],
         "/nonexistent.csv: cannot read"),
    ],
)  # fmt: skip
def test_size_bad_inputs(args, starts):
    assert_one_line_error(run("size", *args), starts)


def test_size_bad_usl_file(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("concurrency,throughput\n1,1\n2,2\n")
    assert_one_line_error(
        run("size", "--usl", str(path), "--target-rate", "5", "--slo-p99-ms", "25"),
        f"{path}: needs at least 4 distinct",
    )


# --- the group -----------------------------------------------------------------------------------


def test_unknown_command_is_one_line():
    assert_one_line_error(run("nope"), "No such command 'nope'")


@pytest.mark.parametrize("command", ["capacity", "usl", "size"])
def test_every_command_has_help(command):
    result = run(command, "--help")
    assert result.exit_code == 0 and f"Usage: plan {command}" in result.stdout


def test_capacity_runway_figures_are_rounded_like_the_rest():
    result = run("capacity", "--scenario", "aggressive")
    assert result.exit_code == 0, result.output
    memory = next(
        line for line in result.output.splitlines() if line.startswith("  Memory (32 GB)")
    )
    assert "(needs 37.1 GB)" in memory, memory

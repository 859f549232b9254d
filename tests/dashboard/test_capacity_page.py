"""The capacity page through AppTest: at its defaults the specification's figures (those of
`pincex plan capacity`), on an empty store as on a filled one; the forms move the figures as
the plan does; the USL part shows a fit or says why."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from collectors.store.frames import RunFilter
from dashboard import queries
from pincex.commands.plan import plan
from planning.capacity import (
    load_config,
    plan_capacity,
    powershell_number,
    scenario_growth,
    script_growth,
)
from tests.dashboard.conftest import FilledStore

CONFIG = load_config(Path(__file__).resolve().parents[2] / "config" / "capacity.yaml")
FORMS = ("Apply growth", "Apply capacity", "Apply headroom and costs", "Size")


def _cli(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(plan, ["capacity", *args, "--json"])
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = orjson.loads(result.stdout)
    return doc["figures"]  # type: ignore[no-any-return]


def _shown(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _expected(figures: dict[str, Any]) -> dict[str, str]:
    ps = powershell_number
    return {
        "Required pods": ps(figures["required_pods"]),
        "Recommended pods": ps(figures["recommended_pods"]),
        "Monthly cost": f"${ps(figures['total_cost'])}",
        "Database cores": ps(figures["recommended_cores"]),
        "Memory": f"{ps(figures['recommended_memory_gb'])} GB",
        "Bandwidth": f"{ps(figures['recommended_bandwidth_mbps'])} Mbps",
    }


def _button(at: AppTest, label: str) -> Any:
    return next(b for b in at.button if b.label == label)


def _assert_plan(at: AppTest, cli_figures: dict[str, Any], planned: dict[str, Any]) -> None:
    assert not at.exception, [e.value for e in at.exception]
    shown = _shown(at)
    assert {k: shown[k] for k in _expected(planned)} == _expected(planned)
    assert _expected(cli_figures) == _expected(planned)


@pytest.fixture
def empty(tmp_path: Path) -> Path:
    return tmp_path / "empty.duckdb"


def test_defaults_on_an_empty_store_are_the_specification_figures(
    page: Callable[..., AppTest], empty: Path
) -> None:
    at = page(empty, "capacity.py")
    planned = plan_capacity(CONFIG, script_growth(3.0), 12).to_dict()["figures"]
    _assert_plan(at, _cli(), planned)
    shown = _shown(at)
    assert (shown["Required pods"], shown["Recommended pods"]) == ("8", "12")
    assert shown["Monthly cost"] == "$2994.6"
    assert [label for label in FORMS if label in [b.label for b in at.button]] == list(FORMS)
    # the measured part says how to get runs; the growth part did not stop
    assert any("No runs in" in i.value for i in at.info)
    assert any("uses no runs" in c.value for c in at.caption)
    assert at.get("plotly_chart")  # the runway


def test_defaults_on_a_filled_store_are_the_specification_figures(
    page: Callable[..., AppTest], filled_store: FilledStore
) -> None:
    at = page(filled_store.path, "capacity.py")
    planned = plan_capacity(CONFIG, script_growth(3.0), 12).to_dict()["figures"]
    _assert_plan(at, _cli(), planned)
    assert at.selectbox(key="cap_label").value == "v1"  # the label with the most orders runs


def test_the_growth_form_moves_the_figures_as_the_plan(
    page: Callable[..., AppTest], empty: Path
) -> None:
    at = page(empty, "capacity.py")
    at.number_input(key="cap_growth").set_value(5.0)
    at.number_input(key="cap_months").set_value(24)
    _button(at, "Apply growth").click().run()
    planned = plan_capacity(CONFIG, script_growth(5.0), 24).to_dict()["figures"]
    _assert_plan(at, _cli("--growth", "5", "--months", "24"), planned)
    assert _shown(at)["Recommended pods"] == "20"  # ceil(ceil(25000 / 2000) * 1.5)
    assert "5x growth over 24 months" in at.subheader[0].value

    at.radio(key="cap_model").set_value("conservative")
    _button(at, "Apply growth").click().run()
    scenario = CONFIG.scenarios["conservative"]
    planned = plan_capacity(CONFIG, scenario_growth(scenario), 12).to_dict()["figures"]
    _assert_plan(at, _cli("--scenario", "conservative"), planned)
    assert len(at.dataframe) == 3  # the costs, the targets and the runway tables


def test_headroom_costs_and_typed_capacity_move_the_figures(
    page: Callable[..., AppTest], empty: Path
) -> None:
    at = page(empty, "capacity.py")
    at.number_input(key="cap_cost_pod").set_value(200.0)
    _button(at, "Apply headroom and costs").click().run()
    assert _shown(at)["Monthly cost"] == "$4194.6"  # 12 more pods' worth of $100
    at.radio(key="cap_source").set_value("typed")
    at.number_input(key="cap_typed").set_value(5000.0)
    _button(at, "Apply capacity").click().run()
    shown = _shown(at)
    assert (shown["Required pods"], shown["Recommended pods"]) == ("3", "5")
    assert shown["Monthly cost"] == f"${powershell_number(2994.6 - 1200 + 5 * 200)}"


def test_measured_capacity_on_an_empty_store_falls_back_with_a_notice(
    page: Callable[..., AppTest], empty: Path
) -> None:
    at = page(empty, "capacity.py")
    at.radio(key="cap_source").set_value("fit")
    _button(at, "Apply capacity").click().run()
    assert not at.exception
    assert any("baseline is used instead" in w.value for w in at.warning)
    assert _shown(at)["Recommended pods"] == "12"


def test_the_usl_part_shows_the_fit_or_why_not(
    page: Callable[..., AppTest], filled_store: FilledStore
) -> None:
    at = page(filled_store.path, "capacity.py")
    captions = [c.value for c in at.caption]
    assert any("Load is requests in flight by Little's law" in c for c in captions)
    shown = _shown(at)
    if "σ contention" in shown:
        assert {"κ coherency", "λ (X at load 1)", "R²"} <= shown.keys()
    else:
        assert any(c.startswith("— no USL fit:") for c in captions)
    # measured capacity: the fit's range, or a notice and the baseline
    at.radio(key="cap_source").set_value("fit")
    at.checkbox(key="cap_untrusted").check()
    _button(at, "Apply capacity").click().run()
    assert not at.exception
    per_pod = next(c.value for c in at.caption if c.value.startswith("Per pod:"))
    if "USL fit" in per_pod:
        assert any("95 % interval" in i.value and "pods" in i.value for i in at.info)
    else:
        assert any("baseline is used instead" in w.value for w in at.warning)
    at.radio(key="cap_source").set_value("best")
    _button(at, "Apply capacity").click().run()
    per_pod = next(c.value for c in at.caption if c.value.startswith("Per pod:"))
    ramp = queries.ramp(queries.open_store(filled_store.path), RunFilter(kind="orders", label="v1"))
    if any(p.met_p99 for p in ramp.points_by_run):  # runs marked not trusted are counted
        assert "measured: the fastest" in per_pod
    else:  # a loaded machine: no run of the ramp met the p99
        assert any("no run of the ramp met the p99" in w.value for w in at.warning)


def test_erlang_c_sizing_answers_or_says_why(page: Callable[..., AppTest], empty: Path) -> None:
    at = page(empty, "capacity.py")
    assert _shown(at)["Pods for the p99"].isdigit()
    at.number_input(key="cap_size_p99").set_value(0.01)
    _button(at, "Size").click().run()
    assert not at.exception
    assert any("Unreachable" in w.value or "Cannot size" in w.value for w in at.warning)

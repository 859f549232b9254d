"""The Load tests page through AppTest, on a store of factory-made load-test runs (the shape
`pincex loadtest run` stores): the banner, verdicts, stages, mix, latency per scenario, a
stress run's steps with the maximum capacity, the checklists and the analysis; the profile
filter; a run that is not trusted; a stored result it cannot fully read; stores without load
tests. And the Capacity page taking a stress run's steps as its ramp."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from streamlit.testing.v1 import AppTest

from collectors.store.model import Run
from collectors.store.store import RunStore
from dashboard.bench_loadtest import loadtest_run

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _at(hours: int) -> datetime:
    return T0 + timedelta(hours=hours)


BASELINE = loadtest_run("baseline", "ramp", started_at=_at(0), seed=1, label="v1")
SPIKE = loadtest_run("spike", "spike", rate=300, started_at=_at(1), seed=2, label="v1")
STRESS = loadtest_run("stress", "steps", rate=3000, seconds=40, started_at=_at(2), seed=3)
UNTRUSTED = loadtest_run("baseline", "ramp", started_at=_at(3), seed=4, trusted=False, label="v2")


@pytest.fixture(scope="module")
def loadtests(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = RunStore(tmp_path_factory.mktemp("loadtests") / "runs.duckdb")
    store.write_many([BASELINE, SPIKE, STRESS, UNTRUSTED])
    return store.path


def _open(page: Callable[..., AppTest], store: Path, run: Run | None = None) -> AppTest:
    at = page(store, "loadtests.py", query={"run": run.id} if run else None)
    assert not at.exception, [e.value for e in at.exception]
    return at


def _table(at: AppTest, *columns: str) -> Any:
    """The page's table with exactly these columns, or the first one holding `columns[0]`."""
    frames = [d.value for d in at.dataframe]
    exact = [f for f in frames if list(f.columns) == list(columns)]
    return exact[0] if exact else next(f for f in frames if columns[0] in f.columns)


def test_a_passed_run_shows_its_verdicts_stages_mix_and_checklists(
    page: Callable[..., AppTest], loadtests: Path
) -> None:
    at = _open(page, loadtests, BASELINE)
    assert at.selectbox(key="lt_run").value == BASELINE.id
    assert [s.value for s in at.success] == [
        "**PASSED** · baseline (ramp) · scaled ×0.1 · every measured target met · trusted"
    ]
    heads = [s.value for s in at.subheader]
    assert heads == ["Verdicts", "Stages", "Scenario mix", "Pre-test checklist",
                     "Correctness invariants", "Post-test analysis"]  # fmt: skip
    verdicts = _table(at, "observed")
    assert list(verdicts["status"]) == ["✓ met", "✓ met", "✓ met", "– not measured"]
    assert verdicts["reason"].iloc[3] == "no hold stage long enough for a sustained window"
    mix = _table(at, "planned %")
    assert list(mix["scenario"]) == ["order_placement", "market_data", "account_operations"]
    assert list(mix["planned %"]) == [70.0, 20.0, 10.0]
    assert list(mix["gap (points)"]) == [1.0, -0.6, -0.4]
    latency = _table(at, "service_p99_ms")
    assert {"p50_ms", "p99_ms", "service_p99_ms"} <= set(latency.columns)
    assert len(at.get("plotly_chart")) == 2  # the stages timeline and latency per scenario
    preflight = _table(at, "name", "status", "reason")
    assert list(preflight["name"])[:2] == ["target_healthy", "metrics_reset"]
    assert "✗ fail" in list(preflight["status"])
    assert set(_table(at, "detail")["passed"]) == {"✓ held"}
    text = "\n".join(m.value for m in at.markdown)
    assert "Optimize algorithms, tune GOGC" in text and "none is pinned" in text
    assert "High CPU Usage: CPU Usage 96% breaks the target < 70%" in text
    capacity = _table(at, "figure", "value")
    assert list(capacity["figure"])[:3] == ["measured_per_pod", "bound", "configured_per_pod"]


def test_a_stress_run_marks_its_maximum_capacity(
    page: Callable[..., AppTest], loadtests: Path
) -> None:
    at = _open(page, loadtests, STRESS)
    assert at.error[0].value.startswith("**FAILED** · stress (steps)")
    assert "Stress steps" in [s.value for s in at.subheader]
    steps = _table(at, "max capacity")
    assert list(steps["targets"]) == ["✓ met", "✓ met", "✗ missed", "✗ missed"]
    assert list(steps["max capacity"]) == ["", "★", "", ""]
    text = "\n".join(m.value for m in at.markdown)
    assert "Maximum capacity: **1,500 requests/s** (step 2, offered 1,500/s" in text
    assert len(at.get("plotly_chart")) == 3


def test_the_timeline_follows_one_scenario(page: Callable[..., AppTest], loadtests: Path) -> None:
    at = _open(page, loadtests, BASELINE)
    radio = at.radio(key="lt_series")
    assert radio.options == ["all requests", "order_placement", "market_data",
                             "account_operations"]  # fmt: skip
    whole = at.get("plotly_chart")[0].proto.spec
    radio.set_value("market_data").run()
    assert not at.exception
    chart = at.get("plotly_chart")[0].proto.spec
    assert "p99 per second of market_data" in chart and chart != whole
    figure = orjson.loads(chart)
    offered = next(t for t in figure["data"] if t["name"] == "offered (planned)")
    assert max(offered["y"]) == pytest.approx(400.0 * 0.2)  # the hold rate times its share


def test_the_profile_filter_and_the_newest_first_order(
    page: Callable[..., AppTest], loadtests: Path
) -> None:
    at = _open(page, loadtests)
    assert at.selectbox(key="lt_profile").options == [
        "(every profile)", "baseline", "spike", "stress"
    ]  # fmt: skip
    assert at.selectbox(key="lt_run").value == UNTRUSTED.id  # the newest
    at.selectbox(key="lt_profile").set_value("spike").run()
    assert not at.exception
    assert at.selectbox(key="lt_run").options == [
        f"v1 · loadtest · {SPIKE.started_at:%Y-%m-%d %H:%M:%S} · spike · passed"
    ]
    assert at.success[0].value.startswith("**PASSED** · spike (spike)")


def test_a_run_that_is_not_trusted_fails_with_its_reasons(
    page: Callable[..., AppTest], loadtests: Path
) -> None:
    at = _open(page, loadtests, UNTRUSTED)
    assert at.error[0].value.endswith("failed: the run is not trusted")
    assert "the generator fell behind its schedule" in at.warning[0].value


def test_an_unreadable_part_is_named_and_the_rest_shown(
    page: Callable[..., AppTest], tmp_path: Path
) -> None:
    config = {**BASELINE.config, "verdicts": "not a list", "invariants": None}
    config.pop("analysis")
    odd = replace(
        BASELINE, id="0d0d0d0d-0000-4000-8000-000000000001", config=config, status="aborted"
    )
    store = RunStore(tmp_path / "odd.duckdb")
    store.write(odd)
    at = _open(page, store.path, odd)
    captions = [c.value for c in at.caption]
    assert any("could not be read: verdicts: expected a list of objects, got str" in c
               for c in captions)  # fmt: skip
    assert "— this run kept no verdicts" in captions
    assert "— not checked: the target was not the exchange" in captions
    assert "— this run kept no post-test analysis" in captions
    assert at.info[0].value == "baseline (ramp) · scaled ×0.1: this run kept no verdicts."
    assert at.warning[0].value.startswith("Status **aborted**: the run was cut short")


def test_stores_without_load_tests(page: Callable[..., AppTest], tmp_path: Path) -> None:
    at = _open(page, tmp_path / "empty.duckdb")
    assert "No runs in" in at.info[0].value
    orders = replace(BASELINE, kind="orders", profile="single", config={"rate": 100.0})
    store = RunStore(tmp_path / "orders.duckdb")
    store.write(orders)
    at = _open(page, store.path)
    assert at.info[0].value.startswith("No load-test runs in")
    assert "pincex loadtest run --profile baseline" in at.code[0].value


def test_the_capacity_page_takes_a_stress_runs_steps_as_its_ramp(
    page: Callable[..., AppTest], loadtests: Path
) -> None:
    at = page(loadtests, "capacity.py")
    assert not at.exception
    at.radio(key="cap_ramp").set_value("steps")
    assert at.selectbox(key="cap_stress").value == STRESS.id  # the one run with steps
    at.radio(key="cap_source").set_value("best")
    next(b for b in at.button if b.label == "Apply capacity").click().run()
    assert not at.exception, [e.value for e in at.exception]
    captions = [c.value for c in at.caption]
    assert any("ramp: the steps of" in c and "each step a point" in c for c in captions)
    per_pod = next(c for c in captions if c.startswith("Per pod:"))
    # step 2 is the fastest within the p99 target: 1,500/s offered, 1,492.5/s completed
    assert per_pod.startswith("Per pod: 1,492.5 orders/s (measured: the fastest run")
    assert "(offered 1500/s)" in per_pod
    assert at.get("plotly_chart")  # the ramp's points are drawn

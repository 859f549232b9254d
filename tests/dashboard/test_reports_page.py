"""The Reports page through AppTest on a store of real runs and on an empty one, and the files
its download buttons build when clicked."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from streamlit.testing.v1 import AppTest

from dashboard.reports.files import DATA_FILES, report_file, run_data, spec_tables_file
from tests.dashboard.conftest import FilledStore

PAGE = "reports.py"
REPORT_BUTTONS = ["HTML", "Markdown", "JSON", "PDF"]


def _buttons(at: AppTest) -> list[Any]:
    return list(at.get("download_button"))


def _labels(at: AppTest) -> list[str]:
    return [b.proto.label for b in _buttons(at)]


def test_a_run_offers_its_report_and_data(
    filled_store: FilledStore, page: Callable[..., AppTest]
) -> None:
    at = page(filled_store.path, PAGE, query={"run": filled_store.v2})
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox[0].value == filled_store.v2
    assert "v2 · orders ·" in at.selectbox[0].format_func(filled_store.v2)
    labels = _labels(at)
    assert labels[:4] == REPORT_BUTTONS
    for label, _mime in DATA_FILES.values():
        assert label in labels
    assert "Tables Markdown" in labels and "Tables JSON" in labels
    assert any(filled_store.v2 in m.value for m in at.markdown)
    # the v2 store holds an orders and a db run labelled v2: the spec results can be filled
    spec = next(b for b in _buttons(at) if b.proto.label == "Spec results")
    assert not spec.proto.disabled


def test_spec_results_that_cannot_be_filled_say_why(
    filled_store: FilledStore, page: Callable[..., AppTest]
) -> None:
    at = page(filled_store.path, PAGE, query={"run": filled_store.ramp[0]})
    assert not at.exception, [e.value for e in at.exception]
    spec = next(b for b in _buttons(at) if b.proto.label == "Spec results")
    assert spec.proto.disabled
    assert any("no db run labelled 'v1'" in c.value for c in at.caption)


def test_an_unknown_run_falls_back_to_the_newest(
    filled_store: FilledStore, page: Callable[..., AppTest]
) -> None:
    at = page(filled_store.path, PAGE, query={"run": "ffffffff-none"})
    assert not at.exception, [e.value for e in at.exception]
    assert any("no run with id ffffffff-none" in w.value for w in at.warning)
    assert _labels(at)[:4] == REPORT_BUTTONS


def test_an_empty_store_shows_the_guide(tmp_path: Path, page: Callable[..., AppTest]) -> None:
    at = page(tmp_path / "empty.duckdb", PAGE)
    assert not at.exception, [e.value for e in at.exception]
    assert any("No runs in" in i.value for i in at.info)
    assert any("pincex bench orders" in m.value for m in at.markdown)
    assert not _labels(at)


def test_the_buttons_build_real_files(filled_store: FilledStore) -> None:
    path, run_id = str(filled_store.path), filled_store.v2
    md = report_file(path, run_id, "md").decode()
    assert md.startswith("# Run report: v2 · orders ·")
    html = report_file(path, run_id, "html").decode()
    assert html.startswith("<!doctype html>") and html.count("plotly.js v") == 1
    assert orjson.loads(report_file(path, run_id, "json"))["run"]["id"] == run_id
    assert orjson.loads(run_data(path, run_id, "run.json"))["id"] == run_id
    assert run_data(path, run_id, "summaries.csv").decode().startswith("run_id,name,")
    assert run_data(path, run_id, "summaries.parquet").startswith(b"PAR1")
    assert run_data(path, run_id, "series.parquet").startswith(b"PAR1")
    seed = orjson.loads(run_data(path, run_id, "performance-results.json"))
    assert set(seed) == {"order_processing_p95_ms", "orders_per_second", "database_query_p95_ms"}
    assert "## Database Performance Targets" in spec_tables_file(path, "md").decode()
    assert len(orjson.loads(spec_tables_file(path, "json"))["tables"]) == 3

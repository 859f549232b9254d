"""`pincex report` on a store of real runs: the HTML opens in a real headless Chromium with its
charts drawn and nothing fetched; the PDF has pages that `pdftotext` reads the run's name from;
the Markdown has the verdict table; the JSON the expected keys; the spec tables the three target
tables; bad arguments are one `error:` line and a non-zero exit."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result

from collectors.store.store import RunStore
from pincex.commands.report import report
from tests.dashboard.conftest import FilledStore

needs_chromium = pytest.mark.skipif(shutil.which("chromium") is None, reason="needs chromium")
needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs pdftotext")


def _report(*args: str) -> Result:
    return CliRunner().invoke(report, list(args))


def _written(store: Path, out: Path, *args: str) -> Path:
    result = _report("--store", str(store), "-o", str(out), *args)
    assert result.exit_code == 0, result.output
    assert out.is_file() and out.stat().st_size > 0
    return out


def _title(store: Path, run_id: str) -> str:
    doc = orjson.loads(_report("--store", str(store), "--run", run_id, "--format", "json").stdout)
    title: str = doc["run"]["title"]
    return title


def _pincex(*args: str) -> subprocess.CompletedProcess[str]:
    """The real console entry point (its one-line error handling included)."""
    code = "from pincex.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def pinned_copy(filled_store: FilledStore, tmp_path: Path) -> Path:
    """A copy of the filled store with the first ramp run pinned as the orders baseline (the
    session's store is left as it is)."""
    copy = tmp_path / "pinned.duckdb"
    shutil.copy(filled_store.path, copy)
    RunStore(copy).pin(filled_store.ramp[0])
    return copy


@needs_chromium
def test_html_is_one_file_whose_charts_draw_without_a_network(
    filled_store: FilledStore, tmp_path: Path
) -> None:
    out = _written(
        filled_store.path,
        tmp_path / "report.html",
        "--run", filled_store.v2, "--baseline", filled_store.ramp[-1],
    )  # fmt: skip
    html = out.read_text()
    assert html.count("plotly.js v") == 1  # the library inlined once
    assert 'src="http' not in html and "src='http" not in html
    assert _title(filled_store.path, filled_store.v2) in html
    for section in ("summary", "verdicts", "charts", "baseline", "regressions", "diagnosis"):
        assert f"id='{section}'" in html
    dom = subprocess.run(
        [
            "chromium", "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000",
            "--dump-dom", out.as_uri(),
        ],
        capture_output=True, text=True, timeout=120,
    ).stdout  # fmt: skip
    assert dom.count('<svg class="main-svg"') >= 2, "Plotly drew no chart"
    assert "Latency distribution" in dom


@needs_chromium
@needs_poppler
def test_pdf_has_pages_that_name_the_run(filled_store: FilledStore, tmp_path: Path) -> None:
    out = _written(filled_store.path, tmp_path / "report.pdf", "--run", filled_store.v2)
    assert out.read_bytes().startswith(b"%PDF")
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True, check=True)
    pages = int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M).group(1))  # type: ignore[union-attr]
    assert pages >= 1
    text = subprocess.run(
        ["pdftotext", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert _title(filled_store.path, filled_store.v2) in text
    assert "SLO verdicts" in text


def test_markdown_has_the_verdict_table_and_no_html(filled_store: FilledStore) -> None:
    result = _report("--store", str(filled_store.path), "--run", filled_store.v2, "--format", "md")
    assert result.exit_code == 0, result.output
    md = result.stdout
    assert md.startswith(f"# Run report: {_title(filled_store.path, filled_store.v2)}")
    assert "| verdict | metric | target | observed | margin | how / why not |" in md
    rows = [line for line in md.splitlines() if line.startswith("| ")]
    p99 = next(r for r in rows if "`order_processing_p99_ms`" in r)
    assert p99.startswith(("| ✅ met", "| ❌ missed"))
    assert any("`database_replication_lag_ms`" in r and "not measured" in r for r in rows)
    assert not re.search(r"<[A-Za-z/!]", md), "Markdown for a PR comment holds no HTML"


def test_json_holds_run_verdicts_figures_baseline_findings_regressions(
    filled_store: FilledStore,
) -> None:
    result = _report(
        "--store", str(filled_store.path), "--run", filled_store.v2,
        "--baseline", filled_store.ramp[1], "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = orjson.loads(result.stdout)
    for key in ("run", "verdicts", "figures", "baseline", "findings", "regressions"):
        assert key in doc
    assert doc["run"]["id"] == filled_store.v2
    assert doc["run"]["label"] == "v2"
    metrics = {v["metric"]: v for v in doc["verdicts"]["verdicts"]}
    assert metrics["order_processing_p99_ms"]["status"] in ("met", "missed")
    assert metrics["order_processing_p99_ms"]["how"]
    assert metrics["database_replication_lag_ms"]["why_not"]
    assert doc["figures"]["headline"]["latency_p99_ms"] > 0
    assert doc["baseline"]["run"]["id"] == filled_store.ramp[1]
    assert doc["baseline"]["why"] == "given with --baseline"
    p99 = next(d for d in doc["baseline"]["headline"] if d["key"] == "latency_p99_ms")
    assert p99["verdict"] in ("worse", "better", "same")
    assert any(line.startswith("label: v1 → v2") for line in doc["baseline"]["changed"])
    assert isinstance(doc["findings"], list) and isinstance(doc["regressions"], list)
    assert doc["recommendations"]


def test_the_pinned_baseline_is_the_default(filled_store: FilledStore, pinned_copy: Path) -> None:
    out = _report("--store", str(pinned_copy), "--run", filled_store.v2, "--format", "json")
    doc = orjson.loads(out.stdout)
    assert doc["baseline"]["run"]["id"] == filled_store.ramp[0]
    assert doc["baseline"]["why"].startswith("the pinned baseline of orders/")
    itself = _report("--store", str(pinned_copy), "--run", filled_store.ramp[0], "--format", "json")
    assert "is the pinned baseline" in orjson.loads(itself.stdout)["baseline"]["note"]
    unpinned = _report(
        "--store", str(filled_store.path), "--run", filled_store.db, "--format", "json"
    )
    note = orjson.loads(unpinned.stdout)["baseline"]["note"]
    assert note.startswith("no baseline is pinned for db/")


def test_spec_tables_list_the_three_target_tables(
    filled_store: FilledStore, tmp_path: Path
) -> None:
    md = _written(filled_store.path, tmp_path / "targets.md", "--spec-tables").read_text()
    for title in (
        "Trading Engine Performance Targets",
        "System Resource Targets",
        "Database Performance Targets",
    ):
        assert f"## {title}" in md
    assert "| Component | Metric | Target | Measured | Verdict | Date | Run / why not |" in md
    result = _report("--store", str(filled_store.path), "--spec-tables", "--format", "json")
    doc = orjson.loads(result.stdout)
    assert [t["name"] for t in doc["tables"]] == ["trading_engine", "system_resources", "database"]
    p95 = next(r for r in doc["tables"][0]["rows"] if r["metric"] == "order_processing_p95_ms")
    assert p95["status"] in ("met", "missed") and p95["date"] and p95["measured"].endswith("ms")


def _one_error(result: subprocess.CompletedProcess[str] | Result, expected: str) -> None:
    err = result.stderr
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert expected in lines[0], err
    assert "Traceback" not in err


def test_bad_arguments_are_one_line_and_a_non_zero_exit(
    filled_store: FilledStore, tmp_path: Path
) -> None:
    store = ["--store", str(filled_store.path)]
    unknown = _report(*store, "--run", "ffffffff-no-such-run")
    assert unknown.exit_code == 2
    _one_error(unknown, "no run with id ffffffff-no-such-run")

    missing = _report("--store", str(tmp_path / "none.duckdb"), "--run", "latest")
    assert missing.exit_code == 2
    _one_error(missing, "no run store at")

    emptied = tmp_path / "emptied.duckdb"
    shutil.copy(filled_store.path, emptied)
    emptied_store = RunStore(emptied)
    for run_id in (*filled_store.ramp, filled_store.v2, filled_store.market_data, filled_store.db):
        emptied_store.delete(run_id)
    empty = _report("--store", str(emptied), "--run", "latest")
    assert empty.exit_code == 2
    _one_error(empty, "no runs in")
    no_tables = _report("--store", str(emptied), "--spec-tables")
    assert no_tables.exit_code == 2
    _one_error(no_tables, "no runs in")

    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    unwritable = _report(*store, "-o", str(a_file / "report.html"))
    assert unwritable.exit_code == 2
    _one_error(unwritable, "-o ")

    guess = _report(*store, "-o", str(tmp_path / "report.docx"))
    assert guess.exit_code == 2
    _one_error(guess, "cannot tell the format from report.docx")

    spec_html = _report(*store, "--spec-tables", "--format", "html")
    assert spec_html.exit_code == 2
    _one_error(spec_html, "--spec-tables writes md or json")

    bad_format = _pincex("report", *store, "--format", "docx")
    assert bad_format.returncode == 2
    _one_error(bad_format, "--format")

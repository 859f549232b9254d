"""Commands that only read stored runs never create a store, its folder or an output folder:
a missing store is one error line naming it (exit 2), and so is an -o file in a missing folder.
The dashboard shows its empty-store guide over a missing store and creates nothing either."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from collectors.settings import get_settings
from collectors.store import RunStore
from collectors.store.samples import sample_run
from pincex.cli import cli

READERS: dict[str, list[str]] = {
    "runs list": ["runs", "list", "--store", "{store}"],
    "runs show": ["runs", "show", "abc", "--store", "{store}"],
    "runs export": ["runs", "export", "abc", "--store", "{store}"],
    "runs delete": ["runs", "delete", "abc", "--store", "{store}"],
    "runs pin": ["runs", "pin", "latest", "--store", "{store}"],
    "runs (old --store place)": ["runs", "--store", "{store}", "list"],
    "report": ["report", "--store", "{store}"],
    "report --spec-tables": ["report", "--spec-tables", "--store", "{store}"],
    "slo check --run": ["slo", "check", "--run", "latest", "--store", "{store}"],
    "regress detect --store": ["regress", "detect", "--store", "{store}"],
    "plan usl --from-runs": ["plan", "usl", "--from-runs", "--store", "{store}"],
}


@pytest.mark.parametrize("name", sorted(READERS))
def test_a_missing_store_is_named_and_not_created(tmp_path: Path, name: str) -> None:
    store = tmp_path / "new" / "dir" / "x.duckdb"
    args = [arg.format(store=store) for arg in READERS[name]]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: no run store at {store}")
    assert len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "new").exists()


def test_the_default_store_missing_is_named_and_not_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "data" / "pincex.duckdb"
    monkeypatch.setenv("PINCEX_STORE_PATH", str(store))
    get_settings.cache_clear()
    for args in (["runs", "list"], ["regress", "detect", "--from-store"], ["report"]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2 and f"no run store at {store}" in result.stderr, args
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["runs", "export", "{run}", "-o", "{out}"],
        ["runs", "export", "{run}", "--format", "csv", "-o", "{out}"],
        ["report", "--run", "{run}", "-o", "{out}"],
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_an_output_in_a_missing_folder_is_named_and_not_created(
    tmp_path: Path, args: list[str]
) -> None:
    store = tmp_path / "runs.duckdb"
    run = sample_run()
    RunStore(store).write(run)
    out = tmp_path / "missing" / "dir" / "f.md"
    given = [a.format(run=run.id, out=out) for a in args] + ["--store", str(store)]
    result = CliRunner().invoke(cli, given)
    assert result.exit_code == 2, result.output
    assert f"the folder {out.parent} does not exist" in result.stderr
    assert not (tmp_path / "missing").exists()


APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
PAGES = ["overview.py", "runs.py", "compare.py", "regressions.py", "benchmarks.py", "loadtests.py",
         "reports.py"]  # fmt: skip


@pytest.mark.parametrize("page", PAGES)
def test_the_dashboard_over_a_missing_store_creates_nothing(
    tmp_path: Path, page: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "new" / "x.duckdb"
    monkeypatch.setenv("PINCEX_STORE_PATH", str(store))
    get_settings.cache_clear()
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    if page != "overview.py":
        at.switch_page(f"views/{page}").run()
    assert not at.exception
    assert any(str(store) in info.value for info in at.info), [i.value for i in at.info]
    assert not (tmp_path / "new").exists()

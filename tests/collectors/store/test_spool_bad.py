"""A spooled file the store cannot take is set aside (`.bad`, its reason logged once) and never
blocks a write: the new run is stored, the good spooled runs are still imported. Integers out of
the 64-bit range are refused at import with one line naming the field, exit 2."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from collectors.bench.runs import keep_figures_run
from collectors.settings import get_settings
from collectors.store import RunStore, run_to_json
from collectors.store.samples import sample_run
from collectors.store.spool import spool_run
from pincex.commands.runs import runs

BIG = 10**30  # the hardening review's count: DuckDB refused it as out of INT64 range
INT64_MAX = 2**63 - 1


def exported(**changes: Any) -> dict[str, Any]:
    """A valid exported run with `summaries.0` fields changed."""
    data: dict[str, Any] = json.loads(run_to_json(sample_run(seed=7)))
    data["summaries"][0].update(changes)
    return data


@pytest.fixture
def store_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A store path with the default spool beside it (settings read afresh)."""
    monkeypatch.delenv("PINCEX_SPOOL_DIR", raising=False)
    get_settings.cache_clear()
    yield tmp_path / "data" / "runs.duckdb"
    get_settings.cache_clear()


def spool_bad(spool: Path, data: dict[str, Any], name: str = "bad.json") -> Path:
    spool.mkdir(parents=True, exist_ok=True)
    path = spool / name
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"count": BIG}, "count"),
        ({"count": INT64_MAX + 1}, "count"),
        ({"errors": BIG}, "errors"),
    ],
    ids=["count-1e30", "count-2^63", "errors-1e30"],
)
def test_import_refuses_integers_beyond_64_bits(
    store_path: Path, tmp_path: Path, changes: dict[str, int], field: str
) -> None:
    file = tmp_path / "run.json"
    file.write_text(json.dumps(exported(**changes)))
    result = CliRunner().invoke(runs, ["--store", str(store_path), "import", str(file)])
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: {file}: summaries.0 ")
    assert f".{field} " in line and "64-bit" in line, line
    assert "Conversion Error" not in line
    assert RunStore(store_path).list_runs() == []


def test_the_largest_64_bit_count_is_stored(store_path: Path, tmp_path: Path) -> None:
    file = tmp_path / "run.json"
    data = exported(count=INT64_MAX)
    file.write_text(json.dumps(data))
    result = CliRunner().invoke(runs, ["--store", str(store_path), "import", str(file)])
    assert result.exit_code == 0, result.output
    assert RunStore(store_path).get(data["id"]).summaries[0].count == INT64_MAX


def test_a_bad_spooled_file_is_set_aside_and_the_new_run_stored(
    store_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = RunStore(store_path)
    store.write(sample_run(seed=1))  # the store exists; its spool is beside it
    good_before = spool_run(store.spool_dir, sample_run(seed=2))
    spool_bad(store.spool_dir, exported(count=BIG))
    good_after = spool_run(store.spool_dir, sample_run(seed=3))
    new = sample_run(seed=4)

    with caplog.at_level(logging.WARNING):
        assert store.write(new) == new.id

    stored = {r.id for r in store.list_runs()}
    assert {new.id, good_before.stem, good_after.stem} <= stored and len(stored) == 4
    assert sorted(p.name for p in store.spool_dir.iterdir()) == ["bad.json.bad"]
    (record,) = [r for r in caplog.records if "bad.json" in r.getMessage()]
    message = record.getMessage()
    assert "\n" not in message and "bad.json.bad" in message
    assert "summaries.0" in message and "count" in message and "64-bit" in message

    caplog.clear()
    with caplog.at_level(logging.WARNING):
        store.write(sample_run(seed=5))
    assert not [r for r in caplog.records if "bad.json" in r.getMessage()]  # said once


@pytest.mark.parametrize(
    "data",
    [
        exported(errors=BIG),
        exported(throughput_per_s=float("inf")),
        {**exported(), "kind": "../../etc"},
        {**exported(), "label": "x" * 100_000},
    ],
    ids=["errors-1e30", "throughput-inf", "kind-path", "label-100k"],
)
def test_no_bad_spooled_file_blocks_a_benchmark(store_path: Path, data: dict[str, Any]) -> None:
    RunStore(store_path).list_runs()
    spool = store_path.parent / "spool"
    spool_bad(spool, data)
    figures: dict[str, Any] = {}
    run = sample_run(seed=6)
    keep_figures_run(str(store_path), run, figures)
    assert "store_error" not in figures, figures["store_error"]
    assert figures["run_id"] == run.id
    assert [r.id for r in RunStore(store_path).list_runs()] == [run.id]
    assert [p.name for p in spool.iterdir()] == ["bad.json.bad"]


def test_import_spool_sets_aside_what_it_cannot_read(store_path: Path) -> None:
    store = RunStore(store_path)
    spool_bad(store.spool_dir, exported(count=BIG), "a.json")
    (store.spool_dir / "b.json").write_bytes(b"\xff\xfe not utf-8")
    good = spool_run(store.spool_dir, sample_run(seed=8))
    assert store.import_spool() == 3
    assert [r.id for r in store.list_runs()] == [good.stem]
    assert sorted(p.name for p in store.spool_dir.iterdir()) == ["a.json.bad", "b.json.bad"]


def test_a_store_that_fails_itself_spools_the_benchmark_run(store_path: Path) -> None:
    store_path.parent.mkdir(parents=True)
    store_path.write_bytes(b"not a DuckDB file" * 1000)
    figures: dict[str, Any] = {}
    run = sample_run(seed=9)
    keep_figures_run(str(store_path), run, figures)
    assert "run_id" not in figures
    assert "\n" not in figures["store_error"]
    spooled = store_path.parent / "spool" / f"{run.id}.json"
    assert f"the run was spooled to {spooled}" in figures["store_error"]
    store_path.unlink()
    assert RunStore(store_path).import_spool() == 1
    assert RunStore(store_path).get(run.id) == run

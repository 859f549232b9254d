"""Other processes: a writer killed mid-write, a reader during writes, a held lock."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from collectors.settings import get_settings
from collectors.store import RunStore, StoreError, StoreLocked, run_from_json, run_to_json
from collectors.store.samples import sample_run
from pincex.commands.runs import runs

ROOT = Path(__file__).resolve().parents[3]

WRITER = """
import sys
from collectors.store import RunStore
from collectors.store.samples import sample_run
store = RunStore(sys.argv[1])
for i in range(int(sys.argv[2])):
    store.write(sample_run(samples=500, seconds=int(sys.argv[3]), seed=i,
                           endpoints=("orders", "book", "cancel", "trades")))
    print(i, flush=True)
"""

HOLDER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
print("holding", flush=True)
sys.stdin.read()
con.close()
"""


def spawn(code: str, *args: str, stdin: int | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        stdout=subprocess.PIPE,
        stdin=stdin,
        text=True,
        env=env,
        cwd=ROOT,
    )


TABLES = ("summaries", "series", "histograms", "warnings")


def count_rows(con: duckdb.DuckDBPyConnection, table: str, run_id: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {table} WHERE run_id = ?", [run_id]).fetchone()
    assert row is not None
    return int(row[0])


def assert_every_run_whole(path: Path) -> int:
    """Every stored run's rows match the counts its runs row declared; no orphan rows."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        declared = con.execute(
            "SELECT run_id, summary_count, series_count, histogram_count, warning_count FROM runs"
        ).fetchall()
        for run_id, *counts in declared:
            found = [count_rows(con, t, run_id) for t in TABLES]
            assert found == counts, run_id
        for table in TABLES:
            orphans = con.execute(
                f"SELECT count(*) FROM {table} WHERE run_id NOT IN (SELECT run_id FROM runs)"
            ).fetchone()
            assert orphans == (0,), table
        return len(declared)
    finally:
        con.close()


def test_sigkill_mid_write_leaves_only_whole_runs(tmp_path: Path) -> None:
    path = tmp_path / "runs.duckdb"
    rng = random.Random(5)
    for _ in range(3):
        writer = spawn(WRITER, str(path), "1000", "3000")
        try:
            assert writer.stdout is not None
            writer.stdout.readline()  # one run stored: the loop is under way
            time.sleep(rng.uniform(0.0, 0.4))
        finally:
            writer.send_signal(signal.SIGKILL)
            writer.wait()
        assert writer.returncode == -signal.SIGKILL
        store = RunStore(path)
        listed = store.list_runs(limit=None)
        assert listed
        for item in listed:
            run = store.get(item.id)
            assert len(run.series) == 2 * 3000 and len(run.summaries) == 4
    assert assert_every_run_whole(path) >= 3


def test_a_reader_in_another_process_sees_whole_runs_during_writes(tmp_path: Path) -> None:
    path = tmp_path / "runs.duckdb"
    RunStore(path).list_runs()  # the file exists with its schema
    writer = spawn(WRITER, str(path), "8", "500")
    reader = RunStore(path, read_retry_s=2.0)
    seen = 0
    try:
        while writer.poll() is None:
            for item in reader.list_runs(limit=None):
                run = reader.get(item.id)
                assert len(run.series) == 1000 and len(run.histograms) == 8
            seen += 1
            time.sleep(0.01)
    finally:
        writer.kill()
        writer.wait()
    assert seen >= 1
    assert len(reader.list_runs(limit=None)) == 8
    assert assert_every_run_whole(path) == 8


@pytest.fixture
def held_store(tmp_path: Path):
    """A store file held open read-write by another process until the test ends."""
    path = tmp_path / "runs.duckdb"
    RunStore(path).list_runs()
    holder = spawn(HOLDER, str(path), stdin=subprocess.PIPE)
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "holding"
    try:
        yield path, holder
    finally:
        holder.kill()
        holder.wait()


def test_a_locked_store_spools_the_run_for_the_next_writer(held_store) -> None:
    path, holder = held_store
    store = RunStore(path, lock_timeout_s=0.3, read_retry_s=0.2)
    spooled = sample_run(seed=1)
    with pytest.raises(StoreLocked, match="locked") as caught:
        store.write(spooled)
    spool_file = caught.value.spool_path
    assert spool_file is not None and spool_file.parent == path.parent / "spool"
    assert run_from_json(spool_file.read_bytes()) == spooled
    assert not list(spool_file.parent.glob(".*.tmp"))
    with pytest.raises(StoreError, match="locked"):
        store.list_runs()

    assert holder.stdin is not None
    holder.stdin.close()
    holder.wait(timeout=10)

    later = sample_run(seed=2)
    store.write(later)
    assert {r.id for r in store.list_runs()} == {spooled.id, later.id}
    assert store.get(spooled.id) == spooled
    assert not spool_file.exists()


def test_a_spooled_run_written_again_is_stored_once(held_store) -> None:
    path, holder = held_store
    store = RunStore(path, lock_timeout_s=0.2)
    run = sample_run(seed=3)
    with pytest.raises(StoreLocked):
        store.write(run)
    bad = path.parent / "spool" / "broken.json"
    bad.write_text("{half")
    holder.stdin.close()
    holder.wait(timeout=10)

    assert store.write(run) == run.id
    assert [r.id for r in store.list_runs()] == [run.id]
    assert sorted(p.name for p in bad.parent.iterdir()) == ["broken.json.bad"]


def test_cli_on_a_locked_store_is_one_line(held_store, monkeypatch: pytest.MonkeyPatch) -> None:
    path, _holder = held_store
    monkeypatch.setenv("PINCEX_STORE_LOCK_TIMEOUT_S", "0.2")
    monkeypatch.setenv("PINCEX_STORE_READ_RETRY_S", "0.2")
    get_settings.cache_clear()
    try:
        exported = path.parent / "run.json"
        exported.write_bytes(run_to_json(sample_run(seed=4)))
        for args, needle in (
            (["import", str(exported)], "spooled"),
            (["delete", "x"], "locked"),
            (["list"], "locked"),
        ):
            result = CliRunner().invoke(runs, ["--store", str(path), *args])
            assert result.exit_code == 1, result.output
            assert result.stderr.count("\n") == 1 and needle in result.stderr
            assert result.stderr.startswith("error: ")
    finally:
        get_settings.cache_clear()

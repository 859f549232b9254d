"""`pincex runs ...` through click's CliRunner on the `runs` group."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner, Result

from collectors.store import Run, RunStore, run_to_json
from collectors.store import histograms as hg
from collectors.store.export import SEED_KEYS
from collectors.store.samples import sample_run
from pincex.commands.runs import runs


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "runs.duckdb"


@pytest.fixture
def stored(store_path: Path) -> dict[str, Run]:
    """An orders run and a db run of label v1, and an orders run of v2."""
    store = RunStore(store_path)
    found = {
        "orders": sample_run(kind="orders", label="v1", seed=1),
        "db": sample_run(kind="db", label="v1", seed=2, endpoints=("select book", "insert order")),
        "v2": sample_run(kind="orders", label="v2", seed=3),
    }
    for run in found.values():
        store.write(run)
    return found


def invoke(store_path: Path, *args: str | Path) -> Result:
    return CliRunner().invoke(runs, ["--store", str(store_path), *map(str, args)])


def only_json(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def one_error(result: Result, code: int = 2) -> str:
    assert result.exit_code == code, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert result.stdout == ""
    return lines[0]


def test_list_table_and_json(store_path: Path, stored: dict[str, Run]) -> None:
    table = invoke(store_path, "list")
    assert table.exit_code == 0
    assert table.stdout.splitlines()[0].split()[:3] == ["id", "kind", "label"]
    assert all(run.id in table.stdout for run in stored.values())

    data = only_json(invoke(store_path, "list", "--kind", "orders", "--label", "v1", "--json"))
    assert [r["id"] for r in data["runs"]] == [stored["orders"].id]
    assert len(only_json(invoke(store_path, "list", "--limit", "2", "--json"))["runs"]) == 2
    RunStore(store_path.with_name("empty.duckdb")).create()
    empty = invoke(store_path.with_name("empty.duckdb"), "list")
    assert empty.exit_code == 0 and empty.stdout.strip() == "no runs"


def test_show_text_and_json(store_path: Path, stored: dict[str, Run]) -> None:
    run = stored["db"]
    text = invoke(store_path, "show", run.id)
    assert text.exit_code == 0
    assert run.id in text.stdout and "select book" in text.stdout and "service" in text.stdout
    data = only_json(invoke(store_path, "show", run.id, "--json"))
    assert data == json.loads(run_to_json(run))


def test_unknown_id_is_one_line_exit_2(store_path: Path, stored: dict[str, Run]) -> None:
    for command in ("show", "delete", "export"):
        assert "no run with id nope" in one_error(invoke(store_path, command, "nope"))


def test_export_json_imports_back(store_path: Path, stored: dict[str, Run], tmp_path: Path) -> None:
    run = stored["orders"]
    out = tmp_path / "run.json"
    assert invoke(store_path, "export", run.id, "--format", "json", "-o", out).exit_code == 0
    other = tmp_path / "other.duckdb"
    result = invoke(other, "import", out)
    assert result.exit_code == 0 and result.stdout.strip() == run.id
    assert result.stderr.strip() == f"stored in {other}"
    assert RunStore(other).get(run.id) == run
    assert "already stored" in one_error(invoke(other, "import", out))


def test_export_csv_says_it_holds_summaries(store_path: Path, stored: dict[str, Run]) -> None:
    run = stored["db"]
    result = invoke(store_path, "export", run.id, "--format", "csv")
    assert result.exit_code == 0
    assert "summaries only" in result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["name"] for r in rows] == [s.name for s in run.summaries]
    assert float(rows[0]["latency_p95_ms"]) == run.summaries[0].latency.p95_ms


def test_export_parquet(store_path: Path, stored: dict[str, Run], tmp_path: Path) -> None:
    run = stored["orders"]
    out = tmp_path / "out" / "orders.parquet"
    out.parent.mkdir()
    result = invoke(store_path, "export", run.id, "--format", "parquet", "-o", out)
    assert result.exit_code == 0, result.output
    series = out.with_name("orders.series.parquet")
    assert result.stdout.split() == [str(out), str(series)]
    con = duckdb.connect()
    names = con.execute(f"SELECT name FROM read_parquet('{out}')").fetchall()
    assert [n[0] for n in names] == [s.name for s in run.summaries]
    count = con.execute(f"SELECT count(*) FROM read_parquet('{series}')").fetchone()
    assert count == (len(run.series),)


def test_export_seed_json_takes_the_other_kind_by_label(
    store_path: Path, stored: dict[str, Run]
) -> None:
    orders, db = stored["orders"], stored["db"]
    data = only_json(invoke(store_path, "export", orders.id, "--format", "seed-json"))
    assert set(data) == set(SEED_KEYS)
    assert data["order_processing_p95_ms"] == orders.summaries[0].latency.p95_ms
    assert data["orders_per_second"] == orders.summaries[0].throughput_per_s
    overall = hg.merge(h.encoded for h in db.histograms if h.view == "latency")
    assert data["database_query_p95_ms"] == hg.percentiles_ms(overall, [95])[95.0]
    assert all(data["database_query_p95_ms"] != s.latency.p95_ms for s in db.summaries)
    from_db = only_json(invoke(store_path, "export", db.id, "--format", "seed-json"))
    assert from_db == data


def test_export_seed_json_refuses_missing_keys(
    store_path: Path, stored: dict[str, Run], tmp_path: Path
) -> None:
    out = tmp_path / "perf.json"
    line = one_error(invoke(store_path, "export", stored["v2"].id, "--format", "seed-json"))
    assert line == (
        "error: seed-json needs an orders run and a db run labelled 'v2'; "
        "missing database_query_p95_ms (no db run labelled 'v2')"
    )
    one_error(invoke(store_path, "export", stored["v2"].id, "--format", "seed-json", "-o", out))
    assert not out.exists()

    other = sample_run(kind="market-data", label="v3", seed=4)
    RunStore(store_path).write(other)
    line = one_error(invoke(store_path, "export", other.id, "--format", "seed-json"))
    assert line.endswith(
        "missing order_processing_p95_ms, orders_per_second (no orders run labelled 'v3'), "
        "database_query_p95_ms (no db run labelled 'v3')"
    )


def test_export_seed_json_allow_missing_writes_what_it_found(
    store_path: Path, stored: dict[str, Run], tmp_path: Path
) -> None:
    run = stored["v2"]
    result = invoke(store_path, "export", run.id, "--format", "seed-json", "--allow-missing")
    assert set(only_json(result)) == {"order_processing_p95_ms", "orders_per_second"}
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1
    assert "database_query_p95_ms (no db run labelled 'v2')" in warnings[0]
    assert "order_processing_p95_ms" not in warnings[0]

    out = tmp_path / "perf.json"
    args = ("export", run.id, "--format", "seed-json", "--allow-missing", "-o", out)
    assert invoke(store_path, *args).exit_code == 0
    assert set(json.loads(out.read_bytes())) == {"order_processing_p95_ms", "orders_per_second"}

    args = ("export", stored["orders"].id, "--format", "seed-json", "--allow-missing")
    complete = invoke(store_path, *args)
    assert set(only_json(complete)) == set(SEED_KEYS)
    assert "warning:" not in complete.stderr
    assert "seed-json only" in one_error(invoke(store_path, "export", run.id, "--allow-missing"))


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"not json at all", "not JSON"),
        (b"[]", "JSON object"),
        (b'{"id": "a", "kind": "orders"}', "profile"),
    ],
)
def test_import_refuses_bad_files(
    store_path: Path, tmp_path: Path, content: bytes, reason: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    assert reason in one_error(invoke(store_path, "import", bad))
    assert RunStore(store_path).list_runs() == []


def test_import_refuses_wrong_types(store_path: Path, tmp_path: Path) -> None:
    data = json.loads(run_to_json(sample_run()))
    data["summaries"][0]["errors"] = "many"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    assert "errors" in one_error(invoke(store_path, "import", bad))
    assert "No such file" in one_error(invoke(store_path, "import", tmp_path / "missing.json"))
    assert RunStore(store_path).list_runs() == []


def test_delete(store_path: Path, stored: dict[str, Run]) -> None:
    run = stored["v2"]
    result = invoke(store_path, "delete", run.id)
    assert result.exit_code == 0 and run.id in result.stdout
    assert {r.id for r in RunStore(store_path).list_runs()} == {
        stored["orders"].id,
        stored["db"].id,
    }


def test_every_command_has_help(store_path: Path) -> None:
    for command in ([], ["list"], ["show"], ["export"], ["import"], ["delete"]):
        result = CliRunner().invoke(runs, [*command, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.stdout


@pytest.mark.parametrize(
    "command",
    [
        ["list"],
        ["show", "abc"],
        ["export", "abc"],
        ["delete", "abc"],
        ["pin", "latest"],
        ["unpin", "latest"],
    ],
    ids=lambda c: c[0],
)
def test_a_missing_store_is_an_error_naming_it_and_is_not_created(
    tmp_path: Path, command: list[str]
) -> None:
    missing = tmp_path / "new" / "dir" / "x.duckdb"
    line = one_error(invoke(missing, *command))
    assert line == f"error: no run store at {missing}"
    assert not (tmp_path / "new").exists()


def test_store_is_accepted_after_the_subcommand_too(
    store_path: Path, stored: dict[str, Run], tmp_path: Path
) -> None:
    after = CliRunner().invoke(runs, ["list", "--json", "--store", str(store_path)])
    before = invoke(store_path, "list", "--json")
    assert only_json(after) == only_json(before)
    assert len(only_json(after)["runs"]) == len(stored)
    run = stored["orders"]
    shown = CliRunner().invoke(runs, ["show", run.id, "--store", str(store_path)])
    assert shown.exit_code == 0 and run.id in shown.stdout
    same = invoke(store_path, "list", "--store", str(store_path.parent / "." / store_path.name))
    assert same.exit_code == 0, same.output
    twice = invoke(store_path, "list", "--store", str(tmp_path / "other.duckdb"))
    assert "--store given twice" in one_error(twice)


def test_export_to_a_missing_folder_is_an_error_naming_it(
    store_path: Path, stored: dict[str, Run], tmp_path: Path
) -> None:
    run = stored["orders"]
    for fmt in ("json", "parquet"):
        out = tmp_path / "missing" / "dir" / f"f.{fmt}"
        line = one_error(invoke(store_path, "export", run.id, "--format", fmt, "-o", out))
        assert f"the folder {out.parent} does not exist" in line
    assert not (tmp_path / "missing").exists()


def _status_of(table: str, run_id: str) -> str:
    header, *rows = table.splitlines()
    start, end = header.index("status"), header.index("pinned")
    row = next(r for r in rows if r.startswith(run_id))
    return row[start:end].strip()


def test_list_says_untrusted(store_path: Path) -> None:
    store = RunStore(store_path)
    trusted = sample_run(seed=1)
    untrusted = replace(sample_run(seed=2), trusted=False)
    cut_short = replace(sample_run(seed=3, status="partial"), trusted=False)
    for run in (trusted, untrusted, cut_short):
        store.write(run)
    table = invoke(store_path, "list")
    assert table.exit_code == 0
    assert _status_of(table.stdout, trusted.id) == "complete"
    assert _status_of(table.stdout, untrusted.id) == "untrusted"
    assert _status_of(table.stdout, cut_short.id) == "partial, untrusted"
    assert "!" not in table.stdout


def test_a_db_runs_headline_is_every_query_together(
    store_path: Path, stored: dict[str, Run]
) -> None:
    db = stored["db"]
    total = sum(s.count for s in db.summaries)
    listed = only_json(invoke(store_path, "list", "--kind", "db", "--json"))["runs"]
    assert listed[0]["headline"]["name"] == "all queries"
    assert listed[0]["headline"]["count"] == total
    table = invoke(store_path, "list", "--kind", "db").stdout
    assert "all queries" in table and str(total) in table
    shown = invoke(store_path, "show", db.id).stdout
    rows = [line for line in shown.splitlines() if line.startswith(("all queries", "select book"))]
    assert rows[0].startswith("all queries") and f" {total} " in rows[0]

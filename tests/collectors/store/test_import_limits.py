"""What the store takes is bounded, from any route: file size, series points, summaries,
histograms (count, text, buckets), tags, warnings, text lengths, names, JSON objects and
timestamps are checked at the store's write entry point (`pincex runs import`, benchmarks, the
spool), each refusal one line naming the field (exit 2 on the command line), nothing written.
Large imports are read with a size cap and parsed and inserted in chunks, in one transaction;
`runs list` and `runs show` cut values an older store may hold beyond the limits."""

from __future__ import annotations

import dataclasses
import json
import uuid
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner, Result

from collectors.bench.runs import keep_figures_run, keep_run
from collectors.store import InvalidRun, RunStore, codec, limits, rows, run_from_json, run_to_json
from collectors.store.samples import sample_run
from pincex.commands.runs import runs

Data = dict[str, Any]
TABLES = ("runs", "summaries", "series", "histograms", "warnings")


def exported(**changes: Any) -> Data:
    """A valid run as `pincex runs export ID --format json` writes it, with fields changed."""
    run = sample_run(kind="orders", label="v1", seed=7, endpoints=("orders", "book"))
    data: Data = json.loads(run_to_json(run))
    data.update(changes)
    return data


def invoke(store_path: Path, *args: str | Path) -> Result:
    return CliRunner().invoke(runs, ["--store", str(store_path), *map(str, args)])


def refused(tmp_path: Path, data: Data | bytes, *needles: str) -> str:
    """Import `data`: exit 2, one `error:` line holding every needle, nothing stored."""
    store_path = tmp_path / "runs.duckdb"
    file = tmp_path / "run.json"
    file.write_bytes(data if isinstance(data, bytes) else json.dumps(data).encode())
    result = invoke(store_path, "import", file)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {file}: "), result.stderr
    assert len(lines[0]) < 400, lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert result.stdout == ""
    assert RunStore(store_path).list_runs() == []
    return lines[0]


def imported(tmp_path: Path, data: Data | bytes) -> str:
    store_path = tmp_path / "ok.duckdb"
    file = tmp_path / "ok.json"
    file.write_bytes(data if isinstance(data, bytes) else json.dumps(data).encode())
    result = invoke(store_path, "import", file)
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


# -- what --help says ---------------------------------------------------------------------------


def test_import_help_states_the_limits() -> None:
    text = " ".join(CliRunner().invoke(runs, ["import", "--help"]).stdout.split())
    for figure in (
        f"{limits.MAX_FILE_BYTES // 2**20} MiB",
        f"{limits.MAX_SERIES_POINTS:,} series points",
        f"{limits.MAX_SUMMARIES:,} summaries",
        f"{limits.MAX_HISTOGRAMS:,} histograms",
        f"{limits.MAX_HISTOGRAM_BUCKETS:,} buckets",
        f"{limits.MAX_TAGS} tags",
        f"{limits.MAX_WARNINGS} warnings",
        f"{limits.MAX_NAME_CHARS} characters",
    ):
        assert figure in text, figure


# -- sizes --------------------------------------------------------------------------------------


def test_a_file_over_the_size_limit_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 2000)
    line = refused(tmp_path, exported(), "larger than", "2,000 bytes")
    assert "run.json" in line


def test_an_endless_file_is_read_only_up_to_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 10_000)
    result = invoke(tmp_path / "runs.duckdb", "import", "/dev/zero")
    assert result.exit_code == 2, result.output
    assert "larger than the limit of 10,000 bytes" in result.stderr


@pytest.mark.parametrize(
    ("name", "limit", "needle"),
    [
        ("MAX_SERIES_POINTS", 10, "series holds more than 10 points"),
        ("MAX_SUMMARIES", 1, "summaries holds more than 1 "),
        ("MAX_HISTOGRAMS", 3, "histograms holds more than 3 "),
        ("MAX_TAGS", 1, "tags holds more than 1 "),
        ("MAX_WARNINGS", 0, "warnings holds more than 0 "),
    ],
)
def test_lists_over_their_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, limit: int, needle: str
) -> None:
    data = exported(warnings=["one"])
    assert len(data[name.removeprefix("MAX_").lower().replace("_points", "")]) > limit
    run = run_from_json(json.dumps(data))
    monkeypatch.setattr(limits, name, limit)
    refused(tmp_path, data, needle)
    # the same limit holds for a run written by code (a benchmark, the spool)
    with pytest.raises(InvalidRun, match=needle.split(" more")[0]):
        RunStore(tmp_path / "direct.duckdb").write(run)


def test_histogram_buckets_and_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_HISTOGRAM_BUCKETS", 1000)
    refused(tmp_path, exported(), "histograms.0 ('orders'/latency)", "23,552 buckets", "1,000")
    monkeypatch.undo()
    monkeypatch.setattr(limits, "MAX_HISTOGRAM_CHARS", 100)
    refused(tmp_path, exported(), "histograms.0 ('orders'/latency)", "characters", "at most 100")


def test_a_histogram_that_inflates_past_its_buckets_is_refused(tmp_path: Path) -> None:
    import base64
    import struct
    import zlib

    payload = zlib.compress(b"\0" * 50_000_000)  # 50 MB of zeros in ~50 kB
    bomb = base64.b64encode(struct.pack(">II", 0x1C849314, len(payload)) + payload).decode()
    data = exported()
    data["histograms"][0]["encoded"] = bomb
    refused(tmp_path, data, "histograms.0 ('orders'/latency)", "decompresses to more than")


@pytest.mark.parametrize(
    ("field", "limit_name"),
    [
        ("label", "MAX_NAME_CHARS"),
        ("profile", "MAX_NAME_CHARS"),
        ("kind", "MAX_ID_CHARS"),
        ("id", "MAX_ID_CHARS"),
        ("target", "MAX_TARGET_CHARS"),
        ("notes", "MAX_NOTES_CHARS"),
    ],
)
def test_text_fields_over_their_length(tmp_path: Path, field: str, limit_name: str) -> None:
    limit = getattr(limits, limit_name)
    refused(tmp_path, exported(**{field: "a" * (limit + 1)}), f"{field} is {limit + 1:,} "
            f"characters; at most {limit:,}")  # fmt: skip
    assert imported(tmp_path, exported(**{field: "a" * limit}))


def test_a_50_mb_label_is_refused_in_one_short_line(tmp_path: Path) -> None:
    line = refused(tmp_path, exported(label="x" * 50_000_000), "label is 50,000,000 characters")
    assert "xxxxxxxxxx" not in line


def test_nested_text_over_its_length(tmp_path: Path) -> None:
    data = exported(warnings=["w" * (limits.MAX_WARNING_CHARS + 1)])
    refused(tmp_path, data, "warnings.0 is", f"at most {limits.MAX_WARNING_CHARS:,}")
    data = exported()
    data["summaries"][1]["name"] = "n" * (limits.MAX_FIELD_NAME_CHARS + 1)
    refused(tmp_path, data, "summaries.1 name is", "characters")
    data = exported()
    data["series"][4]["series"] = "s" * (limits.MAX_FIELD_NAME_CHARS + 1)
    refused(tmp_path, data, "series.4 (client/", "characters")
    data = exported()
    data["histograms"][2]["name"] = "h" * (limits.MAX_FIELD_NAME_CHARS + 1)
    refused(tmp_path, data, "histograms.2 name is", "characters")


def test_config_and_host_must_be_small_json_with_64_bit_integers(tmp_path: Path) -> None:
    refused(tmp_path, exported(config={"rate": 10**30}), "config", "64-bit")
    big = {"blob": "b" * limits.MAX_JSON_BYTES}
    refused(tmp_path, exported(host=big), "host is", f"at most {limits.MAX_JSON_BYTES:,} bytes")


@pytest.mark.parametrize(
    ("field", "value"),
    [("started_at", "0001-01-01T00:00:00+05:00"), ("ended_at", "9999-12-31T23:59:59Z")],
)
def test_timestamps_out_of_range(tmp_path: Path, field: str, value: str) -> None:
    refused(tmp_path, exported(**{field: value}), field)


# -- names --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("kind", "../../etc"),
        ("kind", "orders/x"),
        ("kind", ""),
        ("id", "x'; DROP TABLE runs; --"),
        ("id", "../escape"),
        ("id", ""),
        ("label", "a\nb"),
        ("label", "trailing "),
        ("label", ""),
        ("profile", "\x1b[31mred"),
        ("profile", "-starts-with-dash"),
    ],
)
def test_names_that_are_not_names(tmp_path: Path, field: str, value: str) -> None:
    line = refused(tmp_path, exported(**{field: value}), f"{field} ")
    assert "\x1b" not in line


@pytest.mark.parametrize("tag", ["", " x", "a\tb", "t" * (limits.MAX_NAME_CHARS + 1)])
def test_tags_that_are_not_names(tmp_path: Path, tag: str) -> None:
    refused(tmp_path, exported(tags=["ok", tag]), "tags.1 ")


def test_every_name_the_project_writes_passes() -> None:
    kinds = ["orders", "db", "market-data", "ws-connections", "generators", "store"]
    profiles = ["single", "batch", "batch 100", "50 connections", "1000 connections", "sqlite",
                "postgresql", "comparison", "bench", "smoke"]  # fmt: skip
    labels = ["unlabelled", "demo", "generators", "bench", "v1.0.0", "v2.1.0", "main",
              "feature/x-1", "release-2026.01+build.7", "ünïcode"]  # fmt: skip
    tags = [["ramp"], ["nightly", "ci", "ünïcode"], ["sample", "orders"], ["bench"], []]
    ids = [str(uuid.uuid4()), "bench-00000001", "fresh", "old-run"]
    base = sample_run()
    for kind, profile, label, tag, run_id in zip(
        kinds * 2, profiles, labels, tags * 2, ids * 3, strict=False
    ):
        run = dataclasses.replace(
            base, id=run_id, kind=kind, profile=profile, label=label, tags=tag
        )
        limits.check_storable(run)


# -- the store's own entry point ----------------------------------------------------------------


def test_write_refuses_before_opening_or_spooling(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "data" / "runs.duckdb")
    bad = dataclasses.replace(sample_run(), kind="../../etc")
    with pytest.raises(InvalidRun, match=r"^kind '\.\./\.\./etc' "):
        store.write_many([sample_run(seed=2), bad])
    assert not (tmp_path / "data").exists()  # neither the store nor its spool


def test_a_benchmark_run_keeps_its_text_cut_to_the_limits(tmp_path: Path) -> None:
    run = dataclasses.replace(
        sample_run(),
        notes="n" * (limits.MAX_NOTES_CHARS * 2),
        warnings=[f"first: {'e' * 10_000}"] * (limits.MAX_WARNINGS + 5),
    )
    path = tmp_path / "runs.duckdb"
    back = RunStore(path).get(keep_run(str(path), run))
    assert len(back.notes) == limits.MAX_NOTES_CHARS and back.notes.endswith("…")
    assert len(back.warnings) == limits.MAX_WARNINGS
    assert all(len(w) <= limits.MAX_WARNING_CHARS for w in back.warnings)
    assert back.warnings[-1] == "6 more warnings not kept"


def test_a_benchmark_with_a_bad_label_says_why_it_was_not_stored(tmp_path: Path) -> None:
    figures: dict[str, Any] = {}
    keep_figures_run(str(tmp_path / "runs.duckdb"), sample_run(label="bad\nlabel"), figures)
    assert "run_id" not in figures
    assert figures["store_error"].startswith("label 'bad\\nlabel' is not a name")


# -- streaming and whole writes -----------------------------------------------------------------


def test_chunked_parse_and_insert_keep_every_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rows, "SERIES_CHUNK", 7)
    monkeypatch.setattr(codec, "PARSE_CHUNK", 3)
    run = sample_run(seed=3, seconds=13)
    data = json.loads(run_to_json(run))
    reordered = {"series": data.pop("series"), **data}  # the series first, indented
    assert imported(tmp_path, json.dumps(reordered, indent=2).encode()) == run.id
    assert RunStore(tmp_path / "ok.duckdb").get(run.id) == run


def test_a_bad_point_is_named_by_its_index_across_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(codec, "PARSE_CHUNK", 3)
    data = exported()
    data["series"][7]["second"] = "soon"
    refused(tmp_path, data, "series.7.second")
    data = exported()
    data["series"][7]["side"] = "middle"
    refused(tmp_path, data, "series.7.side")


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (b'{"id": "a"} trailing', "not JSON"),
        (b'{"series": [1, 2', "not JSON"),
        (json.dumps({**exported(), "series": {"a": 1}}).encode(), "series"),
        (b"\xff\xfe", "not JSON"),
        (b"  [1, 2]  ", "expected a JSON object"),
    ],
)
def test_malformed_text(tmp_path: Path, text: bytes, needle: str) -> None:
    refused(tmp_path, text, needle)


def test_a_failed_write_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "runs.duckdb"
    store = RunStore(path)
    kept = sample_run(seed=1)
    store.write(kept)
    monkeypatch.setattr(rows, "SERIES_CHUNK", 5)
    real = rows._insert_series_chunk
    calls: list[int] = []

    def failing(con: Any, columns: Any) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise duckdb.ConversionException("disk said no halfway")
        real(con, columns)

    monkeypatch.setattr(rows, "_insert_series_chunk", failing)
    with pytest.raises(duckdb.ConversionException):
        store.write(sample_run(seed=2))
    assert len(calls) == 2
    con = duckdb.connect(str(path), read_only=True)
    try:
        for table in TABLES:
            row = con.execute(f"SELECT count(*) FROM {table} WHERE run_id <> ?", [kept.id])
            assert row.fetchone() == (0,), table
    finally:
        con.close()


# -- printing what an older store holds ---------------------------------------------------------


def test_list_and_show_cut_oversized_values(tmp_path: Path) -> None:
    path = tmp_path / "runs.duckdb"
    run = sample_run()
    RunStore(path).write(run)
    huge = "x" * 1_000_000
    con = duckdb.connect(str(path))
    try:  # what a store written before the limits may hold
        con.execute(
            "UPDATE runs SET label = ?, notes = ?, target = ?, tags = ?",
            [huge, huge, huge, json.dumps([huge] * 3)],
        )
        con.execute("UPDATE warnings SET message = ?", ["\x1b[2J" + huge])
        con.execute("UPDATE summaries SET name = ?", [huge])
    finally:
        con.close()
    for args in (["list"], ["list", "--json"], ["show", run.id], ["show", run.id, "--json"]):
        result = invoke(path, *args)
        assert result.exit_code == 0, result.output
        assert len(result.stdout) < 60_000, (args, len(result.stdout))
        assert "…" in result.stdout or "\\u2026" in result.stdout, args
        assert "\x1b" not in result.stdout


def test_a_benchmark_run_over_the_point_limit_is_thinned_not_lost(monkeypatch) -> None:
    """An hour at a 0.1 s scrape interval gives more points than the store keeps: the run is
    kept with every k-th sampled second, and says so."""
    import dataclasses

    from collectors.store import limits
    from collectors.store.model import Point
    from collectors.store.samples import sample_run

    monkeypatch.setattr(limits, "MAX_SERIES_POINTS", 1_000)
    run = sample_run()
    points = [
        Point("server", name, second / 10, float(second))
        for second in range(600)
        for name in ("cpu_percent", "memory_rss_bytes", "orders_per_s")
    ]
    thin = limits.trimmed(dataclasses.replace(run, series=points))
    assert 500 <= len(thin.series) <= 1_000
    assert {p.series for p in thin.series} == {"cpu_percent", "memory_rss_bytes", "orders_per_s"}
    assert (
        thin.series[0].second == 0.0
        and "series thinned to one sampled second in 2" in thin.warnings[-1]
    )
    limits.check_storable(thin)

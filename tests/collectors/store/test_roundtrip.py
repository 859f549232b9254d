"""A run goes in and comes back whole; queries over several runs."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from collectors.store import (
    DuplicateRun,
    Histogram,
    LatencyFigures,
    Point,
    Run,
    RunFormatError,
    RunNotFound,
    RunStore,
    Summary,
    run_from_json,
    run_to_json,
)
from collectors.store import histograms as hg
from collectors.store.codec import check_run
from collectors.store.samples import sample_run


def full_run() -> Run:
    """A run with every field set to something distinct (both views, None service too)."""
    base = sample_run(kind="orders", label="v2.1.0", samples=500, endpoints=("orders", "book"))
    extra = Summary(
        name="cancel",
        count=3,
        errors=1,
        throughput_per_s=0.25,
        latency=LatencyFigures(1.5, 1.0, 2.0, 2.5, 3.0, 3.5, 4.0),
        service=None,
    )
    return dataclasses.replace(
        base,
        started_at=datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC),
        ended_at=datetime(2026, 3, 4, 5, 16, 7, 1, tzinfo=UTC),
        status="partial",
        config={"rate": 1000, "nested": {"a": [1, 2.5, None, "x"]}, "flag": True},
        host={"cpu_count": 16, "python": "3.11.7", "hostname": "h'1", "kernel": "6.8"},
        tags=["nightly", "ci", "ünïcode"],
        summaries=[*base.summaries, extra],
        series=[*base.series, Point("server", "cpu_percent", 0.5, 37.25)],
        histograms=[*base.histograms, Histogram("cancel", "latency", base.histograms[0].encoded)],
        trusted=False,
        warnings=["Prometheus did not answer", "client CPU above 90%"],
        notes="first run after the upgrade",
    )


def test_every_field_round_trips(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "nested" / "runs.duckdb")
    run = full_run()
    assert store.write(run) == run.id
    back = store.get(run.id)
    assert back == run
    for f in dataclasses.fields(Run):
        assert getattr(back, f.name) == getattr(run, f.name), f.name
    assert back.started_at.tzinfo is not None
    (listed,) = store.list_runs()
    assert (listed.id, listed.kind, listed.profile, listed.target, listed.label) == (
        run.id,
        run.kind,
        run.profile,
        run.target,
        run.label,
    )
    assert (listed.started_at, listed.ended_at) == (run.started_at, run.ended_at)
    assert (listed.status, listed.tags, listed.trusted, listed.notes) == (
        run.status,
        run.tags,
        run.trusted,
        run.notes,
    )
    assert listed.headline == max(run.summaries, key=lambda s: s.count)


def test_json_codec_round_trips() -> None:
    run = full_run()
    assert run_from_json(run_to_json(run)) == run


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (b"{not json", "not JSON"),
        (b"[1, 2]", "expected a JSON object"),
        (b'{"id": "x"}', "kind"),
    ],
)
def test_json_codec_refuses_bad_text(text: bytes, reason: str) -> None:
    with pytest.raises(RunFormatError, match=reason):
        run_from_json(text)


def test_json_codec_refuses_wrong_types() -> None:
    good = run_to_json(full_run()).decode()
    with pytest.raises(RunFormatError, match="count"):
        run_from_json(good.replace('"count":500', '"count":"500"', 1))
    with pytest.raises(RunFormatError, match="status"):
        run_from_json(good.replace('"status":"partial"', '"status":"weird"'))


def test_json_codec_checks_figures_only_when_asked() -> None:
    run = full_run()
    bad = dataclasses.replace(run.summaries[0], errors=-1)
    text = run_to_json(dataclasses.replace(run, summaries=[bad, *run.summaries[1:]]))
    assert run_from_json(text).summaries[0] == bad  # the spool replay takes a benchmark's run
    with pytest.raises(RunFormatError, match=r"summaries\.0 .*errors"):
        run_from_json(text, check=True)
    assert run_from_json(run_to_json(run), check=True) == run
    check_run(run)


def test_json_codec_names_non_finite_figures_when_checked() -> None:
    good = run_to_json(full_run()).decode()
    text = re.sub(r'"throughput_per_s":[-+.0-9eE]+', '"throughput_per_s":NaN', good, count=1)
    with pytest.raises(RunFormatError, match=r"summaries\.0 .*throughput_per_s is nan"):
        run_from_json(text, check=True)


def test_list_latest_and_delete(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.duckdb")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    old = sample_run(kind="orders", label="v1", seed=1, started_at=start)
    new = sample_run(kind="orders", label="v1", seed=2, started_at=start + timedelta(hours=1))
    db = sample_run(kind="db", label="v1", seed=3, endpoints=("select", "insert"))
    other = sample_run(kind="orders", label="v2", seed=4)
    for run in (old, new, db, other):
        store.write(run)

    listed = store.list_runs()
    assert len(listed) == 4
    assert [r.started_at for r in listed] == sorted((r.started_at for r in listed), reverse=True)
    assert {r.id for r in store.list_runs(kind="orders", label="v1")} == {old.id, new.id}
    assert len(store.list_runs(limit=2)) == 2
    orders_head = next(r for r in listed if r.id == old.id).headline
    assert orders_head == max(old.summaries, key=lambda s: s.count)
    # a db run's summaries are query types: its headline is all of them together
    head = next(r for r in listed if r.id == db.id).headline
    assert head is not None and head.name == "all queries"
    assert head.count == sum(s.count for s in db.summaries)
    assert head.errors == sum(s.errors for s in db.summaries)
    assert head.throughput_per_s == pytest.approx(sum(s.throughput_per_s for s in db.summaries))
    merged = hg.merge(h.encoded for h in db.histograms if h.view == "latency")
    expected = hg.percentiles_ms(merged, (50, 99))
    assert (head.latency.p50_ms, head.latency.p99_ms) == (expected[50.0], expected[99.0])
    assert head.latency.max_ms == max(s.latency.max_ms for s in db.summaries)

    latest = store.latest_by_label("v1", "orders")
    assert latest is not None and latest.id == new.id
    assert store.latest_by_label("v9", "orders") is None

    store.delete(new.id)
    with pytest.raises(RunNotFound):
        store.get(new.id)
    with pytest.raises(RunNotFound):
        store.delete(new.id)
    con = duckdb.connect(str(tmp_path / "runs.duckdb"), read_only=True)
    try:
        for table in ("summaries", "series", "histograms", "warnings"):
            row = con.execute(f"SELECT count(*) FROM {table} WHERE run_id = ?", [new.id])
            assert row.fetchone() == (0,)
    finally:
        con.close()


def test_duplicate_id_is_refused_and_nothing_changes(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.duckdb")
    run = sample_run()
    store.write(run)
    with pytest.raises(DuplicateRun):
        store.write(dataclasses.replace(run, label="changed"))
    assert store.get(run.id) == run


def test_write_many_is_all_or_nothing(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.duckdb")
    first = sample_run(seed=1)
    store.write(first)
    with pytest.raises(DuplicateRun):
        store.write_many([sample_run(seed=2, run_id="fresh"), first])
    assert [r.id for r in store.list_runs()] == [first.id]


def test_reading_an_absent_store_creates_nothing(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "deep" / "dir" / "runs.duckdb")
    assert not store.exists()
    assert store.list_runs() == []
    assert store.baselines() == {}
    with pytest.raises(RunNotFound):
        store.get("nope")
    with pytest.raises(RunNotFound):
        store.delete("nope")
    assert not (tmp_path / "deep").exists()
    store.create()
    assert store.exists() and store.list_runs() == []


def test_a_password_in_the_target_is_masked_before_it_is_kept(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.duckdb")
    run = dataclasses.replace(full_run(), target="http://bench:hunter2-secret@127.0.0.1:8080")
    store.write(run)
    kept = store.get(run.id)
    assert kept is not None and kept.target == "http://bench:***@127.0.0.1:8080"
    assert b"hunter2-secret" not in (tmp_path / "runs.duckdb").read_bytes()

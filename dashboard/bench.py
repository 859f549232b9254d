"""The dashboard's own speed: every page's script timed through Streamlit's AppTest on a store
of many generated runs (the target: under 1 s each with 10,000 runs).

    store = fill_store(Path("bench.duckdb"), runs=10_000)
    result = time_pages(store, repeat=5)
    result.as_dict()["pages"]        # per page: cold and warm medians (ms), target met

The generated runs are synthetic but shaped like real ones: orders, market-data and db runs
under several version labels and profiles, summaries and histograms from lognormal latencies
(a step up in orders latency planted at 70% of the history, for the regression pages), ramps of
five orders runs tagged `ramp`, per-second client and server series on one run in twenty and on
the newest ones, and one run in ten marked not trusted. Among the newest runs, one load test of
each profile (dashboard.bench_loadtest), so the Load tests page is timed with something to show.
"""

from __future__ import annotations

import ast
import dataclasses
import logging
import math
import os
import random
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from collectors.store.model import Histogram, Point, Run, Summary
from collectors.store.store import RunStore
from collectors.store.summarise import summarise
from dashboard.bench_loadtest import loadtest_run

__all__ = [
    "APP",
    "TARGET_MS",
    "DashboardBenchResult",
    "PageTiming",
    "fill_store",
    "page_list",
    "time_pages",
]

APP = Path(__file__).resolve().parent / "app.py"
TARGET_MS = 1000.0
Progress = Callable[[float, float], None]

_BATCH = 500
_LABELS = tuple(f"v1.{n}" for n in range(10))
_HOST = {"cpu_count": 8, "python": "3.11.7", "hostname": "lab-1", "kernel": "6.1.0"}
_ORDERS = "POST /api/v1/orders"
_MD = "btcusd@ticker+btcusd@depth"
_QUERIES = (
    "orders_by_user",
    "balances_by_user",
    "recent_trades_by_symbol",
    "daily_volume_by_symbol",
    "order_book",
)
_RAMP_RATES = (500, 1000, 1500, 2000, 2500)
_VARIANTS = 4  # latency templates per (kind, level), picked at random per run
_SERIES_EVERY = 20  # one run in this many carries per-second series (and the newest ones)
_NEWEST_WITH_SERIES = 30
# (profile, pattern, rate) of the load tests placed among the newest runs, oldest first
_LOADTESTS = (("baseline", "ramp", 500.0), ("peak", "ramp", 1500.0), ("spike", "spike", 500.0),
              ("stress", "steps", 3000.0))  # fmt: skip
_LOADTESTS_FROM_END = 12  # the first load test is this many runs before the newest


@dataclass(frozen=True)
class PageTiming:
    """One page's script times in ms: the first run on an empty data cache, then `repeat`
    reruns; `error` is the page's first exception, if it raised one."""

    page: str
    path: str
    cold_ms: float
    warm_ms: float
    timings_ms: list[float]
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "page": self.page,
            "path": self.path,
            "cold_ms": round(self.cold_ms, 1),
            "warm_ms": round(self.warm_ms, 1),
            "cold_met": self.cold_ms < TARGET_MS,
            "warm_met": self.warm_ms < TARGET_MS,
            "timings_ms": [round(t, 1) for t in self.timings_ms],
            "error": self.error,
        }


@dataclass(frozen=True)
class DashboardBenchResult:
    """The store's size, how long it took to generate, and every page's timings."""

    runs: int
    repeat: int
    fill_s: float
    pages: list[PageTiming] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        pages = [p.as_dict() for p in self.pages]
        return {
            "runs": self.runs,
            "repeat": self.repeat,
            "fill_s": round(self.fill_s, 2),
            "target_ms": TARGET_MS,
            "pages": pages,
            "over_target": [p["page"] for p in pages if not (p["cold_met"] and p["warm_met"])],
            "errors": [p["page"] for p in pages if p["error"]],
        }


# --- the generated store ------------------------------------------------------------------


@dataclass(frozen=True)
class _Templates:
    """Summaries and histograms computed once per (kind, level, variant) and shared by runs."""

    by_key: dict[tuple[str, int, int], tuple[list[Summary], list[Histogram]]]


def _templates(rng: np.random.Generator) -> _Templates:
    out: dict[tuple[str, int, int], tuple[list[Summary], list[Histogram]]] = {}
    for level in (0, 1):  # 1: the planted step (orders latency 25% higher)
        for v in range(_VARIANTS):
            scale = 1500.0 * (1.25 if level else 1.0) * (1 + 0.03 * v)
            service = rng.lognormal(math.log(scale), 0.5, 4000)
            latency = service + rng.exponential(scale / 8, 4000)
            s, h = summarise(_ORDERS, latency, service, errors=v, duration_s=8.0)
            out[("orders", level, v)] = ([s], h)
            md = rng.lognormal(math.log(3000.0 * (1 + 0.05 * v)), 0.4, 3000)
            s, h = summarise(_MD, md, None, errors=0, duration_s=10.0)
            out[("market-data", level, v)] = ([s], h)
            sums: list[Summary] = []
            hists: list[Histogram] = []
            for q, name in enumerate(_QUERIES):
                took = rng.lognormal(math.log(800.0 * (q + 1) * (1 + 0.04 * v)), 0.7, 1200)
                s, h = summarise(name, took, None, errors=0, duration_s=6.0)
                sums.append(s)
                hists.extend(h)
            out[("db", level, v)] = (sums, hists)
    return _Templates(out)


def _uuid(rnd: random.Random) -> str:
    return str(uuid.UUID(int=rnd.getrandbits(128), version=4))


def _series(
    kind: str, seconds: int, rate: float, p99_ms: float, rng: np.random.Generator
) -> list[Point]:
    points: list[Point] = []
    noise = rng.normal(1.0, 0.05, (12, seconds)).clip(0.5, 1.5)
    client = "requests_per_s" if kind != "market-data" else "messages_per_s"
    if kind == "db":
        client = "queries_per_s"
    for s in range(seconds):
        n = noise[:, s]
        points.append(Point("client", client, float(s), rate * n[0]))
        if kind == "orders":
            points.append(Point("client", "orders_per_s", float(s), rate * n[0]))
            points.append(Point("client", "latency_p99_ms", float(s), p99_ms * n[1]))
            points.append(Point("client", "errors_per_s", float(s), 0.0))
        if kind == "db":
            points.append(Point("client", "query_p95_ms", float(s), p99_ms * 0.7 * n[1]))
            continue
        for q, base in (("p50", 0.3), ("p95", 0.7), ("p99", 1.0)):
            value = p99_ms * base * n[2]
            points.append(Point("server", f"order_processing_{q}_ms", float(s), value))
            points.append(Point("server", f"order_processing_{q}_lo_ms", float(s), value * 0.8))
            points.append(Point("server", f"order_processing_{q}_hi_ms", float(s), value * 1.2))
        points.append(Point("server", "orders_per_s", float(s), rate * n[3]))
        points.append(Point("server", "cpu_percent", float(s), 35.0 * n[4]))
        points.append(Point("server", "memory_rss_bytes", float(s), 1.8e8 * n[5]))
        points.append(Point("server", "network_bytes_per_s", float(s), 2.0e6 * n[6]))
        points.append(Point("server", "event_loop_lag_p99_ms", float(s), 2.0 * n[7]))
        points.append(Point("server", "db_pool_use_percent", float(s), 20.0 * n[8]))
        points.append(Point("server", "ws_connections", float(s), 50.0 if kind != "orders" else 0))
    return points


def _run(
    index: int,
    runs: int,
    now: datetime,
    rnd: random.Random,
    rng: np.random.Generator,
    templates: _Templates,
    ramp_rate: int | None,
) -> Run:
    frac = index / max(runs - 1, 1)
    label = _LABELS[min(int(frac * len(_LABELS)), len(_LABELS) - 1)]
    level = 1 if frac >= 0.7 else 0
    start = now - timedelta(minutes=50 * (runs - index))
    if ramp_rate is not None:
        kind = "orders"
    else:
        kind = rnd.choices(("orders", "market-data", "db"), (65, 20, 15))[0]
    sums, hists = templates.by_key[(kind, level if kind == "orders" else 0, rnd.randrange(4))]
    tags = ["ramp"] if ramp_rate is not None else (["nightly"] if index % 7 == 0 else [])
    if kind == "orders":
        rate = float(ramp_rate or rnd.choice((500, 1000, 2000)))
        seconds = 8
        batch = 0 if rnd.random() < 0.8 else 100
        profile = "single" if batch == 0 else f"batch {batch}"
        achieved = rate * (1.0 if rate <= 1500 else 1500 / rate + (1 - 1500 / rate) * 0.4)
        config: dict[str, Any] = {"rate": rate, "duration": float(seconds), "batch_size": batch,
                                  "symbol": "BTCUSD", "connections": 16}  # fmt: skip
        sums = [dataclasses.replace(sums[0], throughput_per_s=achieved, count=int(achieved * 8))]
    elif kind == "market-data":
        conns = rnd.choice((50, 1000))
        rate, seconds, profile = 130.0 * conns / 10, 10, f"{conns} connections"
        config = {"connections": conns, "duration": float(seconds), "order_rate": 10.0,
                  "symbol": "BTCUSD", "streams": ["btcusd@ticker", "btcusd@depth"]}  # fmt: skip
    else:
        rate, seconds = 900.0, 6
        profile = rnd.choice(("sqlite", "postgresql"))
        config = {"connections": 8, "queries_per_connection": 700}
    trusted = rnd.random() >= 0.1
    warnings = [] if trusted else [f"the achieved rate is below 95% of the target {rate:.0f}/s"]
    with_series = index % _SERIES_EVERY == 0 or index >= runs - _NEWEST_WITH_SERIES
    p99 = sums[0].latency.p99_ms
    return Run(
        id=_uuid(rnd),
        kind=kind,
        profile=profile,
        target="http://127.0.0.1:8080" if kind != "db" else f"{profile}://bench",
        label=label,
        started_at=start,
        ended_at=start + timedelta(seconds=seconds),
        config=config,
        host=_HOST,
        tags=tags,
        summaries=sums,
        series=_series(kind, seconds, rate, p99, rng) if with_series else [],
        histograms=hists,
        trusted=trusted,
        warnings=warnings,
        notes="generated by pincex bench dashboard",
    )


def _plan(runs: int) -> list[int | None]:
    """Per run index, its ramp rate (a ramp of five every 200 runs) or None."""
    plan: list[int | None] = [None] * runs
    for first in range(150, runs - len(_RAMP_RATES), 200):
        for k, rate in enumerate(_RAMP_RATES):
            plan[first + k] = rate
    return plan


def fill_store(
    path: Path, runs: int = 10_000, *, seed: int = 7, progress: Progress | None = None
) -> RunStore:
    """A new store at `path` holding `runs` generated runs (written in batches), newest now."""
    rnd = random.Random(seed)
    rng = np.random.default_rng(seed)
    templates = _templates(rng)
    store = RunStore(path)
    now = datetime.now(UTC).replace(microsecond=0)
    batch: list[Run] = []
    first_loadtest = runs - _LOADTESTS_FROM_END if runs >= 2 * _LOADTESTS_FROM_END else runs
    for index, ramp_rate in enumerate(_plan(runs)):
        k = index - first_loadtest
        if 0 <= k < len(_LOADTESTS):
            profile, pattern, rate = _LOADTESTS[k]
            start = now - timedelta(minutes=50 * (runs - index))
            batch.append(loadtest_run(profile, pattern, rate=rate, started_at=start, seed=index,
                                      label=_LABELS[-1]))  # fmt: skip
        else:
            batch.append(_run(index, runs, now, rnd, rng, templates, ramp_rate))
        if len(batch) == _BATCH or index == runs - 1:
            store.write_many(batch)
            batch = []
            if progress is not None:
                progress(index + 1, runs)
    return store


# --- the timed pages ----------------------------------------------------------------------


def page_list(latest_run: str | None) -> list[tuple[str, str, dict[str, str]]]:
    """(name, page file, query) of every page that `dashboard/app.py` routes, plus a run's
    detail (`runs?run=ID`) when a run id is given; read from the app's PAGES without running
    it."""
    pages: list[tuple[str, str, str, str]] = []
    for node in ast.parse(APP.read_text()).body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "PAGES" for t in targets):
                pages = list(ast.literal_eval(node.value))
    out: list[tuple[str, str, dict[str, str]]] = [
        (path or "overview", file, {}) for file, _title, path, _icon in pages
    ]
    if latest_run is not None:
        out.insert(2, ("runs?run=ID", "runs.py", {"run": latest_run}))
    return out


def _quiet_streamlit() -> None:
    """No "missing ScriptRunContext" / "No runtime found" chatter on stderr: the pages run in
    bare mode here on purpose (Streamlit resets its loggers' levels, so a filter is used)."""
    for name in (
        "streamlit.runtime.scriptrunner_utils.script_run_context",
        "streamlit.runtime.caching.cache_data_api",
        "streamlit.runtime.caching.cache_resource_api",
    ):
        logging.getLogger(name).addFilter(lambda record: record.levelno >= logging.ERROR)


@contextmanager
def _store_env(path: Path) -> Iterator[None]:
    """PINCEX_STORE_PATH pointed at `path` while pages run (the app reads it through the
    collectors' settings), then restored."""
    from collectors.settings import get_settings

    old = os.environ.get("PINCEX_STORE_PATH")
    os.environ["PINCEX_STORE_PATH"] = str(path)
    get_settings.cache_clear()
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("PINCEX_STORE_PATH", None)
        else:
            os.environ["PINCEX_STORE_PATH"] = old
        get_settings.cache_clear()


def _app(file: str, query: dict[str, str], timeout_s: float) -> Any:
    """An AppTest of the app opened at page `file` (a page's url path is its file's stem, and
    the default page needs no switch, so no other page runs first)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=timeout_s)
    for key, value in query.items():
        at.query_params[key] = value
    return at.switch_page(f"views/{file}")


def _warm_up(pages: list[tuple[str, str, dict[str, str]]], workdir: Path) -> None:
    """Every page run once on an empty store, so that imports are not timed as a page's work."""
    with _store_env(workdir / "warm-up-empty.duckdb"):
        for _name, file, _query in pages:
            with suppress(RuntimeError):
                _app(file, {}, 60.0).run()


def _time_page(file: str, query: dict[str, str], repeat: int, timeout_s: float) -> PageTiming:
    import streamlit as st

    st.cache_data.clear()
    at = _app(file, query, timeout_s)
    timings: list[float] = []
    error: str | None = None
    for _ in range(repeat + 1):
        started = time.perf_counter()
        try:
            at.run()
        except RuntimeError as exc:  # AppTest's timeout: the page is not run again
            timings.append((time.perf_counter() - started) * 1000)
            error = _one_line(str(exc))
            break
        timings.append((time.perf_counter() - started) * 1000)
        if at.exception and error is None:
            error = _one_line(str(at.exception[0].message))
    warm = statistics.median(timings[1:]) if len(timings) > 1 else timings[0]
    return PageTiming("", file, timings[0], warm, timings, error)


def _one_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0] if lines else "failed"


def time_pages(
    store: RunStore,
    *,
    repeat: int = 5,
    timeout_s: float = 30.0,
    progress: Progress | None = None,
) -> list[PageTiming]:
    """Every page's script timed through AppTest on `store`: the first run after the data
    cache is cleared (cold), then `repeat` reruns (warm, their median). A run over `timeout_s`
    is the page's error and ends its timings. Each page first runs once on an empty store."""
    _quiet_streamlit()
    from collectors.store import frames
    from collectors.store.frames import RunFilter

    listing = frames.runs(store, RunFilter(kind="orders")).head(1)
    latest = str(listing["run_id"].iloc[0]) if len(listing) else None
    pages = page_list(latest)
    out: list[PageTiming] = []
    _warm_up(pages, store.path.parent)
    with _store_env(store.path):
        for n, (name, file, query) in enumerate(pages, 1):
            timing = _time_page(file, query, repeat, timeout_s)
            out.append(dataclasses.replace(timing, page=name))
            if progress is not None:
                progress(n, len(pages))
    return out

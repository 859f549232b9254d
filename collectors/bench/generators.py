"""`pincex bench generators`: our open-model generator and Locust against the same server.

Each generator runs in its own process, one after the other, pinned to one core when a core is
given: ours as `pincex bench orders`, Locust headless with `locustfile_orders.py` (one process,
FastHttpUser and/or HttpUser, no wait time). Ours keeps a fixed rate and measures latency from
each request's due time; Locust runs a closed model flat out and measures from the send.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from collectors.bench.errors import BenchFailed, BenchUsageError
from collectors.bench.figures import figures_ms
from collectors.bench.host import host_facts
from collectors.bench.nginx_server import pinned
from collectors.store.model import Histogram, Run, Summary, new_run_id
from collectors.store.store import RunStore
from collectors.store.summarise import summarise
from common.redact import mask_url

__all__ = [
    "LOCUST_CLASSES",
    "LOCUST_NOTE",
    "OURS",
    "GeneratorsConfig",
    "Measured",
    "build_comparison_run",
    "comparison",
    "locust_figures",
    "run_generators",
]

OURS = "pincex open model"
LOCUSTFILE = Path(__file__).with_name("locustfile_orders.py")
# --locust-classes key: (generator name, user class in the locustfile)
LOCUST_CLASSES: dict[str, tuple[str, str]] = {
    "fast": ("locust FastHttpUser", "FastOrderUser"),
    "http": ("locust HttpUser", "HttpOrderUser"),
}
LOCUST_NOTE = (
    "Locust measures from the send (no coordinated-omission correction) and runs a closed model"
)


@dataclass(frozen=True, slots=True)
class GeneratorsConfig:
    target: str
    rate: float  # our generator's fixed rate, requests per second
    duration: int  # seconds per generator
    connections: int = 16  # our generator's keep-alive connections
    locust_users: int = 64
    locust_classes: tuple[str, ...] = ("fast", "http")
    generator_cpu: int | None = None  # None: not pinned
    allow_remote: bool = False


@dataclass(frozen=True, slots=True)
class Measured:
    """One generator's figures (as printed), its summary and histograms (as stored)."""

    figures: dict[str, Any]
    summary: Summary
    histograms: list[Histogram]
    started_at: float  # wall clock
    ended_at: float


@dataclass(frozen=True, slots=True)
class _Child:
    stdout: str
    wall_s: float
    cpu_s: float


Tick = Callable[[float], None]  # seconds since the phase started


def _run_child(
    name: str, cmd: list[str], timeout: float, env: dict[str, str], tick: Tick | None = None
) -> _Child:
    """Run one generator process to its end (killed past `timeout`), telling `tick` the
    seconds elapsed about twice a second; its CPU seconds from the rusage of reaped children.
    A non-zero exit is a one-line failure with its last stderr line."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    try:
        while True:
            elapsed = time.perf_counter() - started
            if tick is not None:
                tick(elapsed)
            try:  # retrying communicate() after its timeout loses no output
                out, err = proc.communicate(timeout=min(0.5, max(timeout - elapsed, 0.01)))
                break
            except subprocess.TimeoutExpired:
                if time.perf_counter() - started >= timeout:
                    raise
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise BenchFailed(f"{name} overran its {timeout:.0f} s limit and was killed") from None
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        lines = err.decode(errors="replace").strip().splitlines()
        last = lines[-1].strip() if lines else "no output on stderr"
        raise BenchFailed(f"{name} failed (exit {proc.returncode}): {last}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return _Child(out.decode(errors="replace"), wall, cpu)


def _child_env() -> dict[str, str]:
    # Against a plain HTTP server our generator must not try to seed users through an admin key.
    return {k: v for k, v in os.environ.items() if k != "PINCEX_ADMIN_KEY"}


def run_ours(cfg: GeneratorsConfig, tmp: Path, tick: Tick | None = None) -> Measured:
    """`pincex bench orders` in its own process; its run (kept in a scratch store) gives the
    full HdrHistograms of both latency views."""
    store = tmp / "ours.duckdb"
    cmd = [sys.executable, "-m", "pincex", "bench", "orders", "--target", cfg.target]
    cmd += ["--rate", str(cfg.rate), "--duration", str(cfg.duration)]
    cmd += ["--connections", str(cfg.connections), "--scrape-interval", "0", "--json"]
    cmd += ["--store", str(store), "--label", "generators"]
    cmd += ["--allow-remote"] if cfg.allow_remote else []
    started = time.time()
    child = _run_child(OURS, pinned(cmd, cfg.generator_cpu), cfg.duration + 60, _child_env(), tick)
    try:
        doc = orjson.loads(child.stdout)
    except orjson.JSONDecodeError:
        first = (child.stdout.strip().splitlines() or ["nothing"])[0]
        raise BenchFailed(f"{OURS} printed no JSON: {first}") from None
    run = RunStore(store).get(doc["run_id"])
    summary = dataclasses.replace(run.summaries[0], name=OURS)
    hists = [dataclasses.replace(h, name=OURS) for h in run.histograms]
    figures = {
        "name": OURS,
        "model": "open",
        "rate": cfg.rate,
        "connections": cfg.connections,
        "requests": doc["requests"],
        "errors": doc["errors"],
        "achieved_rate": doc["achieved_rate"],
        "rps": doc["achieved_rate"],
        "cpu_pct": doc["generator_cpu_pct"],
        "process_cpu_pct": round(child.cpu_s / child.wall_s * 100, 1),
        "latency_ms": doc["latency_ms"],
        "service_time_ms": doc["service_time_ms"],
        "trusted": doc["trusted"],
        "trust_reasons": doc["trust_reasons"],
        "warnings": doc["warnings"],
    }
    return Measured(figures, summary, hists, started, time.time())


def locust_figures(
    name: str, entries: list[dict[str, Any]]
) -> tuple[dict[str, Any], Summary, list[Histogram]]:
    """Figures, summary and histograms from Locust's `--json-file` entries (its final stats).

    Locust keeps response times rounded to whole milliseconds (two significant digits past
    100 ms), so percentiles are read at that resolution; mean and max are exact."""
    requests = sum(int(e["num_requests"]) for e in entries)
    failures = sum(int(e["num_failures"]) for e in entries)
    buckets: dict[int, int] = {}
    for e in entries:
        for ms, count in e["response_times"].items():
            buckets[int(ms)] = buckets.get(int(ms), 0) + int(count)
    starts = [e["start_time"] for e in entries if e.get("start_time")]
    lasts = [e["last_request_timestamp"] for e in entries if e.get("last_request_timestamp")]
    window = max(lasts) - min(starts) if starts and lasts else 0.0
    values = np.array(sorted(buckets), dtype=np.float64) * 1000.0
    counts = np.array([buckets[k] for k in sorted(buckets)], dtype=np.int64)
    latency_us = np.repeat(values, counts)
    summary, hists = summarise(
        name, latency_us, latency_us, errors=failures, duration_s=max(window, 1e-9)
    )
    total_ms = sum(float(e["total_response_time"]) for e in entries)
    timed = sum(counts.tolist())
    exact_max = max((float(e["max_response_time"]) for e in entries), default=0.0)
    # a rounded bucket can sit above the exact max: no percentile is reported past the max
    clipped = {
        f: min(getattr(summary.latency, f), exact_max)
        for f in ("p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms")
    }
    latency = dataclasses.replace(
        summary.latency,
        mean_ms=total_ms / timed if timed else 0.0,
        max_ms=exact_max,
        **clipped,
    )
    summary = dataclasses.replace(
        summary,
        count=requests,
        throughput_per_s=requests / window if window > 0 else 0.0,
        latency=latency,
        service=latency,
    )
    figures = {
        "requests": requests,
        "failures": failures,
        "rps": round(summary.throughput_per_s, 2),
        "latency_ms": figures_ms(latency),
    }
    return figures, summary, hists


def run_locust(cfg: GeneratorsConfig, key: str, tmp: Path, tick: Tick | None = None) -> Measured:
    """Locust headless in one process with one user class, flat out for the duration."""
    name, user_class = LOCUST_CLASSES[key]
    stats, cpu_file = tmp / f"locust-{key}", tmp / f"locust-{key}-cpu.json"
    users = str(cfg.locust_users)
    cmd = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless"]
    cmd += ["-u", users, "-r", users, "-t", f"{cfg.duration}s", "--host", cfg.target]
    cmd += ["--json-file", str(stats), "--only-summary", "--loglevel", "WARNING"]
    cmd += ["--exit-code-on-error", "0", "--pincex-cpu-file", str(cpu_file), user_class]
    started = time.time()
    child = _run_child(name, pinned(cmd, cfg.generator_cpu), cfg.duration + 60, _child_env(), tick)
    try:
        entries = json.loads((tmp / f"locust-{key}.json").read_text())
        window = json.loads(cpu_file.read_text())
    except (OSError, ValueError) as exc:
        raise BenchFailed(f"{name} left no statistics: {exc}") from None
    figures, summary, hists = locust_figures(name, entries)
    doc = {"name": name, "model": "closed", "users": cfg.locust_users, **figures}
    doc["cpu_pct"] = round(window["cpu_s"] / max(window["wall_s"], 1e-9) * 100, 1)
    doc["process_cpu_pct"] = round(child.cpu_s / child.wall_s * 100, 1)
    doc["note"] = LOCUST_NOTE
    return Measured(doc, summary, hists, started, time.time())


def _ratio(ours: float, theirs: float | None) -> float | None:
    return round(ours / theirs, 3) if theirs else None


def comparison(
    server: dict[str, Any], cfg: GeneratorsConfig, measured: list[Measured]
) -> dict[str, Any]:
    """The printed comparison: server, settings, one entry per generator, ours/Locust ratios."""
    by_name = {m.figures["name"]: m.figures for m in measured}
    ours = by_name[OURS]["rps"]
    doc: dict[str, Any] = {
        "server": server,
        "config": {
            "rate": cfg.rate,
            "duration": cfg.duration,
            "connections": cfg.connections,
            "locust_users": cfg.locust_users,
            "generator_cpu": cfg.generator_cpu,
        },
        "generators": [m.figures for m in measured],
    }
    for key, (name, _) in LOCUST_CLASSES.items():
        if name in by_name:
            doc[f"ratio_vs_locust_{key}"] = _ratio(ours, by_name[name]["rps"])
    doc["notes"] = [
        f"{OURS} holds a fixed rate of {cfg.rate:g}/s (it never sends faster), so a ratio is a "
        "lower bound on what it could reach",
        LOCUST_NOTE,
    ]
    return doc


def phases(cfg: GeneratorsConfig) -> list[str]:
    """What `run_generators` will run, one line per phase, in order."""
    where = f" on core {cfg.generator_cpu}" if cfg.generator_cpu is not None else ""
    lines = [f"{OURS}: {cfg.rate:g} requests/s for {cfg.duration} s{where}"]
    for key in cfg.locust_classes:
        name = LOCUST_CLASSES[key][0]
        lines.append(f"{name}: {cfg.locust_users} users flat out for {cfg.duration} s{where}")
    return lines


def run_generators(
    cfg: GeneratorsConfig, progress: Callable[[float, float], None] | None = None
) -> list[Measured]:
    """Ours, then each Locust class, one after the other against `cfg.target`;
    `progress(seconds done, seconds planned)` over all the phases."""
    if cfg.locust_classes and importlib.util.find_spec("locust") is None:
        raise BenchUsageError("locust is not installed in this environment (pip install locust)")
    total = float(cfg.duration * (1 + len(cfg.locust_classes)))

    def ticker(phase: int) -> Tick | None:
        if progress is None:
            return None
        return lambda elapsed: progress(phase * cfg.duration + min(elapsed, cfg.duration), total)

    measured = []
    with tempfile.TemporaryDirectory(prefix="pincex-generators-") as tmp:
        measured.append(run_ours(cfg, Path(tmp), ticker(0)))
        for phase, key in enumerate(cfg.locust_classes, start=1):
            measured.append(run_locust(cfg, key, Path(tmp), ticker(phase)))
    if progress is not None:
        progress(total, total)
    return measured


def build_comparison_run(
    cfg: GeneratorsConfig,
    doc: dict[str, Any],
    measured: list[Measured],
    label: str,
    tags: tuple[str, ...] = (),
) -> Run:
    """The comparison as one stored run: kind `generators`, one summary per generator."""
    ours = measured[0].figures
    return Run(
        id=new_run_id(),
        kind="generators",
        profile="comparison",
        target=mask_url(cfg.target),
        label=label,
        started_at=datetime.fromtimestamp(measured[0].started_at, tz=UTC),
        ended_at=datetime.fromtimestamp(measured[-1].ended_at, tz=UTC),
        status="complete" if all(m.figures["requests"] for m in measured) else "partial",
        config={**doc["config"], "locust_classes": list(cfg.locust_classes)},
        host=host_facts(
            server=doc["server"],
            cpu_pct={m.figures["name"]: m.figures["cpu_pct"] for m in measured},
        ),
        tags=list(tags),
        summaries=[m.summary for m in measured],
        histograms=[h for m in measured for h in m.histograms],
        trusted=bool(ours["trusted"]),
        warnings=[f"{OURS}: {r}" for r in ours["trust_reasons"]],
        notes=LOCUST_NOTE + "; Locust's summaries hold the same figures in both views",
    )

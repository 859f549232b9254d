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
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np
import orjson

from collectors.bench.errors import BenchFailed, BenchUsageError
from collectors.bench.figures import LatencyView, Verdict
from collectors.bench.generators_figures import (
    LOCUST_CLASSES,
    LOCUST_NOTE,
    OURS,
    GeneratorsFigures,
    GeneratorsParameters,
    LocustFigures,
    OursFigures,
)
from collectors.bench.host import host_facts
from collectors.bench.nginx_server import pinned
from collectors.bench.progress import aborted_warning
from collectors.bench.runs import ABORTED_STATUS
from collectors.store.model import Histogram, Run, Summary, new_run_id
from collectors.store.store import RunStore
from collectors.store.summarise import summarise
from common.redact import mask_url

__all__ = [
    "LOCUST_CLASSES",
    "LOCUST_NOTE",
    "OURS",
    "Compared",
    "GeneratorsConfig",
    "Measured",
    "build_comparison_run",
    "comparison",
    "locust_figures",
    "run_generators",
]

LOCUSTFILE = Path(__file__).with_name("locustfile_orders.py")
_INTERRUPTED_WAIT_S = 60.0  # how long an interrupted generator may take to print its figures


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


_F = TypeVar("_F", OursFigures, LocustFigures)


@dataclass(frozen=True, slots=True)
class Measured(Generic[_F]):
    """One generator's figures (as printed), its summary and histograms (as stored)."""

    figures: _F
    summary: Summary
    histograms: list[Histogram]
    started_at: float  # wall clock
    ended_at: float


@dataclass(frozen=True, slots=True)
class Compared:
    """What `run_generators` measured: ours, then each Locust class it reached, and whether
    Ctrl-C cut it short."""

    ours: Measured[OursFigures]
    locust: tuple[Measured[LocustFigures], ...]
    aborted: bool

    @property
    def measured(self) -> list[Measured[Any]]:
        return [self.ours, *self.locust]


@dataclass(frozen=True, slots=True)
class _Child:
    stdout: str
    wall_s: float
    cpu_s: float
    returncode: int = 0
    last_error: str = ""  # the last line on its stderr
    interrupted: bool = False  # Ctrl-C reached us; the child was told and has ended


Tick = Callable[[float], None]  # seconds since the phase started


def _run_child(
    name: str,
    cmd: list[str],
    timeout: float,
    env: dict[str, str],
    tick: Tick | None = None,
    *,
    ok_codes: tuple[int, ...] = (0,),
    forward_interrupt: bool = False,
) -> _Child:
    """Run one generator process to its end (killed past `timeout`), telling `tick` the
    seconds elapsed about twice a second; its CPU seconds from the rusage of reaped children.
    An exit code not in `ok_codes` is a one-line failure with its last stderr line.

    The child runs in its own process group, so a Ctrl-C at the terminal reaches only us.
    On Ctrl-C (KeyboardInterrupt) a `forward_interrupt` child is sent SIGINT once and awaited
    (it prints what it measured; marked `interrupted`); any other child is killed and the
    interrupt goes on."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        process_group=0,
    )
    interrupted = False
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
            except KeyboardInterrupt:
                if not forward_interrupt:
                    raise
                interrupted = True
                proc.send_signal(signal.SIGINT)
                out, err = proc.communicate(timeout=_INTERRUPTED_WAIT_S)
                break
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
    lines = err.decode(errors="replace").strip().splitlines()
    last = lines[-1].strip() if lines else "no output on stderr"
    if proc.returncode not in ok_codes and not interrupted:
        raise BenchFailed(f"{name} failed (exit {proc.returncode}): {last}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return _Child(out.decode(errors="replace"), wall, cpu, proc.returncode, last, interrupted)


def _child_env() -> dict[str, str]:
    # Against a plain HTTP server our generator must not try to seed users through an admin key.
    return {k: v for k, v in os.environ.items() if k != "PINCEX_ADMIN_KEY"}


def run_ours(cfg: GeneratorsConfig, tmp: Path, tick: Tick | None = None) -> Measured[OursFigures]:
    """`pincex bench orders` in its own process; its run (kept in a scratch store) gives the
    full HdrHistograms of both latency views. It exits 1 after its figures when the target's
    errors pass the trust limit, and on Ctrl-C keeps what it measured (marked aborted)."""
    store = tmp / "ours.duckdb"
    cmd = [sys.executable, "-m", "pincex", "bench", "orders", "--target", cfg.target]
    cmd += ["--rate", str(cfg.rate), "--duration", str(cfg.duration)]
    cmd += ["--connections", str(cfg.connections), "--scrape-interval", "0", "--json"]
    cmd += ["--store", str(store), "--label", "generators"]
    cmd += ["--allow-remote"] if cfg.allow_remote else []
    started = time.time()
    child = _run_child(
        OURS,
        pinned(cmd, cfg.generator_cpu),
        cfg.duration + 60,
        _child_env(),
        tick,
        ok_codes=(0, 1),
        forward_interrupt=True,
    )
    try:
        doc = orjson.loads(child.stdout)
    except orjson.JSONDecodeError:
        if child.interrupted:
            raise KeyboardInterrupt from None
        if child.returncode:
            raise BenchFailed(
                f"{OURS} failed (exit {child.returncode}): {child.last_error}"
            ) from None
        first = (child.stdout.strip().splitlines() or ["nothing"])[0]
        raise BenchFailed(f"{OURS} printed no JSON: {first}") from None
    if "run_id" not in doc:
        raise BenchFailed(f"{OURS} kept no run: {doc.get('store_error', 'no run id')}")
    run = RunStore(store).get(doc["run_id"])
    summary = dataclasses.replace(run.summaries[0], name=OURS)
    hists = [dataclasses.replace(h, name=OURS) for h in run.histograms]
    figures = OursFigures(
        rate=cfg.rate,
        connections=cfg.connections,
        requests=doc["requests"],
        errors=doc["errors"],
        achieved_rate=doc["achieved_rate"],
        cpu_pct=doc["generator_cpu_pct"],
        process_cpu_pct=round(child.cpu_s / child.wall_s * 100, 1),
        latency=LatencyView(**doc["latency_ms"]),
        service_time=LatencyView(**doc["service_time_ms"]),
        verdict=Verdict(tuple(doc["trust_reasons"]), tuple(doc["warnings"])),
        aborted=bool(doc.get("aborted")),
    )
    return Measured(figures, summary, hists, started, time.time())


def locust_figures(
    name: str, users: int, entries: list[dict[str, Any]], cpu_pct: float, process_cpu_pct: float
) -> tuple[LocustFigures, Summary, list[Histogram]]:
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
    figures = LocustFigures(
        name=name,
        users=users,
        requests=requests,
        failures=failures,
        rps=round(summary.throughput_per_s, 2),
        latency=LatencyView.of(latency),
        cpu_pct=cpu_pct,
        process_cpu_pct=process_cpu_pct,
    )
    return figures, summary, hists


def run_locust(
    cfg: GeneratorsConfig, key: str, tmp: Path, tick: Tick | None = None
) -> Measured[LocustFigures]:
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
    figures, summary, hists = locust_figures(
        name,
        cfg.locust_users,
        entries,
        cpu_pct=round(window["cpu_s"] / max(window["wall_s"], 1e-9) * 100, 1),
        process_cpu_pct=round(child.cpu_s / child.wall_s * 100, 1),
    )
    return Measured(figures, summary, hists, started, time.time())


def comparison(
    server: dict[str, Any], cfg: GeneratorsConfig, compared: Compared
) -> GeneratorsFigures:
    """The comparison's figures: server, settings, one entry per generator, ours/Locust ratios;
    its verdict is ours, with a first warning when Ctrl-C cut the comparison short."""
    ours = compared.ours.figures
    aborted = compared.aborted or ours.aborted
    warnings = ours.verdict.warnings
    if aborted and not ours.aborted:  # Ctrl-C came in a Locust phase
        elapsed = compared.measured[-1].ended_at - compared.ours.started_at
        warnings = (aborted_warning(elapsed), *warnings)
    return GeneratorsFigures(
        verdict=Verdict(ours.verdict.trust_reasons, warnings),
        aborted=aborted,
        serving=server,
        config=GeneratorsParameters(
            cfg.rate,
            cfg.duration,
            cfg.connections,
            cfg.locust_users,
            cfg.generator_cpu,
            cfg.locust_classes,
        ),
        ours=ours,
        locust=tuple(m.figures for m in compared.locust),
    )


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
) -> Compared:
    """Ours, then each Locust class, one after the other against `cfg.target`;
    `progress(seconds done, seconds planned)` over all the phases. Ctrl-C ends the comparison
    with what was measured (ours keeps its figures up to then; a Locust phase cut short is
    left out), marked aborted; a KeyboardInterrupt when nothing was measured yet."""
    if cfg.locust_classes and importlib.util.find_spec("locust") is None:
        raise BenchUsageError("locust is not installed in this environment (pip install locust)")
    total = float(cfg.duration * (1 + len(cfg.locust_classes)))

    def ticker(phase: int) -> Tick | None:
        if progress is None:
            return None
        return lambda elapsed: progress(phase * cfg.duration + min(elapsed, cfg.duration), total)

    locust: list[Measured[LocustFigures]] = []
    aborted = False
    with tempfile.TemporaryDirectory(prefix="pincex-generators-") as tmp:
        ours = run_ours(cfg, Path(tmp), ticker(0))
        aborted = ours.figures.aborted
        try:
            for phase, key in enumerate(cfg.locust_classes if not aborted else (), start=1):
                locust.append(run_locust(cfg, key, Path(tmp), ticker(phase)))
        except KeyboardInterrupt:
            aborted = True
    if progress is not None and not aborted:
        progress(total, total)
    return Compared(ours, tuple(locust), aborted)


def build_comparison_run(
    cfg: GeneratorsConfig,
    figures: GeneratorsFigures,
    compared: Compared,
    label: str,
    tags: tuple[str, ...] = (),
) -> Run:
    """The comparison as one stored run: kind `generators`, one summary per generator."""
    measured = compared.measured
    status = (
        ABORTED_STATUS
        if figures.aborted
        else "complete"
        if all(g.requests for g in figures.generators)
        else "partial"
    )
    verdict = figures.verdict
    return Run(
        id=new_run_id(),
        kind="generators",
        profile="comparison",
        target=mask_url(cfg.target),
        label=label,
        started_at=datetime.fromtimestamp(measured[0].started_at, tz=UTC),
        ended_at=datetime.fromtimestamp(measured[-1].ended_at, tz=UTC),
        status=status,
        config={**figures.config.to_json(), "locust_classes": list(cfg.locust_classes)},
        host=host_facts(
            server=figures.serving,
            cpu_pct={g.name: g.cpu_pct for g in figures.generators},
        ),
        tags=list(tags),
        summaries=[m.summary for m in measured],
        histograms=[h for m in measured for h in m.histograms],
        trusted=verdict.trusted,
        warnings=[f"{OURS}: {r}" for r in verdict.trust_reasons]
        + ([verdict.warnings[0]] if figures.aborted else []),
        notes=LOCUST_NOTE + "; Locust's summaries hold the same figures in both views",
    )

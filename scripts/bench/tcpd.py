"""Real annotated series from the Turing Change Point Dataset (TCPD), scored as TCPD scores.

F1 with a margin of 5 against the annotators (precision against the union of annotations,
recall averaged over annotators, index 0 counted as a change point for everyone) and the
segmentation cover (averaged over annotators), as in alan-turing-institute/TCPDBench's
`metrics.py`. Detectors at default settings:
- ours: steps only (`ours`), and steps plus the start and end of each reported trend
  (`ours_steps_and_trends`), since TCPD annotators often mark where a trend begins or ends;
- binseg: classic binary segmentation (our reimplementation of R changepoint's defaults as
  TCPDBench runs them: Gaussian mean-change cost, noise from the median absolute difference,
  MBIC-style penalty 3·log n, at most 5 change points);
- zero: reports nothing;
- perfherder, bencher: `baselines.py`; otava, edivisive: through their runners when their
  venvs exist (otherwise listed under `unavailable`).
Means are given over all series and over the real (non-synthetic) ones.
"""

from __future__ import annotations

import itertools
import json
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from baselines import bencher_ttest, perfherder
from external import RUNNER_ERRORS, run_runner

from planning.regress.detect import detect

DATA = Path(__file__).resolve().parent / "data" / "tcpd"
MARGIN = 5
SYNTHETIC = frozenset({"quality_control_1", "quality_control_2", "quality_control_3"})

Detector = Callable[[Sequence[float]], list[int]]
BatchDetector = Callable[[list[list[float]]], list[list[int]]]


def _true_positives(truth: set[int], predicted: set[int], margin: int = MARGIN) -> set[int]:
    left = set(predicted)
    hits: set[int] = set()
    for tau in sorted(truth):
        close = sorted((abs(tau - x), x) for x in left if abs(tau - x) <= margin)
        if close:
            hits.add(tau)
            left.remove(close[0][1])
    return hits


def tcpd_f1(annotations: dict[str, list[int]], predicted: Sequence[int]) -> dict[str, float]:
    """TCPD's F1 (alpha 0.5) with precision and recall."""
    per_user = {k: set(v) | {0} for k, v in annotations.items()}
    union = set().union(*per_user.values())
    x = set(predicted) | {0}
    precision = len(_true_positives(union, x)) / len(x)
    recall = sum(len(_true_positives(t, x)) / len(t) for t in per_user.values()) / len(per_user)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"f1": round(f1, 4), "precision": round(precision, 4), "recall": round(recall, 4)}


def _partition(cps: Sequence[int], n: int) -> list[set[int]]:
    bounds = [0, *sorted(c for c in set(cps) if 0 < c < n), n]
    return [set(range(a, b)) for a, b in itertools.pairwise(bounds) if b > a]


def _cover_single(truth: list[set[int]], predicted: list[set[int]], n: int) -> float:
    total = 0.0
    for r in truth:
        total += len(r) * max(len(r & p) / len(r | p) for p in predicted)
    return total / n


def tcpd_cover(annotations: dict[str, list[int]], predicted: Sequence[int], n: int) -> float:
    """TCPD's segmentation cover of the annotators' partitions by the predicted one (mean)."""
    mine = _partition(predicted, n)
    covers = [_cover_single(_partition(v, n), mine, n) for v in annotations.values()]
    return round(float(np.mean(covers)), 4)


def binseg(values: Sequence[float], max_cps: int = 5) -> list[int]:
    """Classic binary segmentation for changes in mean (see the module docstring)."""
    x = np.asarray(values, dtype=float)
    n = x.size
    if n < 4:
        return []
    sigma = float(np.median(np.abs(np.diff(x)))) * 1.4826 / math.sqrt(2.0) or 1.0
    penalty = 3.0 * math.log(n)
    cps: list[int] = []
    segments = [(0, n)]
    while len(cps) < max_cps:
        best: tuple[float, int, int, int] | None = None
        for a, b in segments:
            seg = x[a:b]
            m = seg.size
            if m < 4:
                continue
            cs = np.cumsum(seg)
            k = np.arange(2, m - 1)
            gain = (cs[k - 1] ** 2 / k + (cs[-1] - cs[k - 1]) ** 2 / (m - k) - cs[-1] ** 2 / m) / (
                sigma**2
            )
            i = int(np.argmax(gain))
            if best is None or gain[i] > best[0]:
                best = (float(gain[i]), a, b, a + int(k[i]))
        if best is None or best[0] < penalty:
            break
        _, a, b, cp = best
        segments.remove((a, b))
        segments += [(a, cp), (cp, b)]
        cps.append(cp)
    return sorted(cps)


def _ours(values: Sequence[float]) -> list[int]:
    return [c.index for c in detect(list(values)).changes]


def _ours_steps_and_trends(values: Sequence[float]) -> list[int]:
    found = detect(list(values))
    n = len(values)
    cps = {c.index for c in found.changes}
    for tr in found.trends:
        cps.update(i for i in (tr.start, tr.end + 1) if 0 < i < n)
    return sorted(cps)


def _zero(values: Sequence[float]) -> list[int]:
    return []


def load_datasets() -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(DATA.glob("*.json"))]


def _per_series(fn: Detector) -> BatchDetector:
    return lambda series: [fn(s) for s in series]


def _runner(python: str, runner: str) -> BatchDetector:
    return lambda series: run_runner(python, runner, series, None)["batch"]


def evaluate_tcpd(
    otava_python: str | None = None, sigproc_python: str | None = None
) -> dict[str, Any]:
    """Scores of every detector on the TCPD series under data/tcpd/."""
    datasets = load_datasets()
    if not datasets:
        return {"available": False}
    detectors: dict[str, BatchDetector] = {
        "ours": _per_series(_ours),
        "ours_steps_and_trends": _per_series(_ours_steps_and_trends),
        "binseg": _per_series(binseg),
        "zero": _per_series(_zero),
        "perfherder": _per_series(perfherder),
        "bencher": _per_series(bencher_ttest),
    }
    if otava_python:
        detectors["otava"] = _runner(otava_python, "otava_runner.py")
    if sigproc_python:
        detectors["edivisive"] = _runner(sigproc_python, "edivisive_runner.py")
    real = [d["name"] for d in datasets if d["name"] not in SYNTHETIC]
    out: dict[str, Any] = {
        "available": True,
        "margin": MARGIN,
        "series": len(datasets),
        "real_series": real,
        "synthetic_series": sorted(SYNTHETIC & {d["name"] for d in datasets}),
        "datasets": {},
        "mean_f1": {},
        "mean_f1_real": {},
        "mean_cover": {},
        "mean_cover_real": {},
        "seconds": {},
        "unavailable": {},
    }
    series = [[float(v) for v in d["values"]] for d in datasets]
    for name, fn in detectors.items():
        start = time.perf_counter()
        try:
            reported = fn(series)
        except RUNNER_ERRORS as exc:
            out["unavailable"][name] = f"{type(exc).__name__}: {str(exc)[:200]}"
            continue
        f1s, covers, f1s_real, covers_real = [], [], [], []
        for d, found in zip(datasets, reported, strict=True):
            score = tcpd_f1(d["annotations"], found)
            cover = tcpd_cover(d["annotations"], found, len(d["values"]))
            out["datasets"].setdefault(d["name"], {})[name] = {
                **score,
                "cover": cover,
                "reported": found,
            }
            f1s.append(score["f1"])
            covers.append(cover)
            if d["name"] not in SYNTHETIC:
                f1s_real.append(score["f1"])
                covers_real.append(cover)
        out["mean_f1"][name] = round(float(np.mean(f1s)), 4)
        out["mean_cover"][name] = round(float(np.mean(covers)), 4)
        out["mean_f1_real"][name] = round(float(np.mean(f1s_real)), 4) if f1s_real else None
        out["mean_cover_real"][name] = (
            round(float(np.mean(covers_real)), 4) if covers_real else None
        )
        out["seconds"][name] = round(time.perf_counter() - start, 3)
    return out

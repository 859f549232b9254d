"""Real annotated series from the Turing Change Point Dataset (TCPD), scored as TCPD scores.

F1 with a margin of 5 against the annotators (precision against the union of annotations,
recall averaged over annotators, index 0 counted as a change point for everyone), as in
alan-turing-institute/TCPDBench's `metrics.py`. Detectors at default settings: ours, a classic
binary segmentation (our reimplementation: Gaussian mean-change cost, noise from the median
absolute difference, MBIC-style penalty 3·log n, at most 5 change points) and "zero"
(reports nothing).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from planning.regress.detect import detect

DATA = Path(__file__).resolve().parent / "data" / "tcpd"
MARGIN = 5


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


def _zero(values: Sequence[float]) -> list[int]:
    return []


def load_datasets() -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(DATA.glob("*.json"))]


def evaluate_tcpd() -> dict[str, Any]:
    """Scores of ours, binary segmentation and zero on the TCPD series under data/tcpd/."""
    datasets = load_datasets()
    if not datasets:
        return {"available": False}
    detectors: dict[str, Callable[[Sequence[float]], list[int]]] = {
        "ours": _ours,
        "binseg": binseg,
        "zero": _zero,
    }
    out: dict[str, Any] = {"available": True, "margin": MARGIN, "datasets": {}, "mean_f1": {}}
    for name, fn in detectors.items():
        f1s = []
        start = time.perf_counter()
        for d in datasets:
            found = fn(d["values"])
            score = tcpd_f1(d["annotations"], found)
            out["datasets"].setdefault(d["name"], {})[name] = {**score, "reported": found}
            f1s.append(score["f1"])
        out["mean_f1"][name] = round(float(np.mean(f1s)), 4)
        out.setdefault("seconds", {})[name] = round(time.perf_counter() - start, 3)
    return out

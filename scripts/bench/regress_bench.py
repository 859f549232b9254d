"""Side by side: `pincex regress detect`'s detector vs public detectors on labelled histories.

    .venv/bin/python scripts/bench/regress_bench.py --json            # default: 300 histories
    .venv/bin/python scripts/bench/regress_bench.py --json --quick    # a few, for tests

Detectors, all scored the same way on the same histories (batch and CI mode):
- ours: `planning.regress.detect` at its default settings (steps only);
- otava: Apache Otava in its own venv (default /tmp/otava-venv, `pip install apache-otava`)
  through `otava_runner.py`; when it cannot run, a clearly labelled stand-in (windowed binary
  segmentation with a t-test, written here) takes its place;
- edivisive: MongoDB's E-Divisive from `signal-processing-algorithms` in its own venv (default
  /tmp/sigproc-venv) through `edivisive_runner.py`; marked UNAVAILABLE when it cannot run;
- perfherder and bencher: our implementations of Mozilla Perfherder's t-test and Bencher's t-test
  threshold (`baselines.py`, parameters in their labels).
Scores: a reported step counts when within 5 runs of the true index. CI mode replays each history
run by run (the detector sees runs 0..t) and records when each change is first reported and how
many alerts are false. `summary` holds one row per detector.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent.parent))

from baselines import BENCHER_LABEL, PERFHERDER_LABEL, bencher_ttest, perfherder  # noqa: E402
from external import RUNNER_ERRORS, run_runner  # noqa: E402
from histories import History, generate, generate_pairs  # noqa: E402
from tcpd import evaluate_tcpd  # noqa: E402

from planning.regress.detect import detect  # noqa: E402

MARGIN = 5
CI_MIN_T = 8
DEFAULT_OTAVA_PYTHON = "/tmp/otava-venv/bin/python"
DEFAULT_SIGPROC_PYTHON = "/tmp/sigproc-venv/bin/python"
DETECTORS = ("ours", "otava", "edivisive", "perfherder", "bencher")

Detector = Callable[[Sequence[float]], list[int]]


def ours(values: Sequence[float]) -> list[int]:
    """Our detector's step indices (trends and outliers are not steps)."""
    return [c.index for c in detect(list(values)).changes]


def _welch_best_split(seg: np.ndarray) -> tuple[int, float]:
    """Split of seg maximising Welch's t (vectorised over all split points); (k, p)."""
    from scipy.stats import t as student_t

    m = seg.size
    k = np.arange(2, m - 1)
    if k.size == 0:
        return -1, 1.0
    cs, cs2 = np.cumsum(seg), np.cumsum(seg * seg)
    n1, n2 = k.astype(float), (m - k).astype(float)
    mean1, mean2 = cs[k - 1] / n1, (cs[-1] - cs[k - 1]) / n2
    var1 = np.maximum((cs2[k - 1] - n1 * mean1**2) / (n1 - 1), 1e-300)
    var2 = np.maximum(((cs2[-1] - cs2[k - 1]) - n2 * mean2**2) / (n2 - 1), 1e-300)
    se2 = var1 / n1 + var2 / n2
    tstat = np.abs(mean1 - mean2) / np.sqrt(se2)
    dof = se2**2 / ((var1 / n1) ** 2 / (n1 - 1) + (var2 / n2) ** 2 / (n2 - 1))
    best = int(np.argmax(tstat))
    return int(k[best]), float(2.0 * student_t.sf(tstat[best], dof[best]))


def standin(values: Sequence[float], window: int = 50, max_p: float = 0.001) -> list[int]:
    """Stand-in for Otava when it cannot run: windowed binary segmentation + Welch t-test."""
    x = np.asarray(values, dtype=float)
    found: set[int] = set()
    step = max(window // 2, 1)
    for start in range(0, max(len(x) - 1, 1), step):
        seg = x[start : start + window]
        stack = [(0, seg.size)]
        while stack:
            a, b = stack.pop()
            if b - a < 4:
                continue
            k, p = _welch_best_split(seg[a:b])
            if k > 0 and p < max_p:
                found.add(start + a + k)
                stack.extend([(a, a + k), (a + k, b)])
    return sorted(found)


def _score_batch(hs: list[History], reported: list[list[int]]) -> dict[str, Any]:
    tp = fp = 0
    steps = sum(h.kind == "step" for h in hs)
    alerted = {"none": 0, "drift": 0}
    totals = {"none": 0, "drift": 0}
    for h, idx in zip(hs, reported, strict=True):
        if h.kind == "step":
            assert h.change_index is not None
            hit = [i for i in idx if abs(i - h.change_index) <= MARGIN]
            tp += 1 if hit else 0
            fp += len(idx) - (1 if hit else 0)
        else:
            totals[h.kind] += 1
            alerted[h.kind] += 1 if idx else 0
            fp += len(idx)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / steps if steps else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "no_change_alert_share": round(alerted["none"] / totals["none"], 4)
        if totals["none"]
        else None,
        "drift_reported_as_step_share": round(alerted["drift"] / totals["drift"], 4)
        if totals["drift"]
        else None,
    }


def _score_ci(hs: list[History], timelines: list[list[tuple[int, list[int]]]]) -> dict[str, Any]:
    delays: list[int | None] = []
    false_alerts = evaluations = 0
    for h, timeline in zip(hs, timelines, strict=True):
        alerted: list[int] = []
        first: int | None = None
        for t, idx in timeline:
            evaluations += 1
            for i in idx:
                if any(abs(i - a) <= MARGIN for a in alerted):
                    continue
                alerted.append(i)
                true = h.change_index
                if true is not None and abs(i - true) <= MARGIN and t >= true:
                    if first is None:
                        first = t - true
                else:
                    false_alerts += 1
        if h.kind == "step":
            delays.append(first)
    found = [d for d in delays if d is not None]
    n = len(delays) or 1
    return {
        "recall_at_3": round(sum(d <= 3 for d in found) / n, 4),
        "recall_at_5": round(sum(d <= 5 for d in found) / n, 4),
        "recall_at_10": round(sum(d <= 10 for d in found) / n, 4),
        "recall_eventually": round(len(found) / n, 4),
        "median_delay_runs": float(np.median(found)) if found else None,
        "false_alerts_per_100_ci_runs": round(100.0 * false_alerts / max(evaluations, 1), 4),
        "ci_runs": evaluations,
    }


def _run_local(detector: Detector, hs: list[History], ci: bool) -> dict[str, Any]:
    start = time.perf_counter()
    batch = [detector(h.values) for h in hs]
    batch_seconds = time.perf_counter() - start
    timelines: list[list[tuple[int, list[int]]]] = []
    start = time.perf_counter()
    if ci:
        for h in hs:
            timelines.append(
                [(t, detector(h.values[: t + 1])) for t in range(CI_MIN_T, len(h.values))]
            )
    ci_seconds = time.perf_counter() - start
    out = {"batch": _score_batch(hs, batch), "batch_seconds": round(batch_seconds, 3)}
    if ci:
        out["ci"] = _score_ci(hs, timelines)
        out["ci_seconds"] = round(ci_seconds, 3)
    return out


def _run_external(
    python: str, runner: str, label: str, hs: list[History], ci: bool
) -> dict[str, Any]:
    res = run_runner(python, runner, [h.values for h in hs], CI_MIN_T if ci else None)
    out = {
        "detector": label.format(version=res["version"]),
        "batch": _score_batch(hs, res["batch"]),
        "batch_seconds": round(res["batch_seconds"], 3),
    }
    if ci:
        timelines = [[(int(t), list(idx)) for t, idx in tl] for tl in res["ci"]]
        out["ci"] = _score_ci(hs, timelines)
        out["ci_seconds"] = round(res["ci_seconds"], 3)
    return out


OTAVA_LABEL = "apache-otava {version} (compute_change_points, default options)"
EDIVISIVE_LABEL = (
    "MongoDB E-Divisive, signal-processing-algorithms {version} "
    "(e_divisive defaults: pvalue 0.05, 100 permutations; numpy seed 31415)"
)


def _batch_and_ci(
    run: Callable[[list[History], bool], dict[str, Any]], hs: list[History], ci_hs: list[History]
) -> dict[str, Any]:
    batch = run(hs, False)
    ci_part = run(ci_hs, True)
    return {**batch, "ci": ci_part["ci"], "ci_seconds": ci_part["ci_seconds"]}


def _summary(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per detector: the figures the issue asks for."""
    rows = []
    for name in DETECTORS:
        part = result.get(name, {})
        batch, ci = part.get("batch", {}), part.get("ci", {})
        rows.append(
            {
                "name": name,
                "detector": part.get("detector"),
                "precision": batch.get("precision"),
                "recall": batch.get("recall"),
                "f1": batch.get("f1"),
                "no_change_alert_share": batch.get("no_change_alert_share"),
                "ci_recall_at_3": ci.get("recall_at_3"),
                "ci_recall_at_5": ci.get("recall_at_5"),
                "ci_recall_at_10": ci.get("recall_at_10"),
                "false_alerts_per_100_ci_runs": ci.get("false_alerts_per_100_ci_runs"),
                "batch_seconds": part.get("batch_seconds"),
                "ci_seconds": part.get("ci_seconds"),
            }
        )
    return rows


def _joint_indices(a: list[float], b: list[float]) -> tuple[list[int], list[int]]:
    """Both metrics, each re-tested where the other changed (as `pincex regress detect` does)."""
    da, db = detect(a), detect(b)
    out = []
    for values, own, other in ((a, da, db), (b, db, da)):
        hints = [c.index for c in other.changes]
        again = detect(values, hints=hints) if hints else own
        best = again if len(again.changes) > len(own.changes) else own
        out.append([c.index for c in best.changes])
    return out[0], out[1]


def _run_joint(pairs: list[tuple[History, History]]) -> dict[str, Any]:
    """CI mode on two-metric series: each metric alone vs both tested jointly."""
    hs = [h for pair in pairs for h in pair]
    alone: list[list[tuple[int, list[int]]]] = []
    joint: list[list[tuple[int, list[int]]]] = []
    start = time.perf_counter()
    for a, b in pairs:
        ta, tb, ja, jb = [], [], [], []
        for t in range(CI_MIN_T, len(a.values)):
            ta.append((t, ours(a.values[: t + 1])))
            tb.append((t, ours(b.values[: t + 1])))
            ia, ib = _joint_indices(a.values[: t + 1], b.values[: t + 1])
            ja.append((t, ia))
            jb.append((t, ib))
        alone += [ta, tb]
        joint += [ja, jb]
    return {
        "pairs": len(pairs),
        "alone": _score_ci(hs, alone),
        "joint": _score_ci(hs, joint),
        "seconds": round(time.perf_counter() - start, 3),
    }


def run_benchmark(
    count: int = 300,
    seed: int = 7,
    ci_count: int = 100,
    otava_python: str = DEFAULT_OTAVA_PYTHON,
    tcpd: bool = True,
    pair_count: int = 40,
    sigproc_python: str = DEFAULT_SIGPROC_PYTHON,
) -> dict[str, Any]:
    """Score every detector on `count` histories (CI mode on the first `ci_count`)."""
    hs = generate(count, seed)
    ci_hs = hs[:ci_count]
    result: dict[str, Any] = {
        "histories": {
            "count": len(hs),
            "seed": seed,
            "steps": sum(h.kind == "step" for h in hs),
            "no_change": sum(h.kind == "none" for h in hs),
            "drift_only": sum(h.kind == "drift" for h in hs),
            "ci_mode_histories": len(ci_hs),
            "margin_runs": MARGIN,
        }
    }
    mine = _run_local(ours, hs, ci=False)
    mine_ci = _run_local(ours, ci_hs, ci=True)
    drift_found = [detect(h.values) for h in hs if h.kind == "drift"]
    trend_hits = sum(1 for d in drift_found if d.trends and not d.changes)
    drift_total = sum(h.kind == "drift" for h in hs)
    mine["batch"]["drift_reported_as_trend_share"] = (
        round(trend_hits / drift_total, 4) if drift_total else None
    )
    result["ours"] = {
        "detector": "planning.regress.detect (default settings)",
        **mine,
        "ci": mine_ci["ci"],
        "ci_seconds": mine_ci["ci_seconds"],
    }
    try:
        result["otava"] = _batch_and_ci(
            lambda h, ci: _run_external(otava_python, "otava_runner.py", OTAVA_LABEL, h, ci),
            hs,
            ci_hs,
        )
    except RUNNER_ERRORS as exc:
        result["otava"] = {
            "detector": "STAND-IN, not Otava: windowed binary segmentation + Welch t-test "
            f"(Otava could not run: {type(exc).__name__}: {str(exc)[:200]})",
            **_batch_and_ci(lambda h, ci: _run_local(standin, h, ci), hs, ci_hs),
        }
    try:
        result["edivisive"] = _batch_and_ci(
            lambda h, ci: _run_external(
                sigproc_python, "edivisive_runner.py", EDIVISIVE_LABEL, h, ci
            ),
            hs,
            ci_hs,
        )
    except RUNNER_ERRORS as exc:
        result["edivisive"] = {
            "detector": "UNAVAILABLE: MongoDB E-Divisive (signal-processing-algorithms) could "
            f"not run: {type(exc).__name__}: {str(exc)[:200]}",
            "available": False,
        }
    result["perfherder"] = {
        "detector": PERFHERDER_LABEL,
        **_batch_and_ci(lambda h, ci: _run_local(perfherder, h, ci), hs, ci_hs),
    }
    result["bencher"] = {
        "detector": BENCHER_LABEL,
        **_batch_and_ci(lambda h, ci: _run_local(bencher_ttest, h, ci), hs, ci_hs),
    }
    result["summary"] = _summary(result)
    if pair_count:
        result["ours_related_metrics_ci"] = _run_joint(generate_pairs(pair_count, seed))
    if tcpd:
        result["tcpd"] = evaluate_tcpd(otava_python, sigproc_python)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark regression detectors side by side.")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="a few histories (for tests)")
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--ci-count", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--otava-python", default=DEFAULT_OTAVA_PYTHON)
    parser.add_argument("--sigproc-python", default=DEFAULT_SIGPROC_PYTHON)
    parser.add_argument("--pairs", type=int, default=40, help="two-metric series for CI mode")
    parser.add_argument("--no-tcpd", action="store_true", help="skip the real-data section")
    args = parser.parse_args()
    count, ci_count, pairs = (12, 4, 2) if args.quick else (args.count, args.ci_count, args.pairs)
    result = run_benchmark(
        count,
        args.seed,
        ci_count,
        args.otava_python,
        tcpd=not args.no_tcpd,
        pair_count=pairs,
        sigproc_python=args.sigproc_python,
    )
    print(json.dumps(result, indent=None if args.json else 2))


if __name__ == "__main__":
    main()

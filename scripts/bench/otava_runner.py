"""Runs Apache Otava's detector; executed by the scratch venv's Python, not the project's.

Reads {"series": [[...], ...], "ci_min_t": int | null} on stdin and prints
{"batch": [[index, ...], ...], "batch_seconds": s, "ci": [[[t, [index, ...]], ...], ...],
"ci_seconds": s, "version": v} using `otava.analysis.compute_change_points` with Otava's
default analysis options (window 50, max p-value 0.001, min magnitude 0).
"""

from __future__ import annotations

import json
import sys
import time
from importlib.metadata import version

from otava.analysis import compute_change_points
from otava.series import AnalysisOptions


def _indices(values: list[float], opts: AnalysisOptions) -> list[int]:
    cps, _ = compute_change_points(
        values,
        window_len=opts.window_len,
        max_pvalue=opts.max_pvalue,
        min_magnitude=opts.min_magnitude,
    )
    return [int(cp.index) for cp in cps]


def main() -> None:
    job = json.load(sys.stdin)
    opts = AnalysisOptions()
    series = job["series"]
    start = time.perf_counter()
    batch = [_indices(list(s), opts) for s in series]
    batch_seconds = time.perf_counter() - start
    ci: list[list[list[object]]] = []
    ci_seconds = 0.0
    min_t = job.get("ci_min_t")
    if min_t is not None:
        start = time.perf_counter()
        for s in series:
            ci.append([[t, _indices(list(s[: t + 1]), opts)] for t in range(min_t, len(s))])
        ci_seconds = time.perf_counter() - start
    json.dump(
        {
            "batch": batch,
            "batch_seconds": batch_seconds,
            "ci": ci,
            "ci_seconds": ci_seconds,
            "version": version("apache-otava"),
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()

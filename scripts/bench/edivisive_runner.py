"""Runs MongoDB's E-Divisive; executed by a scratch venv's Python, not the project's.

Same protocol as `otava_runner.py`: reads {"series": [[...], ...], "ci_min_t": int | null} on
stdin and prints {"batch": [[index, ...], ...], "batch_seconds": s, "ci": [[[t, [index, ...]],
...], ...], "ci_seconds": s, "version": v}, using
`signal_processing_algorithms.energy_statistics.energy_statistics.e_divisive` at its defaults
(pvalue 0.05, 100 permutations), with numpy's generator seeded (31415) for each call so that the
permutation test gives the same answer for the same input.
"""

from __future__ import annotations

import json
import sys
import time
from importlib.metadata import version

from signal_processing_algorithms.determinism import deterministic_numpy_random
from signal_processing_algorithms.energy_statistics.energy_statistics import e_divisive

SEED = 31415


def _indices(values: list[float]) -> list[int]:
    if len(values) < 4:
        return []
    with deterministic_numpy_random(SEED):
        return sorted(int(i) for i in e_divisive(values))


def main() -> None:
    job = json.load(sys.stdin)
    series = job["series"]
    start = time.perf_counter()
    batch = [_indices(list(s)) for s in series]
    batch_seconds = time.perf_counter() - start
    ci: list[list[list[object]]] = []
    ci_seconds = 0.0
    min_t = job.get("ci_min_t")
    if min_t is not None:
        start = time.perf_counter()
        for s in series:
            ci.append([[t, _indices(list(s[: t + 1]))] for t in range(min_t, len(s))])
        ci_seconds = time.perf_counter() - start
    json.dump(
        {
            "batch": batch,
            "batch_seconds": batch_seconds,
            "ci": ci,
            "ci_seconds": ci_seconds,
            "version": version("signal-processing-algorithms"),
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()

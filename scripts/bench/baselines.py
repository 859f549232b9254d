"""Public regression detectors reimplemented from their published designs, for the benchmark.

Both take a history (values in run order) and return the indices of the runs they flag; an index
is the first run at the new level, as for every detector in the benchmark.

- `perfherder`: Mozilla Perfherder's t-test detector (treeherder `perfalert.detect_changes`):
  for each run i, the runs before i (12, growing to 24 while no change was seen) are compared with
  the 12 from i on by a Welch-style t (linearly weighted means, unweighted sample variances);
  i is flagged when |t| > 7, it is a local maximum of |t| and both windows are full, and the
  means differ by at least 2% (Perfherder's default alert threshold).
- `bencher_ttest`: Bencher's Student's t-test threshold: each new run is checked against the
  last up-to-64 runs (at least 2); an alert is raised when it falls outside mean ± t(0.99, n-1)
  · s, both boundaries at 0.99 (the documented example uses an upper boundary of 0.99 with
  max sample size 64; both sides are set here because the histories change either way).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from scipy.stats import t as student_t

__all__ = ["BENCHER_LABEL", "PERFHERDER_LABEL", "bencher_ttest", "perfherder"]

PERFHERDER_LABEL = (
    "Perfherder t-test (own implementation of treeherder detect_changes: back window 12..24, "
    "fore window 12, linear weights, |t| > 7, local max, >= 2% change)"
)
BENCHER_LABEL = (
    "Bencher t_test threshold (own implementation: last <= 64 runs, min 2, lower and upper "
    "boundary 0.99, one alert per run outside the limits)"
)


def _linear_weights(n: int) -> np.ndarray:
    return (n - np.arange(n)) / n


def _weighted_stats(window: np.ndarray) -> tuple[float, float, int]:
    """Perfherder `analyze` with linear weights: (weighted mean, sample variance, n).

    `window` is ordered nearest-first, so the nearest run gets the largest weight."""
    n = window.size
    w = _linear_weights(n)
    avg = float(np.sum(window * w) / np.sum(w))
    var = float(np.sum((window - avg) ** 2) / (n - 1)) if n > 1 else 0.0
    return avg, var, n


def perfherder(
    values: Sequence[float],
    min_back_window: int = 12,
    max_back_window: int = 24,
    fore_window: int = 12,
    t_threshold: float = 7.0,
    alert_threshold_pct: float = 2.0,
) -> list[int]:
    """Perfherder's t-test change detection (one value per run)."""
    x = np.asarray(values, dtype=float)
    n = x.size
    t = np.zeros(n)
    back = np.zeros(n, dtype=int)
    fore = np.zeros(n, dtype=int)
    last_seen_regression = 0
    for i in range(1, n):
        reach = min(max(last_seen_regression, min_back_window), max_back_window)
        jw = x[max(0, i - reach) : i][::-1]
        kw = x[i : i + fore_window]
        back[i], fore[i] = jw.size, kw.size
        s1, s2 = _weighted_stats(jw), _weighted_stats(kw)
        delta = s2[0] - s1[0]
        if delta == 0:
            t[i] = 0.0
        elif s1[1] == 0 and s2[1] == 0:
            t[i] = np.inf
        else:
            t[i] = abs(delta) / np.sqrt(s1[1] / s1[2] + s2[1] / s2[2])
        last_seen_regression = 0 if t[i] > t_threshold else last_seen_regression + 1
    found: list[int] = []
    for i in range(1, n):
        if back[i] < min_back_window or fore[i] < fore_window or t[i] <= t_threshold:
            continue
        if t[i - 1] > t[i] or (i + 1 < n and t[i + 1] > t[i]):
            continue
        before = float(np.mean(x[max(0, i - back[i]) : i]))
        after = float(np.mean(x[i : i + fore_window]))
        pct = abs(after - before) / abs(before) * 100.0 if before != 0 else np.inf
        if pct >= alert_threshold_pct:
            found.append(i)
    return found


@lru_cache(maxsize=1024)
def _t_quantile(boundary: float, dof: int) -> float:
    return float(student_t.ppf(boundary, dof))


def bencher_ttest(
    values: Sequence[float],
    max_sample_size: int = 64,
    min_sample_size: int = 2,
    boundary: float = 0.99,
) -> list[int]:
    """Runs outside Bencher's t-test limits computed from the runs before them."""
    x = np.asarray(values, dtype=float)
    found: list[int] = []
    for i in range(min_sample_size, x.size):
        sample = x[max(0, i - max_sample_size) : i]
        m = sample.size
        mean = float(np.mean(sample))
        sd = float(np.std(sample, ddof=1))
        half = _t_quantile(boundary, m - 1) * sd
        if x[i] > mean + half or x[i] < mean - half:
            found.append(i)
    return found

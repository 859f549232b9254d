"""Robust statistics the detector is built from: noise scale, rank tests, shift and slope CIs."""

from __future__ import annotations

import math
import statistics
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "FloatArray",
    "hodges_lehmann",
    "mad_sigma",
    "mann_kendall",
    "median",
    "noise_sigma",
    "rank_sum_pvalue",
    "rolling_median",
    "theil_sen",
]

FloatArray = npt.NDArray[np.float64]

_MAD_TO_SIGMA = 1.4826
_Z95 = 1.959963984540054
_EXACT_MAX_SMALL_SIDE = 10


def median(values: FloatArray) -> float:
    """Median; plain Python for the short arrays the detector mostly sees (numpy's overhead
    dominates below a few hundred values)."""
    if values.size <= 256:
        return float(statistics.median(values.tolist()))
    return float(np.median(values))


@lru_cache(maxsize=64)
def _pairs(n: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    i, j = np.triu_indices(n, k=1)
    return i, j


def mad_sigma(values: FloatArray) -> float:
    """Gaussian-consistent median absolute deviation."""
    if values.size == 0:
        return 0.0
    return _MAD_TO_SIGMA * median(np.abs(values - median(values)))


def noise_sigma(values: FloatArray) -> float:
    """Run-to-run noise from the median absolute first difference (robust to steps and drift)."""
    if values.size < 3:
        return 0.0
    return median(np.abs(np.diff(values))) * _MAD_TO_SIGMA / math.sqrt(2.0)


def rolling_median(values: FloatArray, window: int = 5) -> FloatArray:
    """Centred running median; the window shrinks at the edges."""
    half = window // 2
    n = values.size
    out = np.empty(n)
    if n >= window:
        out[half : n - half] = np.median(sliding_window_view(values, window), axis=1)
        edges = [*range(half), *range(n - half, n)]
    else:
        edges = list(range(n))
    for i in edges:
        out[i] = statistics.median(values[max(0, i - half) : min(n, i + half + 1)].tolist())
    return out


@lru_cache(maxsize=512)
def _rank_sum_cdf(small: int, total: int) -> tuple[int, FloatArray]:
    """Exact null distribution of the rank sum of `small` of `total` ranks (no ties)."""
    min_sum = small * (small + 1) // 2
    max_sum = small * (2 * total - small + 1) // 2
    # counts[j, s]: subsets of size j of the ranks seen so far with sum s
    counts = np.zeros((small + 1, max_sum + 1))
    counts[0, 0] = 1.0
    for rank in range(1, total + 1):
        upper = min(rank, small)
        counts[1 : upper + 1, rank:] += counts[0:upper, : max_sum + 1 - rank]
    dist = counts[small, min_sum:]
    dist = dist / dist.sum()
    return min_sum, np.cumsum(dist)


def rank_sum_pvalue(left: FloatArray, right: FloatArray) -> float:
    """Two-sided Mann–Whitney (Wilcoxon rank-sum) p-value; exact when one side is small."""
    m, n = left.size, right.size
    if m == 0 or n == 0:
        return 1.0
    both = np.concatenate([left, right])
    order = both.argsort(kind="mergesort")
    ranks = np.empty(m + n)
    ranks[order] = np.arange(1, m + n + 1, dtype=float)
    # mid-ranks for ties
    sorted_vals = both[order]
    if np.any(sorted_vals[1:] == sorted_vals[:-1]):
        _, inverse, counts = np.unique(both, return_inverse=True, return_counts=True)
        cum = np.cumsum(counts)
        mid = cum - (counts - 1) / 2.0
        ranks = mid[inverse]
        tie_term = float(np.sum(counts**3 - counts))
    else:
        tie_term = 0.0
    small_is_right = n <= m
    small = n if small_is_right else m
    w = float(ranks[m:].sum() if small_is_right else ranks[:m].sum())
    if small <= _EXACT_MAX_SMALL_SIDE:
        min_sum, cdf = _rank_sum_cdf(small, m + n)
        lo_idx = math.ceil(w) - min_sum
        hi_idx = math.floor(w) - min_sum - 1
        lower = float(cdf[min(max(lo_idx, 0), cdf.size - 1)]) if lo_idx >= 0 else 0.0
        upper = 1.0 - (float(cdf[hi_idx]) if hi_idx >= 0 else 0.0)
        return min(1.0, 2.0 * min(lower, upper))
    total = m + n
    mean = small * (total + 1) / 2.0
    var = m * n / 12.0 * ((total + 1) - tie_term / (total * (total - 1)))
    if var <= 0:
        return 1.0
    z = (abs(w - mean) - 0.5) / math.sqrt(var)
    return min(1.0, math.erfc(max(z, 0.0) / math.sqrt(2.0)))


def hodges_lehmann(left: FloatArray, right: FloatArray) -> tuple[float, float, float]:
    """Shift right - left: Hodges–Lehmann estimate and its ~95% distribution-free interval."""
    diffs = np.sort(np.subtract.outer(right, left).ravel())
    m, n = left.size, right.size
    count = diffs.size
    estimate = float(np.median(diffs))
    k = math.floor(m * n / 2.0 - _Z95 * math.sqrt(m * n * (m + n + 1) / 12.0))
    k = min(max(k, 0), count - 1)
    return estimate, float(diffs[k]), float(diffs[count - 1 - k])


def theil_sen(values: FloatArray) -> tuple[float, float, float]:
    """Theil–Sen slope per run with Sen's ~95% interval."""
    n = values.size
    i, j = _pairs(n)
    slopes = np.sort((values[j] - values[i]) / (j - i))
    count = slopes.size
    if count == 0:
        return 0.0, 0.0, 0.0
    var = n * (n - 1) * (2 * n + 5) / 18.0
    c = _Z95 * math.sqrt(var)
    lo = min(max(math.floor((count - c) / 2.0), 0), count - 1)
    hi = min(max(math.ceil((count + c) / 2.0), 0), count - 1)
    return float(np.median(slopes)), float(slopes[lo]), float(slopes[hi])


def mann_kendall(values: FloatArray) -> float:
    """Two-sided Mann–Kendall p-value for a monotone trend."""
    n = values.size
    if n < 4:
        return 1.0
    i, j = _pairs(n)
    s = float(np.sign(values[j] - values[i]).sum())
    var = n * (n - 1) * (2 * n + 5) / 18.0
    z = (abs(s) - 1.0) / math.sqrt(var) if s != 0 else 0.0
    return min(1.0, math.erfc(max(z, 0.0) / math.sqrt(2.0)))

"""What kind of noise a series has, judged from its residuals around the fitted levels."""

from __future__ import annotations

from typing import Literal

import numpy as np

from planning.regress.stats import FloatArray, mad_sigma, median

__all__ = ["NoiseKind", "noise_kind"]

NoiseKind = Literal["gaussian", "skewed", "bimodal", "heavy-tailed", "seasonal", "unknown"]


def _autocorr(values: FloatArray, lag: int) -> float:
    a, b = values[:-lag], values[lag:]
    if a.size < 3:
        return 0.0
    a, b = a - a.mean(), b - b.mean()
    denom = float(np.sqrt(np.dot(a, a) * np.dot(b, b)))
    return float(np.dot(a, b)) / denom if denom > 0 else 0.0


_BIMODAL_SHARE = 0.73  # a gaussian's best two-group split explains about 2/pi = 0.64


def _two_group_share(values: FloatArray) -> float:
    """Share of variance explained by the best split of the sorted values into two groups
    (each at least 15% of the runs): high for two machines, about 0.64 for one gaussian."""
    s = np.sort(values)
    n = s.size
    total = float(np.sum((s - s.mean()) ** 2))
    if total == 0:
        return 0.0
    edge = max(2, int(0.15 * n))
    k = np.arange(edge, n - edge + 1)
    cs = np.cumsum(s)
    between = k * (n - k) / n * (cs[k - 1] / k - (cs[-1] - cs[k - 1]) / (n - k)) ** 2
    return float(between.max() / total)


def noise_kind(residuals: FloatArray, period: int = 7) -> NoiseKind:
    """Classify residuals: seasonal (weekly), bimodal, heavy-tailed, skewed or gaussian."""
    n = residuals.size
    if n < 8:
        return "unknown"
    sd = float(np.std(residuals))
    if sd == 0:
        return "gaussian"
    if n >= 3 * period and _autocorr(residuals, period) > 0.35 and _autocorr(residuals, 1) < 0.6:
        return "seasonal"
    sigma = mad_sigma(residuals) or sd
    z = (residuals - median(residuals)) / sigma
    if np.mean(np.abs(z) > 4.0) >= 0.02:
        return "heavy-tailed"
    if n >= 16 and _two_group_share(residuals) > _BIMODAL_SHARE:
        return "bimodal"
    centred = residuals - residuals.mean()
    skew = float(np.mean(centred**3) / sd**3)
    if abs(skew) > 0.8:
        return "skewed"
    return "gaussian"

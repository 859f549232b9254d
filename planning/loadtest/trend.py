"""The Mann-Kendall test for a monotonic trend in a series, one-sided (upward), with numpy.

    mk = mann_kendall([3.1, 3.0, 3.4, 3.9, 4.2, 4.8])
    mk.s, mk.z, mk.p_up            # 13, 2.25, 0.012
    mk.rising(alpha=0.01)          # False: p 0.012 is not below 0.01

S counts, over every pair i < j, +1 when x[j] > x[i] and -1 when x[j] < x[i]. Under no trend S
has mean 0 and variance n(n-1)(2n+5)/18, less sum t(t-1)(2t+5)/18 over each group of t tied
values. Z is S moved one unit towards 0 (continuity correction) over its standard deviation,
and the one-sided p-value for a rise is P(N(0,1) >= Z). The normal approximation is used for
every n; with fewer than `MIN_POINTS` points there is no test.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["MIN_POINTS", "MannKendall", "mann_kendall"]

MIN_POINTS = 4


@dataclass(frozen=True, slots=True)
class MannKendall:
    n: int
    s: int
    variance: float
    z: float
    p_up: float  # one-sided p-value of an upward trend

    def rising(self, alpha: float) -> bool:
        """Whether the series rises, at significance `alpha`."""
        return self.p_up < alpha


def mann_kendall(values: Sequence[float]) -> MannKendall:
    """The test on `values` in time order; ValueError with fewer than MIN_POINTS values."""
    x = np.asarray(values, dtype=np.float64)
    n = int(x.size)
    if n < MIN_POINTS:
        raise ValueError(f"a trend test needs at least {MIN_POINTS} points, got {n}")
    # one row of pairs at a time: O(n) memory for long holds of short windows
    s = sum(int(np.sign(x[i + 1 :] - x[i]).sum()) for i in range(n - 1))
    _, ties = np.unique(x, return_counts=True)
    ties = ties[ties > 1].astype(np.float64)
    variance = (n * (n - 1) * (2 * n + 5) - float((ties * (ties - 1) * (2 * ties + 5)).sum())) / 18
    z = 0.0 if variance <= 0 or s == 0 else (s - math.copysign(1, s)) / math.sqrt(variance)
    return MannKendall(n, s, variance, z, 0.5 * math.erfc(z / math.sqrt(2)))

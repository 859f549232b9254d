"""The Mann-Kendall test: hand-computed cases and scipy's Kendall tau on the same series."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from planning.loadtest.trend import mann_kendall


def test_a_strict_rise_by_hand() -> None:
    # S = 10 pairs all rising; Var = 5*4*15/18; Z = (10 - 1) / sqrt(Var)
    mk = mann_kendall([1, 2, 3, 4, 5])
    assert mk.s == 10
    assert mk.variance == pytest.approx(300 / 18)
    assert mk.z == pytest.approx(9 / math.sqrt(300 / 18))
    assert mk.p_up == pytest.approx(0.013743, abs=1e-6)
    assert mk.rising(0.05) and not mk.rising(0.01)


def test_ties_reduce_the_variance_by_hand() -> None:
    # pairs: 8 rising, 2 tied; two groups of 2 ties: Var = (300 - 2 * 2*1*9) / 18
    mk = mann_kendall([1, 1, 2, 2, 3])
    assert mk.s == 8
    assert mk.variance == pytest.approx(264 / 18)
    assert mk.z == pytest.approx(7 / math.sqrt(264 / 18))


def test_a_fall_is_not_a_rise() -> None:
    mk = mann_kendall([5, 4, 3, 2, 1])
    assert mk.s == -10
    assert mk.p_up > 0.98
    assert not mk.rising(0.5)


def test_a_flat_series_has_no_trend() -> None:
    mk = mann_kendall([2.0] * 8)
    assert (mk.s, mk.z, mk.p_up) == (0, 0.0, 0.5)


def test_too_few_points() -> None:
    with pytest.raises(ValueError, match="at least 4 points, got 3"):
        mann_kendall([1, 2, 3])


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("rounded", [False, True])
def test_agrees_with_scipy_kendall_tau(seed: int, rounded: bool) -> None:
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 1, 60) * 0.3 + rng.normal(0, 1, 60)
    if rounded:  # ties
        x = np.round(x, 1)
    mk = mann_kendall(list(x))
    t = np.arange(x.size)
    tau = stats.kendalltau(t, x, method="asymptotic", alternative="greater")
    n0 = x.size * (x.size - 1) / 2
    _, tied = np.unique(x, return_counts=True)
    n2 = float((tied * (tied - 1) / 2).sum())
    # tau-b = S / sqrt(n0 (n0 - n2)) when time has no ties
    assert mk.s == pytest.approx(tau.statistic * math.sqrt(n0 * (n0 - n2)))
    # scipy's z has no continuity correction: S / sqrt(Var)
    assert stats.norm.sf(mk.s / math.sqrt(mk.variance)) == pytest.approx(tau.pvalue, rel=1e-9)

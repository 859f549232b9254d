"""Change points in one run history: steps, drift (trends) and outliers, each explained.

The pipeline, all on log values when the series is positive (so shifts are relative):
1. noise scale from first differences (robust to steps and drift);
2. isolated runs and pairs far from a running median are set aside as outliers;
3. binary segmentation with a CUSUM statistic proposes candidate steps;
4. each candidate must pass, against its neighbouring segments: a minimum run count on each
   side, an exact/normal Mann–Whitney test at a level corrected for the positions searched,
   an effect-size floor relative to the noise, and an F-test that a step explains the window
   better than a straight line (otherwise it is drift); the weakest failing one is dropped and
   the rest re-tested until all pass;
5. short excursions that come back to the earlier level become outliers (bursts);
6. what is left between steps is tested for drift (Mann–Kendall + Theil–Sen).

Related metrics of the same series can be passed as `hints` (runs where they changed): a split
near a hint is proposed even when the CUSUM did not pick it, and is tested at a level corrected
for the few positions around the hint only, which confirms a real shared change sooner.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy.special import fdtrc

from planning.regress.directions import Direction
from planning.regress.noise import NoiseKind, noise_kind
from planning.regress.stats import (
    FloatArray,
    hodges_lehmann,
    mad_sigma,
    mann_kendall,
    median,
    noise_sigma,
    rank_sum_pvalue,
    rolling_median,
    theil_sen,
)

__all__ = [
    "DEFAULT_SETTINGS",
    "Change",
    "Detection",
    "DetectorSettings",
    "Level",
    "Outlier",
    "Trend",
    "detect",
]


_HINT_RADIUS = 2
_HINT_POSITIONS = 20  # Bonferroni for a hinted split: the 5 runs around it, 4x over


@dataclass(frozen=True)
class DetectorSettings:
    """Knobs of the detector; the defaults are the tuned ones."""

    min_runs: int = 8
    min_run_at_level: int = 3
    min_sustained: int = 5
    alpha: float = 0.05
    step_alpha: float = 0.001
    step_alpha_loose: float = 0.01
    cusum_threshold: float = 3.0
    outlier_z: float = 4.0
    max_burst: int = 3
    min_effect_sigma: float = 1.0
    min_effect_pct: float = 0.5
    trend_alpha: float = 0.001
    min_trend_sigma: float = 2.0
    min_trend_pct: float = 2.0


DEFAULT_SETTINGS = DetectorSettings()


@dataclass(frozen=True)
class Level:
    """Robust location and spread of the runs on one side of a change."""

    median: float
    spread: float
    runs: int


@dataclass(frozen=True)
class Change:
    """A step: `index` is the first run at the new level."""

    index: int
    direction: str
    change_pct: float
    interval_pct: tuple[float, float]
    before: Level
    after: Level
    confidence: float
    p_value: float
    noise: NoiseKind
    runs_since: int
    runs_at_new_level: int
    effect_in_noise: float
    why_not_outlier: str
    confirmed_by_related: bool = False


@dataclass(frozen=True)
class Trend:
    """Drift over runs `start`..`end` (inclusive)."""

    start: int
    end: int
    direction: str
    slope_pct_per_run: float
    total_change_pct: float
    interval_pct: tuple[float, float]
    p_value: float
    why_not_step: str


@dataclass(frozen=True)
class Outlier:
    """A run far from its level that the level does not follow (alone or in a short burst)."""

    index: int
    value: float
    expected: float
    deviation_pct: float
    direction: str
    burst_length: int


@dataclass(frozen=True)
class Detection:
    """Everything found in one history."""

    runs: int
    enough_data: bool
    noise: NoiseKind
    changes: list[Change] = field(default_factory=list)
    trends: list[Trend] = field(default_factory=list)
    outliers: list[Outlier] = field(default_factory=list)


def _pct(delta: float, base: float, log: bool) -> float:
    if log:
        return (math.exp(delta) - 1.0) * 100.0
    return delta / abs(base) * 100.0 if base != 0 else math.nan


def _verdict(delta: float, direction: Direction) -> str:
    worse = delta > 0 if direction == "higher_is_worse" else delta < 0
    return "regression" if worse else "improvement"


def _cusum_split(y: FloatArray, a: int, b: int, min_len: int) -> tuple[int, float]:
    seg = y[a:b]
    m = seg.size
    if m < 2 * min_len:
        return -1, 0.0
    cs = np.cumsum(seg)
    k = np.arange(min_len, m - min_len + 1)
    left_mean = cs[k - 1] / k
    right_mean = (cs[-1] - cs[k - 1]) / (m - k)
    stat = np.sqrt(k * (m - k) / m) * np.abs(left_mean - right_mean)
    best = int(np.argmax(stat))
    return a + int(k[best]), float(stat[best])


def _binary_segmentation(y: FloatArray, sigma: float, settings: DetectorSettings) -> list[int]:
    found: list[int] = []
    stack = [(0, y.size)]
    while stack:
        a, b = stack.pop()
        k, stat = _cusum_split(y, a, b, settings.min_run_at_level)
        if k < 0 or stat / sigma < settings.cusum_threshold:
            continue
        found.append(k)
        stack.extend([(a, k), (k, b)])
    return sorted(found)


def _step_beats_line(y: FloatArray, k: int) -> tuple[float, bool]:
    """Is a step at k more than drift? F-test p of a step added to a line fitted on y,
    and whether the step alone fits better than the line alone."""
    m = y.size
    t = np.arange(m, dtype=float)
    step = (t >= k).astype(float)
    line = np.column_stack([np.ones(m), t])
    full = np.column_stack([line, step])
    sse_line = float(np.sum((y - line @ np.linalg.lstsq(line, y, rcond=None)[0]) ** 2))
    sse_full = float(np.sum((y - full @ np.linalg.lstsq(full, y, rcond=None)[0]) ** 2))
    left, right = y[:k], y[k:]
    sse_step = float(np.sum((left - left.mean()) ** 2) + np.sum((right - right.mean()) ** 2))
    dof = m - 3
    if dof <= 0:
        return 1.0, sse_step < sse_line
    if sse_full <= 1e-300:
        return (0.0 if sse_line > 1e-300 else 1.0), sse_step < sse_line
    f = (sse_line - sse_full) / (sse_full / dof)
    return float(fdtrc(1, dof, max(f, 0.0))), sse_step < sse_line


@dataclass(frozen=True)
class _Test:
    ok: bool
    p_value: float
    alpha: float


def _test_candidate(
    y: FloatArray,
    keep: FloatArray,
    span: tuple[int, int, int],
    sigma: float,
    log: bool,
    s: DetectorSettings,
    hinted: bool = False,
) -> _Test:
    a, k, b = span
    mask_l, mask_r = keep[a:k] > 0, keep[k:b] > 0
    left, right = y[a:k][mask_l], y[k:b][mask_r]
    # a searched split pays for every position it could have picked; a split named in advance
    # by a related metric pays only for the few positions around the hint
    positions = _HINT_POSITIONS if hinted else b - a - 2 * s.min_run_at_level + 1
    alpha = s.alpha / max(1, positions)
    if left.size < s.min_run_at_level or right.size < s.min_run_at_level:
        return _Test(False, 1.0, alpha)
    p = rank_sum_pvalue(left, right)
    effect = abs(float(median(right) - median(left)))
    level = 1.0 if log else abs(median(left)) or 1.0
    floor = max(s.min_effect_sigma * sigma, s.min_effect_pct / 100.0 * level)
    if p >= alpha or effect < floor:
        return _Test(False, p, alpha)
    idx = np.concatenate([np.arange(a, k)[mask_l], np.arange(k, b)[mask_r]])
    local = y[idx]
    cut = int(np.searchsorted(idx, k))
    if local.size >= 8:
        p_step, step_fits_better = _step_beats_line(local, cut)
        limit = s.step_alpha_loose if step_fits_better else s.step_alpha
        if p_step >= limit:
            return _Test(False, p, alpha)
    return _Test(True, p, alpha)


def _confirm(
    y: FloatArray,
    keep: FloatArray,
    cands: list[int],
    sigma: float,
    log: bool,
    s: DetectorSettings,
    hinted: frozenset[int] = frozenset(),
) -> dict[int, _Test]:
    cps = list(cands)
    while True:
        bounds = [0, *cps, y.size]
        tests = {
            cp: _test_candidate(
                y, keep, (bounds[i], cp, bounds[i + 2]), sigma, log, s, cp in hinted
            )
            for i, cp in enumerate(cps)
        }
        failing = [cp for cp, t in tests.items() if not t.ok]
        if not failing:
            return tests
        worst = max(failing, key=lambda cp: tests[cp].p_value / tests[cp].alpha)
        cps.remove(worst)


def _drop_bursts(
    y: FloatArray, cps: list[int], sigma: float, s: DetectorSettings
) -> tuple[list[int], list[tuple[int, int]]]:
    """Remove pairs of steps that leave and come back within fewer than min_sustained runs."""
    bursts: list[tuple[int, int]] = []
    cps = list(cps)
    changed = True
    while changed:
        changed = False
        bounds = [0, *cps, y.size]
        for i in range(1, len(bounds) - 2):
            start, end = bounds[i], bounds[i + 1]
            if end - start >= s.min_sustained:
                continue
            before = median(y[bounds[i - 1] : start])
            after = median(y[end : bounds[i + 2]])
            if abs(after - before) < max(s.min_effect_sigma * sigma, 1e-12):
                bursts.append((start, end))
                cps.remove(start)
                cps.remove(end)
                changed = True
                break
    return cps, bursts


def _hinted_candidates(
    y: FloatArray, cands: list[int], hints: Sequence[int], s: DetectorSettings
) -> tuple[list[int], frozenset[int], frozenset[int]]:
    """Add the best split near each hint (a related metric's change) to the candidates."""
    n = y.size
    out, hinted, added = list(cands), set(), set()
    for h in hints:
        near = [c for c in out if abs(c - h) <= _HINT_RADIUS]
        if near:
            hinted.update(near)
            continue
        lo, hi = max(h - _HINT_RADIUS, s.min_run_at_level), min(h + _HINT_RADIUS, n - 1)
        if lo > hi:
            continue
        cs = np.cumsum(y)
        k = np.arange(lo, hi + 1)
        stat = np.sqrt(k * (n - k) / n) * np.abs(cs[k - 1] / k - (cs[-1] - cs[k - 1]) / (n - k))
        best = int(k[int(np.argmax(stat))])
        out.append(best)
        hinted.add(best)
        added.add(best)
    return sorted(set(out)), frozenset(hinted), frozenset(added)


def _level(x: FloatArray) -> Level:
    return Level(median(x), mad_sigma(x), int(x.size))


def detect(
    values: list[float] | FloatArray,
    direction: Direction = "higher_is_worse",
    settings: DetectorSettings = DEFAULT_SETTINGS,
    hints: Sequence[int] = (),
) -> Detection:
    """Find steps, drift and outliers in one history (values in run order).

    `hints` are runs where related metrics of the same series changed: a step near one is
    tested at a level corrected only for the few positions around it, not the whole window.
    """
    x = np.asarray(values, dtype=float)
    n = int(x.size)
    if n < settings.min_runs:
        return Detection(n, False, "unknown")
    log = bool(np.all(x > 0))
    y = np.log(x) if log else x.copy()
    scale = 1.0 if log else max(abs(median(x)), 1.0)
    sigma = max(noise_sigma(y), 1e-9 * scale)

    # 1. isolated runs and pairs away from the running median
    smooth = rolling_median(y, 5)
    flagged = np.abs(y - smooth) > settings.outlier_z * sigma
    keep = (~flagged).astype(float)
    cleaned = np.where(flagged, smooth, y)

    # 2-4. candidates, confirmation, bursts
    cands, hinted, added = _hinted_candidates(
        cleaned, _binary_segmentation(cleaned, sigma, settings), hints, settings
    )
    tests = _confirm(y, keep, cands, sigma, log, settings, hinted)
    cps, bursts = _drop_bursts(cleaned, sorted(tests), sigma, settings)
    if len(cps) != len(tests):
        tests = _confirm(y, keep, cps, sigma, log, settings, hinted)
        cps = sorted(tests)

    bounds = [0, *cps, n]
    fitted = np.empty(n)
    for a, b in itertools.pairwise(bounds):
        seg_keep = keep[a:b] > 0
        fitted[a:b] = median(y[a:b][seg_keep] if seg_keep.any() else y[a:b])

    # outliers: runs far from their level, alone or in short bursts
    far = flagged.copy()
    for start, end in bursts:
        far[start:end] = True
    outliers: list[Outlier] = []
    i = 0
    while i < n:
        if not far[i]:
            i += 1
            continue
        j = i
        while j < n and far[j]:
            j += 1
        if j - i <= settings.max_burst:
            for r in range(i, j):
                keep[r] = 0.0
                expected = math.exp(fitted[r]) if log else float(fitted[r])
                delta = float(y[r] - fitted[r])
                outliers.append(
                    Outlier(
                        r,
                        float(x[r]),
                        expected,
                        _pct(delta, float(fitted[r]), log),
                        _verdict(delta, direction),
                        j - i,
                    )
                )
        i = j

    kept = keep > 0
    resid = (y - fitted)[kept]
    kind = noise_kind(resid)

    changes: list[Change] = []
    for pos, cp in enumerate(cps):
        a, b = bounds[pos], bounds[pos + 2]
        left_mask, right_mask = kept[a:cp], kept[cp:b]
        left, right = y[a:cp][left_mask], y[cp:b][right_mask]
        shift, lo, hi = hodges_lehmann(left, right)
        base = median(left)
        p = tests[cp].p_value
        adjusted = min(1.0, p / tests[cp].alpha * settings.alpha)
        mid = (median(left) + median(right)) / 2.0
        new_side = (y[cp:b] > mid) if shift > 0 else (y[cp:b] < mid)
        consecutive = int(np.argmin(new_side)) if not new_side.all() else int(new_side.size)
        at_new = int(new_side.sum())
        changes.append(
            Change(
                index=cp,
                direction=_verdict(shift, direction),
                change_pct=_pct(shift, base, log),
                interval_pct=(_pct(lo, base, log), _pct(hi, base, log)),
                before=_level(x[a:cp][left_mask]),
                after=_level(x[cp:b][right_mask]),
                confidence=1.0 - adjusted,
                p_value=p,
                noise=kind,
                runs_since=n - cp,
                runs_at_new_level=at_new,
                effect_in_noise=abs(shift) / sigma,
                confirmed_by_related=cp in added
                or (
                    cp in hinted
                    and p >= settings.alpha / max(1, b - a - 2 * settings.min_run_at_level + 1)
                ),
                why_not_outlier=(
                    f"{consecutive} consecutive runs from run {cp} at the new level "
                    f"({at_new} of {b - cp} runs since), not a spike or burst of "
                    f"<= {settings.max_burst}"
                ),
            )
        )

    trends = _trends(y, kept, bounds, sigma, log, direction, settings)
    return Detection(n, True, kind, changes, trends, outliers)


def _trends(
    y: FloatArray,
    kept: npt.NDArray[np.bool_],
    bounds: list[int],
    sigma: float,
    log: bool,
    direction: Direction,
    s: DetectorSettings,
) -> list[Trend]:
    trends: list[Trend] = []
    for a, b in itertools.pairwise(bounds):
        idx = np.arange(a, b)[kept[a:b]]
        if idx.size < s.min_runs:
            continue
        seg = y[idx]
        p = mann_kendall(seg)
        if p >= s.trend_alpha:
            continue
        # Theil–Sen over the kept runs, slope per run index
        slope, lo, hi = theil_sen(seg)
        span = float(idx[-1] - idx[0])
        per_run = span / max(idx.size - 1, 1)
        slope, lo, hi = slope / per_run, lo / per_run, hi / per_run
        total = slope * span
        base = median(seg[: max(3, idx.size // 4)])
        floor = max(
            s.min_trend_sigma * sigma, s.min_trend_pct / 100.0 * (1.0 if log else abs(base))
        )
        if abs(total) < floor or lo * hi <= 0:
            continue
        trends.append(
            Trend(
                start=int(idx[0]),
                end=int(idx[-1]),
                direction=_verdict(slope, direction),
                slope_pct_per_run=_pct(slope, base, log) if log else slope / abs(base) * 100.0,
                total_change_pct=_pct(total, base, log),
                interval_pct=(_pct(lo * span, base, log), _pct(hi * span, base, log)),
                p_value=p,
                why_not_step=(
                    "a straight line fits as well as any single step (F-test), "
                    f"Mann–Kendall p={p:.2g} over {idx.size} runs"
                ),
            )
        )
    return trends

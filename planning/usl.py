"""Universal Scalability Law: X(N) = λN / (1 + σ(N−1) + κN(N−1)) fitted to load-vs-throughput.

    points = parse_points("concurrency,throughput\\n1,955\\n2,1879\\n...")
    fit = fit_usl(points)
    fit.curve.sigma, fit.curve.peak_concurrency, fit.intervals.kappa, fit.warnings

Two methods, after the R package `usl` (smoeding/usl):
- "nls" (default, usl 2.x/3.x): least squares on throughput with λ free, bounded
  0 <= σ <= 1, 0 <= κ <= 1, λ >= 0 (scipy's trust-region reflective solver).
- "normalized" (usl 1.x, Gunther): λ fixed at X(1) (a point at load 1 is required), then the
  linear regression through the origin of N/C(N) − 1 on (N−1) and N(N−1), C(N) = X(N)/X(1).

Intervals are two-sided 95 % Wald intervals: estimate ± t(0.975, n−p)·SE, SE from the least-squares
covariance s²(JᵀJ)⁻¹ (the regression's covariance for "normalized"); the peak's by the delta
method. They are clipped to the parameters' bounds.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "LEVEL",
    "LOAD_COLUMNS",
    "Curve",
    "Interval",
    "Intervals",
    "Points",
    "USLDataError",
    "USLFit",
    "fit_usl",
    "parse_points",
    "read_points",
]

LOAD_COLUMNS = ("concurrency", "load", "processors", "users", "n")
"""Accepted names of the load column (the first is the documented one)."""

LEVEL = 0.95
_MIN_LOADS = 4
_FEW_POINTS = 6
_BELOW_KNEE = 0.75


class USLDataError(ValueError):
    """A load-vs-throughput file that cannot be fitted."""


# --- points --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Points:
    """Measured (load, throughput) pairs, loads and throughputs above zero."""

    load: tuple[float, ...]
    throughput: tuple[float, ...]

    def __len__(self) -> int:
        return len(self.load)

    def head(self, rows: int) -> Points:
        """The first `rows` points."""
        return Points(self.load[:rows], self.throughput[:rows])


def _number(text: str, column: str, line: int) -> float:
    try:
        value = float(text)
    except ValueError:
        raise USLDataError(f"line {line}: {column} {text.strip()!r} is not a number") from None
    if not math.isfinite(value):
        raise USLDataError(f"line {line}: {column} {text.strip()!r} is not a finite number")
    if value <= 0:
        raise USLDataError(f"line {line}: {column} must be above 0, got {text.strip()}")
    return value


def parse_points(text: str) -> Points:
    """Read CSV text with a header naming `concurrency` (or load, processors, users, n) and
    `throughput`; other columns are ignored, blank lines skipped."""
    rows = [(number, row) for number, row in enumerate(csv.reader(io.StringIO(text)), 1) if row]
    rows = [(n, row) for n, row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise USLDataError("empty file: expected a header `concurrency,throughput` and rows")
    _, header = rows[0]
    names = [cell.strip().lower() for cell in header]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise USLDataError(f"duplicate column {duplicates[0]!r} in the header")
    load_name = next((name for name in LOAD_COLUMNS if name in names), None)
    if load_name is None or "throughput" not in names:
        raise USLDataError(
            f"the header must name the columns concurrency and throughput, got {','.join(header)!r}"
        )
    load_at, x_at = names.index(load_name), names.index("throughput")
    loads, throughputs = [], []
    for line, row in rows[1:]:
        if len(row) != len(header):
            raise USLDataError(f"line {line}: expected {len(header)} fields, got {len(row)}")
        loads.append(_number(row[load_at], load_name, line))
        throughputs.append(_number(row[x_at], "throughput", line))
    distinct = len(set(loads))
    if distinct < _MIN_LOADS:
        raise USLDataError(
            f"needs at least {_MIN_LOADS} distinct {load_name} levels to fit three "
            f"coefficients, got {distinct}"
        )
    return Points(tuple(loads), tuple(throughputs))


def read_points(path: Path) -> Points:
    """parse_points on a file; errors name the file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise USLDataError(f"{path}: cannot read: {reason}") from None
    try:
        return parse_points(text)
    except USLDataError as exc:
        raise USLDataError(f"{path}: {exc}") from None


# --- the curve -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Curve:
    """USL coefficients: σ contention, κ coherency, λ throughput at load 1."""

    sigma: float
    kappa: float
    lam: float

    def throughput(self, load: float) -> float:
        """X(N)."""
        return self.lam * load / (1 + self.sigma * (load - 1) + self.kappa * load * (load - 1))

    def latency(self, load: float) -> float:
        """Mean time in the system at load N by Little's law, N / X(N)."""
        return load / self.throughput(load)

    @property
    def peak_concurrency(self) -> float | None:
        """N* = sqrt((1 − σ) / κ); None when κ <= 0 (no peak: throughput rises to λ/σ)."""
        if self.kappa <= 0 or self.sigma >= 1:
            return None
        return math.sqrt((1 - self.sigma) / self.kappa)

    @property
    def peak_throughput(self) -> float | None:
        """X(N*), or None without a peak."""
        peak = self.peak_concurrency
        return None if peak is None else self.throughput(peak)

    @property
    def limit_throughput(self) -> float | None:
        """λ/σ, the ceiling of the contention-only (Amdahl) curve; None when σ = 0."""
        return self.lam / self.sigma if self.sigma > 0 else None

    def gradient(self, load: float) -> np.ndarray:
        """∂X(N)/∂(σ, κ, λ)."""
        d = 1 + self.sigma * (load - 1) + self.kappa * load * (load - 1)
        return np.array(
            [
                -self.lam * load * (load - 1) / d**2,
                -self.lam * load * load * (load - 1) / d**2,
                load / d,
            ]
        )


# --- the fit -------------------------------------------------------------------------------------

Interval = tuple[float, float | None]


@dataclass(frozen=True)
class Intervals:
    """Two-sided intervals; None where the fit gives none (λ fixed, or no covariance)."""

    method: str
    level: float
    sigma: Interval | None
    kappa: Interval | None
    lam: Interval | None
    peak_concurrency: Interval | None
    peak_throughput: Interval | None


@dataclass(frozen=True)
class USLFit:
    """A fitted curve with its errors, intervals and warnings."""

    curve: Curve
    method: str
    points: int
    max_load: float
    r_squared: float
    residual_sd: float
    standard_errors: tuple[float, float, float | None]
    covariance: tuple[tuple[float, ...], ...] | None
    t_quantile: float
    intervals: Intervals
    warnings: tuple[str, ...]

    def throughput_interval(self, load: float) -> tuple[float, float] | None:
        """Wald interval of X(load) by the delta method (None without a covariance)."""
        if self.covariance is None:
            return None
        grad = self.curve.gradient(load)
        se = math.sqrt(max(float(grad @ np.array(self.covariance) @ grad), 0.0))
        x = self.curve.throughput(load)
        return (max(x - self.t_quantile * se, 0.0), x + self.t_quantile * se)

    def to_dict(self) -> dict[str, Any]:
        """The `pincex plan usl --json` object."""
        c, iv = self.curve, self.intervals
        return {
            "sigma": c.sigma,
            "kappa": c.kappa,
            "lambda": c.lam,
            "peak_concurrency": c.peak_concurrency,
            "peak_throughput": c.peak_throughput,
            "limit_throughput": c.limit_throughput,
            "r_squared": self.r_squared,
            "residual_sd": self.residual_sd,
            "standard_errors": dict(
                zip(("sigma", "kappa", "lambda"), self.standard_errors, strict=True)
            ),
            "method": self.method,
            "intervals": {
                "method": iv.method,
                "level": iv.level,
                "sigma": iv.sigma,
                "kappa": iv.kappa,
                "lambda": iv.lam,
                "peak_concurrency": iv.peak_concurrency,
                "peak_throughput": iv.peak_throughput,
            },
            "warnings": list(self.warnings),
            "points": self.points,
            "max_load": self.max_load,
        }


def _residuals(p: np.ndarray, n: np.ndarray, x: np.ndarray) -> np.ndarray:
    sigma, kappa, lam = p
    out: np.ndarray = lam * n / (1 + sigma * (n - 1) + kappa * n * (n - 1)) - x
    return out


def _jacobian(p: np.ndarray, n: np.ndarray, x: np.ndarray) -> np.ndarray:
    sigma, kappa, lam = p
    d = 1 + sigma * (n - 1) + kappa * n * (n - 1)
    return np.column_stack([-lam * n * (n - 1) / d**2, -lam * n * n * (n - 1) / d**2, n / d])


def _starts(n: np.ndarray, x: np.ndarray) -> list[np.ndarray]:
    """Seeds: λ from the lowest load or the best X/N, σ and κ from the linearised model."""
    starts = []
    design = np.column_stack([n - 1, n * (n - 1)])
    for lam in (x[np.argmin(n)] / n.min(), float(np.max(x / n))):
        coef, *_ = np.linalg.lstsq(design, n * lam / x - 1, rcond=None)
        starts.append(np.array([min(max(coef[0], 1e-6), 0.99), min(max(coef[1], 1e-9), 0.99), lam]))
    return starts


def _fit_nls(n: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    from scipy import optimize  # imported when fitting: scipy costs ~0.7 s at start-up

    best = None
    for start in _starts(n, x):
        result = optimize.least_squares(
            _residuals,
            start,
            jac=_jacobian,
            bounds=([0.0, 0.0, 0.0], [1.0, 1.0, np.inf]),
            method="trf",
            x_scale="jac",
            ftol=1e-15,
            xtol=1e-15,
            gtol=1e-15,
            max_nfev=20000,
            args=(n, x),
        )
        if result.status > 0 and (best is None or result.cost < best.cost):
            best = result
    if best is None:
        raise USLDataError("the least-squares fit did not converge")
    params = np.asarray(best.x, dtype=float)
    params[best.active_mask == -1] = 0.0  # a coefficient on its lower bound is exactly 0
    jac = _jacobian(params, n, x)
    dof = len(n) - 3
    s2 = float(np.sum(_residuals(params, n, x) ** 2)) / dof
    try:
        covariance = s2 * np.linalg.inv(jac.T @ jac)
    except np.linalg.LinAlgError:
        return params, None
    return params, covariance if np.all(np.isfinite(covariance)) else None


def _fit_normalized(n: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    ones = n == 1
    if not ones.any():
        raise USLDataError("the normalized method needs a measurement at load 1")
    lam = float(np.mean(x[ones]))
    design = np.column_stack([n - 1, n * (n - 1)])
    y = n * lam / x - 1
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    sigma, kappa = (min(max(float(v), 0.0), 1.0) for v in coef)
    dof = len(n) - 2
    s2 = float(np.sum((y - design @ coef) ** 2)) / dof
    covariance = np.zeros((3, 3))
    try:
        covariance[:2, :2] = s2 * np.linalg.inv(design.T @ design)
    except np.linalg.LinAlgError:
        return np.array([sigma, kappa, lam]), None
    return np.array([sigma, kappa, lam]), covariance


def _clip(low: float, high: float, lower: float, upper: float | None) -> Interval:
    return (max(low, lower), high if upper is None else min(high, upper))


def fit_usl(points: Points, method: str = "nls") -> USLFit:
    """Fit the USL to `points` ("nls": λ free, bounded; "normalized": λ = X(1))."""
    n = np.asarray(points.load, dtype=float)
    x = np.asarray(points.throughput, dtype=float)
    if len(set(points.load)) < _MIN_LOADS:
        raise USLDataError(
            f"needs at least {_MIN_LOADS} distinct loads, got {len(set(points.load))}"
        )
    if method == "nls":
        params, covariance = _fit_nls(n, x)
        free = 3
    elif method == "normalized":
        params, covariance = _fit_normalized(n, x)
        free = 2
    else:
        raise ValueError(f"unknown method {method!r}: use nls or normalized")
    curve = Curve(float(params[0]), float(params[1]), float(params[2]))
    dof = len(n) - free
    from scipy import stats  # imported when fitting (start-up cost, as above)

    t = float(stats.t.ppf(0.5 + LEVEL / 2, dof))
    fitted = np.array([curve.throughput(v) for v in n])
    rss = float(np.sum((x - fitted) ** 2))
    tss = float(np.sum((x - x.mean()) ** 2))
    se: list[float | None] = [None, None, None]
    sigma_iv = kappa_iv = lam_iv = peak_n_iv = peak_x_iv = None
    kappa_low = -math.inf
    if covariance is not None:
        se = [math.sqrt(max(float(covariance[i, i]), 0.0)) for i in range(3)]
        s_sigma, s_kappa, s_lam = (float(v) for v in se)  # type: ignore[arg-type]
        sigma_iv = _clip(curve.sigma - t * s_sigma, curve.sigma + t * s_sigma, 0.0, 1.0)
        kappa_low = curve.kappa - t * s_kappa
        kappa_iv = _clip(kappa_low, curve.kappa + t * s_kappa, 0.0, 1.0)
        if free == 3:
            lam_iv = _clip(curve.lam - t * s_lam, curve.lam + t * s_lam, 0.0, None)
        else:
            se[2] = None
        peak_n_iv, peak_x_iv = _peak_intervals(curve, covariance, t, kappa_low)
    intervals = Intervals(
        method=(
            f"Wald, two-sided {LEVEL:.0%}: estimate ± t({0.5 + LEVEL / 2}, {dof} df)·SE, SE from "
            + (
                "the nonlinear least-squares covariance s²(JᵀJ)⁻¹"
                if free == 3
                else "the linear regression's covariance (λ fixed at X(1), no interval)"
            )
            + "; peak by the delta method; clipped to the bounds"
        ),
        level=LEVEL,
        sigma=sigma_iv,
        kappa=kappa_iv,
        lam=lam_iv,
        peak_concurrency=peak_n_iv,
        peak_throughput=peak_x_iv,
    )
    fit = USLFit(
        curve=curve,
        method=method,
        points=len(n),
        max_load=float(n.max()),
        r_squared=1 - rss / tss if tss > 0 else 1.0,
        residual_sd=math.sqrt(rss / dof),
        standard_errors=(se[0] or 0.0, se[1] or 0.0, se[2]),
        covariance=None if covariance is None else tuple(tuple(map(float, r)) for r in covariance),
        t_quantile=t,
        intervals=intervals,
        warnings=(),
    )
    return replace(fit, warnings=_warnings(fit, kappa_low))


def _peak_intervals(
    curve: Curve, covariance: np.ndarray, t: float, kappa_low: float
) -> tuple[Interval | None, Interval | None]:
    peak = curve.peak_concurrency
    if peak is None:
        return None, None
    grad_n = np.array([-1 / (2 * curve.kappa * peak), -peak / (2 * curve.kappa), 0.0])
    se_n = math.sqrt(max(float(grad_n @ covariance @ grad_n), 0.0))
    grad_x = curve.gradient(peak)  # dX*/dp = ∂X/∂p at N*, since dX/dN = 0 there
    se_x = math.sqrt(max(float(grad_x @ covariance @ grad_x), 0.0))
    x_peak = curve.throughput(peak)
    high_n: float | None = None if kappa_low <= 0 else peak + t * se_n
    return (max(peak - t * se_n, 0.0), high_n), (max(x_peak - t * se_x, 0.0), x_peak + t * se_x)


def _warnings(fit: USLFit, kappa_low: float) -> tuple[str, ...]:
    out = []
    curve = fit.curve
    peak = curve.peak_concurrency
    if fit.points < _FEW_POINTS:
        out.append(f"only {fit.points} points: too few for a reliable fit ({_FEW_POINTS}+ advised)")
    if curve.kappa <= 0:
        out.append(
            "κ = 0: no coherency penalty measured, the curve has no peak; the data never "
            "reached the knee"
        )
    elif kappa_low <= 0:
        out.append(
            "the κ interval includes 0: the data never reached the knee, so the peak is not "
            "identified (its upper bound is open)"
        )
    if peak is not None and fit.max_load < _BELOW_KNEE * peak:
        out.append(
            f"the highest tested load ({fit.max_load:g}) is well below the fitted peak "
            f"({peak:.1f}): the peak is an extrapolation; test past it"
        )
    if fit.r_squared < 0.9:
        out.append(f"poor fit: R² = {fit.r_squared:.3f}")
    return tuple(out)

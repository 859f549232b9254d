"""USL fits land on every published curve; warnings below the knee; bad files are refused."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from scipy import stats

from planning.usl import Curve, Points, USLDataError, fit_usl, parse_points, read_points

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "usl"  # vendored: see its README.md
PUBLISHED = REFERENCE / "published_coefficients.json"


def _cases() -> list[dict]:
    return json.loads(PUBLISHED.read_text())["cases"]


def _fit_case(case: dict):
    points = read_points(REFERENCE / case["data"])
    if "rows" in case:
        points = points.head(case["rows"])
    return points, fit_usl(points, "normalized" if "fixed_lambda" in case else "nls")


def _figure(name: str, fit, points: Points):
    """Our value for one of the published figures' names."""
    c = fit.curve
    scalar = {
        "sigma": c.sigma,
        "kappa": c.kappa,
        "lambda": c.lam,
        "peak_n": c.peak_concurrency,
        "peak_x": c.peak_throughput,
        "limit_x": c.limit_throughput,
        "opt_n": 1 / c.sigma,  # R usl's optimal.scalability(): the load 1/sigma
        "opt_x": c.throughput(1 / c.sigma),
        "se_sigma": fit.standard_errors[0],
        "se_kappa": fit.standard_errors[1],
        "se_lambda": fit.standard_errors[2],
        "residual_sd": fit.residual_sd,
    }
    if name in scalar:
        return scalar[name]
    if name == "predictions":
        return lambda n: c.throughput(n)
    if name == "latency_s":
        return lambda n: c.latency(n)
    raise AssertionError(f"no check for published figure {name!r}: add one")


@pytest.mark.parametrize("case", _cases(), ids=lambda case: case["id"])
def test_fit_lands_on_the_published_coefficients(case):
    points, fit = _fit_case(case)
    published = case["published"]
    checked = 0
    for name, tol in case.get("rel_tol", {}).items():
        expected = published[name]
        if name == "ci_usl_convention":
            # R usl's confint(): estimate +/- se * qt(level, n - 1) (see the case's note)
            q = stats.t.ppf(0.95, len(points) - 1)
            ours = {"sigma": 0, "kappa": 1, "lambda": 2}
            for param, (low, high) in expected.items():
                est = _figure(param, fit, points)
                se = fit.standard_errors[ours[param]]
                assert est - q * se == pytest.approx(low, rel=tol), param
                assert est + q * se == pytest.approx(high, rel=tol), param
                checked += 1
        elif isinstance(expected, dict):
            ours = _figure(name, fit, points)
            for load, value in expected.items():
                assert ours(float(load)) == pytest.approx(value, rel=tol), (name, load)
                checked += 1
        else:
            assert _figure(name, fit, points) == pytest.approx(expected, rel=tol), name
            checked += 1
    for name, digits in case.get("sig_digits", {}).items():
        ours = _figure(name, fit, points)
        assert float(f"{ours:.{digits}g}") == pytest.approx(published[name], rel=1e-12), name
        checked += 1
    for name, tol in case.get("abs_tol", {}).items():
        assert _figure(name, fit, points) == pytest.approx(published[name], abs=tol), name
        checked += 1
    if "peak_n_floor" in published:
        assert math.floor(fit.curve.peak_concurrency) == published["peak_n_floor"]
        checked += 1
    if "fitted" in published:  # printed rounded to whole numbers
        fitted = [fit.curve.throughput(n) for n in points.load]
        assert fitted == pytest.approx(published["fitted"], abs=0.5 + 1e-9)
        checked += 1
    assert checked >= 1


def test_the_published_cases_are_all_checked():
    known = {"rel_tol", "sig_digits", "abs_tol"}
    for case in _cases():
        assert known & case.keys(), case["id"]


# --- warnings and intervals ----------------------------------------------------------------------

CURVE = Curve(sigma=0.03, kappa=0.0005, lam=1000.0)  # N* = sqrt(0.97 / 0.0005) = 44.0


def _points(loads, curve=CURVE, wobble=0.01):
    signs = [1, -1, 0.5, -0.5, 0.25, -0.25, 0.75, -0.75]
    return Points(
        tuple(float(n) for n in loads),
        tuple(
            curve.throughput(n) * (1 + wobble * signs[i % len(signs)]) for i, n in enumerate(loads)
        ),
    )


def test_data_below_the_knee_warns():
    fit = fit_usl(_points([1, 2, 4, 6, 8, 10]))
    assert fit.intervals.kappa[0] == 0.0  # clipped: the Wald interval reaches below 0
    assert fit.intervals.peak_concurrency[1] is None
    assert [w.split(":")[0] for w in fit.warnings] == [
        "the κ interval includes 0",
        "the highest tested load (10) is well below the fitted peak (39.1)",
    ]


def test_data_past_the_knee_does_not_warn():
    fit = fit_usl(_points([1, 8, 16, 32, 48, 64, 96, 128]))
    assert fit.warnings == ()
    low, high = fit.intervals.kappa
    assert 0 < low < fit.curve.kappa < high
    assert fit.curve.peak_concurrency == pytest.approx(44.05, rel=0.05)
    n_low, n_high = fit.intervals.peak_concurrency
    assert n_low < fit.curve.peak_concurrency < n_high
    x_low, x_high = fit.intervals.peak_throughput
    assert x_low < fit.curve.peak_throughput < x_high
    assert fit.r_squared > 0.99


def test_published_five_point_raytracer_warns_about_the_knee():
    fit = fit_usl(read_points(REFERENCE / "raytracer.csv").head(5))
    assert any("only 5 points" in w for w in fit.warnings)
    assert any("κ interval includes 0" in w for w in fit.warnings)
    assert fit.intervals.peak_concurrency[1] is None


def test_an_amdahl_curve_has_no_peak():
    fit = fit_usl(_points([1, 2, 4, 8, 16, 32], Curve(0.05, 0.0, 10.0), wobble=0.0))
    assert fit.curve.kappa == 0.0
    assert fit.curve.peak_concurrency is None
    assert fit.curve.limit_throughput == pytest.approx(200.0, rel=1e-6)
    assert any("no peak" in w for w in fit.warnings)


def test_exact_points_give_back_the_curve():
    fit = fit_usl(_points([1, 5, 10, 20, 40, 60, 80], wobble=0.0))
    assert (fit.curve.sigma, fit.curve.kappa, fit.curve.lam) == pytest.approx(
        (0.03, 0.0005, 1000.0), rel=1e-6
    )


def test_intervals_state_method_and_level():
    fit = fit_usl(_points([1, 8, 16, 32, 48, 64, 96, 128]))
    data = fit.to_dict()
    assert data["intervals"]["level"] == 0.95
    assert "Wald" in data["intervals"]["method"] and "t(0.975, 5 df)" in data["intervals"]["method"]
    assert set(data) >= {
        "sigma",
        "kappa",
        "lambda",
        "peak_concurrency",
        "peak_throughput",
        "r_squared",
        "intervals",
        "warnings",
        "points",
    }
    assert data["points"] == 8


def test_throughput_interval_brackets_the_curve():
    fit = fit_usl(_points([1, 8, 16, 32, 48, 64, 96, 128]))
    low, high = fit.throughput_interval(40)
    assert low < fit.curve.throughput(40) < high


def test_normalized_method_needs_load_one():
    with pytest.raises(USLDataError, match="needs a measurement at load 1"):
        fit_usl(_points([2, 4, 8, 16, 32]), "normalized")
    with pytest.raises(ValueError, match="unknown method"):
        fit_usl(_points([1, 2, 4, 8]), "bogus")


def test_curve_basics():
    assert CURVE.throughput(1) == 1000.0
    assert CURVE.latency(10) == pytest.approx(10 / CURVE.throughput(10))
    assert Curve(0.0, 0.0, 5.0).limit_throughput is None
    assert Curve(1.0, 0.1, 5.0).peak_concurrency is None


# --- bad files -----------------------------------------------------------------------------------


def test_parse_points_reads_the_documented_header_and_aliases():
    points = parse_points("concurrency,throughput\n1,10\n2,19\n\n4,35\n8,60\n")
    assert points.load == (1.0, 2.0, 4.0, 8.0)
    assert points.throughput == (10.0, 19.0, 35.0, 60.0)
    swapped = parse_points("Throughput, Load ,note\n10,1,a\n19,2,b\n35,4,c\n60,8,d\n")
    assert swapped == points
    repeated = parse_points("concurrency,throughput\n1,10\n1,11\n2,19\n4,35\n8,60\n")
    assert len(repeated) == 5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty file"),
        ("\n\n", "empty file"),
        ("concurrency,throughput\n1,10\n2,abc\n4,35\n8,60\n", "line 3: throughput 'abc' is not"),
        ("concurrency,throughput\n1,10\n2,nan\n4,35\n8,60\n", "line 3: throughput 'nan' is not a"),
        ("concurrency,throughput\n1,10\n2,19\n4,35\n", "at least 4 distinct concurrency levels"),
        ("concurrency,throughput\n1,10\n1,11\n2,19\n4,35\n", "at least 4 distinct"),
        ("concurrency,throughput\n", "at least 4 distinct"),
        ("concurrency,throughput\n1,10\n2,-19\n4,35\n8,60\n", "line 3: throughput must be above 0"),
        ("concurrency,throughput\n0,10\n2,19\n4,35\n8,60\n", "line 2: concurrency must be above 0"),
        ("concurrency,throughput\n1,10\n2,0\n4,35\n8,60\n", "line 3: throughput must be above 0"),
        ("concurrency,throughput,throughput\n1,1,1\n", "duplicate column 'throughput'"),
        ("concurrency,concurrency\n1,1\n", "duplicate column 'concurrency'"),
        ("concurrency,rate\n1,10\n", "must name the columns concurrency and throughput"),
        ("throughput\n10\n", "must name the columns concurrency and throughput"),
        ("1,10\n2,19\n4,35\n8,60\n", "must name the columns concurrency and throughput"),
        ("concurrency,throughput\n1,10\n2\n4,35\n8,60\n", "line 3: expected 2 fields, got 1"),
    ],
)
def test_bad_points_are_refused_with_one_clear_message(text, message):
    with pytest.raises(USLDataError, match=message.replace("(", r"\(")):
        parse_points(text)


def test_read_points_names_the_file(tmp_path):
    with pytest.raises(USLDataError, match=r"nope\.csv: cannot read"):
        read_points(tmp_path / "nope.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("concurrency,throughput\n1,x\n")
    with pytest.raises(USLDataError, match=r"bad\.csv: line 2"):
        read_points(bad)
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(USLDataError, match=r"bin\.csv: cannot read"):
        read_points(binary)

"""The history generator and a quick benchmark run: structure, not scores."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "scripts" / "bench"
sys.path.insert(0, str(BENCH))

import histories  # noqa: E402
import regress_bench  # noqa: E402


def test_pairs_share_the_change_run():
    for a, b in histories.generate_pairs(8, seed=2):
        assert a.change_index == b.change_index
        assert len(a.values) == len(b.values)


def test_generator_is_seeded_and_labelled():
    a, b = histories.generate(20, seed=3), histories.generate(20, seed=3)
    assert a == b
    assert a != histories.generate(20, seed=4)
    for h in a:
        assert 40 <= len(h.values) <= 120
        if h.kind == "step":
            n = len(h.values)
            assert h.change_index is not None and 0.25 * n - 1 <= h.change_index <= 0.75 * n
            assert h.change_pct is not None and 1.96 <= abs(h.change_pct) <= 50.01
        else:
            assert h.change_index is None


def test_quick_benchmark_has_the_expected_structure(monkeypatch):
    monkeypatch.setattr(regress_bench, "CI_MIN_T", 30)
    result = regress_bench.run_benchmark(
        count=6,
        seed=1,
        ci_count=2,
        otava_python="/nonexistent/python",
        tcpd=False,
        pair_count=1,
        sigproc_python="/nonexistent/python",
    )
    assert result["histories"]["count"] == 6
    for name in ("ours", "otava", "perfherder", "bencher"):
        part = result[name]
        assert part["detector"]
        assert set(part["batch"]) >= {"precision", "recall", "f1", "no_change_alert_share"}
        assert set(part["ci"]) >= {
            "recall_at_3",
            "recall_at_5",
            "recall_at_10",
            "false_alerts_per_100_ci_runs",
        }
        assert part["batch_seconds"] >= 0 and part["ci_seconds"] >= 0
    assert result["otava"]["detector"].startswith("STAND-IN")
    assert result["edivisive"]["detector"].startswith("UNAVAILABLE")
    assert result["edivisive"]["available"] is False
    assert [row["name"] for row in result["summary"]] == list(regress_bench.DETECTORS)
    for row in result["summary"]:
        assert set(row) >= {"f1", "ci_recall_at_5", "false_alerts_per_100_ci_runs"}
    joint = result["ours_related_metrics_ci"]
    assert joint["pairs"] == 1
    assert set(joint["alone"]) == set(joint["joint"])


def test_tcpd_section_has_every_detector_and_the_real_series():
    import tcpd

    result = tcpd.evaluate_tcpd("/nonexistent/python", "/nonexistent/python")
    assert result["available"] and result["series"] >= 17
    assert len(result["real_series"]) >= 14
    assert not set(result["real_series"]) & tcpd.SYNTHETIC
    local = {"ours", "ours_steps_and_trends", "binseg", "zero", "perfherder", "bencher"}
    assert set(result["mean_f1"]) == local
    assert set(result["mean_f1_real"]) == set(result["mean_cover_real"]) == local
    assert set(result["unavailable"]) == {"otava", "edivisive"}
    for scores in result["datasets"].values():
        assert set(scores) == local
        for score in scores.values():
            assert 0.0 <= score["f1"] <= 1.0 and 0.0 <= score["cover"] <= 1.0


def test_tcpd_files_hold_values_and_annotations():
    import tcpd

    for d in tcpd.load_datasets():
        assert d["n_obs"] == len(d["values"]) and d["annotations"]
        assert all(0 <= i < d["n_obs"] for cps in d["annotations"].values() for i in cps)


def test_perfherder_and_bencher_find_a_clean_step():
    import baselines

    series = [10.0, 10.2, 9.9, 10.1] * 6 + [12.0, 12.1, 11.9, 12.2] * 6
    assert baselines.perfherder(series) == [24]
    assert baselines.bencher_ttest(series)[0] == 24
    assert baselines.perfherder([10.0] * 48) == []


@pytest.mark.parametrize("margin_case", [(10, [12], 1), (10, [16], 0)])
def test_a_change_counts_within_5_runs(margin_case):
    true, reported, tp = margin_case
    h = histories.History("h", "step", "gaussian", 0.01, [1.0] * 40, true, 10.0, None)
    score = regress_bench._score_batch([h], [reported])
    assert score["recall"] == tp


def test_tcpd_f1_matches_the_tcpd_definition():
    import tcpd

    annotations = {"1": [10], "2": [10, 30]}
    # 0 counts for everyone; 12 hits 10 (margin 5); recall (2/2 + 2/3) / 2
    assert tcpd.tcpd_f1(annotations, [12]) == {"f1": 0.9091, "precision": 1.0, "recall": 0.8333}
    assert tcpd.tcpd_f1(annotations, [])["precision"] == 1.0
    assert tcpd.binseg([0.0] * 20 + [5.0] * 20) == [20]
    # cover: one annotator, split at 10 of 20; predicting it exactly covers fully
    assert tcpd.tcpd_cover({"1": [10]}, [10], 20) == 1.0
    assert tcpd.tcpd_cover({"1": [10]}, [], 20) == 0.5

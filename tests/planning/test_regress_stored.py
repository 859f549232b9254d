"""planning.regress.stored on literal summaries: histories in start order, run ids aligned
with the values, and alerts naming the run where the new level starts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from planning.regress.report import analyse
from planning.regress.stored import Detected, histories_from_summaries

START = datetime(2026, 1, 1)


def row(
    i: int, p95: float, *, kind: str = "orders", name: str = "POST", **extra: Any
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "run_id": f"run-{i:02d}",
        "kind": kind,
        "profile": "smoke",
        "label": f"v{i}",
        "started_at": START + timedelta(hours=i),
        "position": 0,
        "name": name,
        "latency_p95_ms": p95,
        "throughput_per_s": 100.0,
    }
    out.update(extra)
    return out


def test_histories_follow_the_start_order_not_the_row_order():
    rows = [row(2, 12.0), row(0, 10.0), row(1, 11.0)]
    (p95, throughput) = histories_from_summaries(
        pd.DataFrame(rows), ("latency_p95_ms", "throughput_per_s")
    )
    assert p95.history.id == "orders/smoke/POST/latency_p95_ms"
    assert p95.history.values == [10.0, 11.0, 12.0]
    assert p95.run_ids == ["run-00", "run-01", "run-02"]
    assert p95.labels == ["v0", "v1", "v2"]
    assert p95.started_at == [START, START + timedelta(hours=1), START + timedelta(hours=2)]
    assert (p95.kind, p95.profile, p95.name) == ("orders", "smoke", "POST")
    assert throughput.history.metric == "throughput_per_s"


def test_one_history_per_kind_profile_and_name():
    rows = [row(0, 1.0), row(1, 2.0, kind="db", name="select"), row(2, 3.0, name="GET")]
    found = histories_from_summaries(pd.DataFrame(rows), ("latency_p95_ms",))
    assert [h.history.series for h in found] == [
        "db/smoke/select",
        "orders/smoke/GET",
        "orders/smoke/POST",
    ]
    assert [h.run_ids for h in found] == [["run-01"], ["run-02"], ["run-00"]]


def test_a_figure_a_run_lacks_is_left_out_and_ids_stay_aligned():
    rows = [
        row(0, 10.0, service_p95_ms=5.0),
        row(1, 11.0, service_p95_ms=None),
        row(2, 12.0, service_p95_ms=6.0),
    ]
    (service,) = histories_from_summaries(pd.DataFrame(rows), ("service_p95_ms",))
    assert service.history.values == [5.0, 6.0]
    assert service.run_ids == ["run-00", "run-02"]


def test_no_summaries_no_histories():
    assert histories_from_summaries(pd.DataFrame()) == []


def test_a_planted_step_names_the_run_where_it_starts():
    # 12 runs near 10 ms, then 8 near 14 ms; rows shuffled so only the start times order them
    values = [10.0, 10.2, 9.9, 10.1, 10.0, 9.8, 10.2, 10.1, 9.9, 10.0, 10.1, 9.9,
              14.0, 14.2, 13.9, 14.1, 14.0, 13.8, 14.1, 14.0]  # fmt: skip
    rows = [row(i, v) for i, v in enumerate(values)]
    rows = rows[1::2] + rows[0::2]
    histories = histories_from_summaries(pd.DataFrame(rows), ("latency_p95_ms",))
    found = Detected(histories, analyse([h.history for h in histories]))
    doc = found.as_json()
    series = doc["series"]
    assert isinstance(series, dict)
    (change,) = series["orders/smoke/POST/latency_p95_ms"]
    assert change["index"] == 12 and change["direction"] == "regression"
    assert change["run_id"] == "run-12"
    assert change["label"] == "v12"
    assert change["previous_run_id"] == "run-11"


def test_an_outlier_names_its_run():
    values = [10.0, 10.2, 9.9, 10.1, 10.0, 9.8, 30.0, 10.1, 9.9, 10.0, 10.1, 9.9, 10.0, 10.2]
    histories = histories_from_summaries(pd.DataFrame([row(i, v) for i, v in enumerate(values)]),
                                         ("latency_p95_ms",))  # fmt: skip
    doc = Detected(histories, analyse([h.history for h in histories])).as_json()
    outliers = doc["outliers"]
    assert isinstance(outliers, dict)
    assert [(o["index"], o["run_id"]) for o in outliers["orders/smoke/POST/latency_p95_ms"]] == [
        (6, "run-06")
    ]

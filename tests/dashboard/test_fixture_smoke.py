"""The filled store holds what the dashboard tests rely on."""

from __future__ import annotations

from collectors.store import frames
from collectors.store.store import RunStore
from tests.dashboard.conftest import RAMP_RATES, FilledStore


def test_filled_store_has_every_kind(filled_store: FilledStore) -> None:
    runs = frames.runs(RunStore(filled_store.path))
    assert sorted(runs["kind"].unique()) == ["db", "market-data", "orders"]
    assert len(runs[runs["label"] == "v1"]) == len(RAMP_RATES)
    assert set(runs["label"]) == {"v1", "v2"}

"""The run store: every run kept whole in DuckDB so runs can be compared and trended."""

from collectors.store.codec import RunFormatError, run_from_json, run_to_dict, run_to_json
from collectors.store.model import (
    Histogram,
    LatencyFigures,
    Point,
    Run,
    Summary,
    new_run_id,
)
from collectors.store.store import (
    DuplicateRun,
    InvalidRun,
    RunListing,
    RunNotFound,
    RunStore,
    StoreError,
    StoreLocked,
)

__all__ = [
    "DuplicateRun",
    "Histogram",
    "InvalidRun",
    "LatencyFigures",
    "Point",
    "Run",
    "RunFormatError",
    "RunListing",
    "RunNotFound",
    "RunStore",
    "StoreError",
    "StoreLocked",
    "Summary",
    "new_run_id",
    "run_from_json",
    "run_to_dict",
    "run_to_json",
]

"""What crosses between the Locust engine's processes: message names, request batches, and
the master's outcome file. Imports no Locust (the `pincex` process reads the outcome).

    batch = Batch()                       # in a worker
    batch.add(i, sent, done, status, retry_after=False, timed_out=False)
    runner.send_message(BATCH, batch.take(worker_id, cpu_s, wall_s))

    columns = Columns()                   # in the master
    columns.absorb(message_data)
    columns.write(folder, meta)           # outcome.npz + outcome.json
    arrays, meta = read_outcome(folder)   # in the pincex process

Times are seconds from the common start the master sent (see `locust_engine`).
"""

from __future__ import annotations

import json
import math
from array import array
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "BATCH",
    "DONE",
    "GO",
    "PLAN",
    "READY",
    "STOP",
    "Batch",
    "Columns",
    "read_outcome",
    "read_start",
    "write_start",
]

# master -> worker
PLAN = "pincex_plan"  # {"plan": plan_to_json, "index": k, "count": workers}
GO = "pincex_go"  # {"t0": wall clock of the common start}
STOP = "pincex_stop"  # stop taking requests, flush, and say DONE
# worker -> master
READY = "pincex_ready"  # {"worker": id, "host": name}: the plan is built, users may start
BATCH = "pincex_batch"  # Batch.take(...)
DONE = "pincex_done"  # the last batch: every request of the worker's share answered or given up

_OUTCOME_ARRAYS = "outcome.npz"
_OUTCOME_META = "outcome.json"
_START = "start.txt"
_MAX_ERRORS = 20

RETRY_AFTER, TIMED_OUT = 1, 2  # bits of the flags column


class Batch:
    """A worker's requests since the last batch was taken, as compact columns."""

    def __init__(self) -> None:
        self._clear()
        self.errors: list[str] = []  # the first distinct connection errors, kept across batches
        self._sent_errors: int = 0

    def _clear(self) -> None:
        self.index = array("q")
        self.sent = array("d")
        self.done = array("d")
        self.status = array("i")
        self.flags = array("B")
        self.order_ids = array("q")
        self.crossed = 0

    def __len__(self) -> int:
        return len(self.index)

    def add(
        self,
        i: int,
        sent: float,
        done: float,
        status: int,
        *,
        retry_after: bool = False,
        timed_out: bool = False,
    ) -> None:
        self.index.append(i)
        self.sent.append(sent)
        self.done.append(done if status else math.nan)
        self.status.append(status)
        self.flags.append((RETRY_AFTER if retry_after else 0) | (TIMED_OUT if timed_out else 0))

    def error(self, text: str) -> None:
        if len(self.errors) < _MAX_ERRORS and text not in self.errors:
            self.errors.append(text)

    def take(self, worker: str, cpu_s: float, wall_s: float) -> dict[str, Any]:
        """The batch as a message (bytes columns), emptied for the next one."""
        data = {
            "worker": worker,
            "index": self.index.tobytes(),
            "sent": self.sent.tobytes(),
            "done": self.done.tobytes(),
            "status": self.status.tobytes(),
            "flags": self.flags.tobytes(),
            "order_ids": self.order_ids.tobytes(),
            "crossed": self.crossed,
            "errors": self.errors[self._sent_errors :],
            "cpu_s": cpu_s,
            "wall_s": wall_s,
        }
        self._sent_errors = len(self.errors)
        self._clear()
        return data


class Columns:
    """Every batch the master received, per worker; written once at the end."""

    def __init__(self) -> None:
        self.parts: list[dict[str, Any]] = []
        self.requests: dict[str, int] = {}  # per worker
        self.cpu: dict[str, float] = {}  # latest cumulative CPU seconds per worker
        self.errors: list[str] = []
        self.crossed = 0

    def absorb(self, data: dict[str, Any]) -> None:
        worker = str(data["worker"])
        n = len(data["index"]) // 8
        self.requests[worker] = self.requests.get(worker, 0) + n
        self.cpu[worker] = float(data["cpu_s"])
        self.crossed += int(data["crossed"])
        for e in data["errors"]:
            if len(self.errors) < _MAX_ERRORS and e not in self.errors:
                self.errors.append(str(e))
        if n:
            self.parts.append(data)

    def _column(self, key: str, dtype: type) -> npt.NDArray[Any]:
        chunks: list[npt.NDArray[Any]] = [np.frombuffer(p[key], dtype=dtype) for p in self.parts]
        return np.concatenate(chunks) if chunks else np.empty(0, dtype=dtype)

    def write(self, folder: Path, meta: dict[str, Any]) -> None:
        """`outcome.npz` (columns ordered by request index) and `outcome.json` (`meta`, the
        errors, crossed books and CPU seconds per worker)."""
        index = self._column("index", np.int64)
        order = np.argsort(index, kind="stable")
        flags = self._column("flags", np.uint8)[order]
        np.savez(
            folder / _OUTCOME_ARRAYS,
            index=index[order],
            sent=self._column("sent", np.float64)[order],
            done=self._column("done", np.float64)[order],
            status=self._column("status", np.int32)[order],
            retry_after=(flags & RETRY_AFTER) > 0,
            timed_out=(flags & TIMED_OUT) > 0,
            order_ids=self._column("order_ids", np.int64),
        )
        full = {
            **meta,
            "errors": self.errors,
            "crossed_books": self.crossed,
            "worker_cpu_s": self.cpu,
        }
        (folder / _OUTCOME_META).write_text(json.dumps(full), encoding="utf-8")


def read_outcome(folder: Path) -> tuple[dict[str, npt.NDArray[Any]], dict[str, Any]]:
    """The columns and meta the master wrote; OSError or ValueError when it wrote none."""
    with np.load(folder / _OUTCOME_ARRAYS) as npz:
        arrays = {k: npz[k] for k in npz.files}
    meta = json.loads((folder / _OUTCOME_META).read_text(encoding="utf-8"))
    if not isinstance(meta, dict):
        raise ValueError("outcome.json is not an object")
    return arrays, meta


def write_start(folder: Path, t0: float) -> None:
    """The common start (wall clock), for the pincex process's progress."""
    part = folder / f"{_START}.part"
    part.write_text(repr(t0), encoding="utf-8")
    part.replace(folder / _START)


def read_start(folder: Path) -> float | None:
    """The common start once the master has announced it, else None."""
    try:
        return float((folder / _START).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None

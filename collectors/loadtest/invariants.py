"""Correctness after a load test: the exchange's own audit, asked over its admin routes.

    audit = AuditClient("http://127.0.0.1:8080", admin_key)
    snapshot = audit.snapshot()                  # before the load
    ...                                          # the load test; acknowledged order ids kept
    results = audit.check(snapshot, acked_ids)   # after it: one InvariantResult per check
    [r.name for r in results if not r.passed]    # e.g. ["funds_conserved"]

The acknowledged ids travel as inclusive ranges (`id_ranges`): a run's ids are mostly
consecutive, so a million of them are a few hundred ranges.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt

from collectors.bench.errors import BenchFailed
from exchange_ref.audit import MAX_AUDIT_RANGES

__all__ = ["AuditClient", "AuditFailed", "InvariantResult", "id_ranges"]

_HINT = "(is it a PinCEX exchange, and the admin key its own?)"


class AuditFailed(BenchFailed):
    """The exchange could not be audited: unreachable, refused, or not answering an audit."""


@dataclass(frozen=True, slots=True)
class InvariantResult:
    """One of the exchange's invariants after the run: its name, whether it held, and what
    was checked with counts (on failure, what was wrong)."""

    name: str
    passed: bool
    detail: str


def id_ranges(ids: npt.NDArray[np.int64]) -> list[list[int]]:
    """Sorted, unique ids as inclusive [lo, hi] runs of consecutive ids."""
    unique = np.unique(np.asarray(ids, dtype=np.int64))
    if not unique.size:
        return []
    breaks = np.flatnonzero(np.diff(unique) != 1)
    starts = np.concatenate(([0], breaks + 1))
    ends = np.concatenate((breaks, [unique.size - 1]))
    return [[int(unique[s]), int(unique[e])] for s, e in zip(starts, ends, strict=True)]


class AuditClient:
    """The audit routes of the exchange at `target` (its REST base URL)."""

    def __init__(self, target: str, admin_key: str, timeout: float = 300.0) -> None:
        self.target = target
        self.admin_key = admin_key
        self.timeout = timeout

    def _post(self, path: str, body: dict[str, Any] | None, what: str) -> dict[str, Any]:
        where = f"cannot {what} on {self.target}"
        try:
            with httpx.Client(base_url=self.target, timeout=self.timeout) as client:
                r = client.post(path, headers={"X-API-Key": self.admin_key}, json=body)
        except httpx.HTTPError as exc:
            raise AuditFailed(f"{where}: {type(exc).__name__}: {exc}") from None
        if r.status_code != 200:
            raise AuditFailed(f"{where}: HTTP {r.status_code} {r.text[:200]} {_HINT}")
        try:
            answer = r.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise AuditFailed(f"{where}: the answer is not a JSON object {_HINT}")
        return answer

    def snapshot(self) -> str:
        """Have the exchange remember its balances and high-water marks now; the snapshot id."""
        answer = self._post("/admin/audit/snapshot", None, "take an audit snapshot")
        snapshot = answer.get("snapshot")
        if not isinstance(snapshot, str):
            raise AuditFailed(f"cannot take an audit snapshot on {self.target}: no id {_HINT}")
        return snapshot

    def check(
        self, snapshot_id: str | None, order_ids: npt.NDArray[np.int64] | None
    ) -> list[InvariantResult]:
        """Audit the exchange: every check, after every pending write is durable.

        `order_ids`: the acknowledged orders' ids (any order, repeats allowed); None lets the
        exchange check every id it has given."""
        body: dict[str, Any] = {}
        if snapshot_id is not None:
            body["snapshot"] = snapshot_id
        if order_ids is not None:
            ranges = id_ranges(order_ids)
            if len(ranges) > MAX_AUDIT_RANGES:
                raise AuditFailed(
                    f"cannot audit the exchange on {self.target}: the acknowledged ids make "
                    f"{len(ranges)} ranges, more than the {MAX_AUDIT_RANGES} one audit takes"
                )
            body["order_ids"] = ranges
        answer = self._post("/admin/audit", body, "audit the exchange")
        try:
            return [
                InvariantResult(str(c["name"]), bool(c["passed"]), str(c["detail"]))
                for c in answer["checks"]
            ]
        except (KeyError, TypeError) as exc:
            raise AuditFailed(
                f"cannot audit the exchange on {self.target}: unexpected answer ({exc!r}) {_HINT}"
            ) from None

"""The one mapping from refusals to HTTP answers, used by the FastAPI routes and the fast path.

try:
    ...
except REFUSALS as exc:
    status, body = refusal(exc)
"""

from __future__ import annotations

from exchange_ref.api.wire import WireError
from exchange_ref.engine.errors import EngineError, NotOrderOwner, OrderNotFound
from exchange_ref.errors import Unavailable

__all__ = ["REFUSALS", "Refusal", "refusal", "refusal_status"]

Refusal = WireError | EngineError | Unavailable
REFUSALS = (WireError, EngineError, Unavailable)


def refusal_status(exc: Exception) -> int:
    """404 unknown order, 403 someone else's, 503 unavailable, a WireError's own, else 400."""
    if isinstance(exc, WireError):
        return exc.status
    if isinstance(exc, Unavailable):
        return 503
    if isinstance(exc, OrderNotFound):
        return 404
    if isinstance(exc, NotOrderOwner):
        return 403
    return 400


def refusal(exc: Refusal) -> tuple[int, dict[str, str]]:
    """The status and `{"code", "message"}` body answering a refusal."""
    return refusal_status(exc), {"code": exc.code, "message": exc.message}

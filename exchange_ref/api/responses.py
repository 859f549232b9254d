"""Fast JSON responses and the error body every refusal uses."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from exchange_ref.engine.errors import EngineError, NotOrderOwner, OrderNotFound

__all__ = ["JSONBytes", "engine_error_status", "error_response"]


class JSONBytes(Response):
    """A JSON response serialised with orjson."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONBytes:
    return JSONBytes({"code": code, "message": message}, status_code=status, headers=headers)


def engine_error_status(exc: EngineError) -> int:
    """The HTTP status of a domain refusal: 404 unknown order, 403 someone else's, else 400."""
    if isinstance(exc, OrderNotFound):
        return 404
    if isinstance(exc, NotOrderOwner):
        return 403
    return 400

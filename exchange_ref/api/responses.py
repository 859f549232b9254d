"""Fast JSON responses and the error body every refusal uses."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

__all__ = ["JSONBytes", "error_response"]


class JSONBytes(Response):
    """A JSON response serialised with orjson."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONBytes:
    return JSONBytes({"code": code, "message": message}, status_code=status, headers=headers)

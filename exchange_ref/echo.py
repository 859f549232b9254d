"""Quoting client input in messages without echoing it at length."""

from __future__ import annotations

__all__ = ["clip"]

_ECHO = 64


def clip(value: object, limit: int = _ECHO) -> str:
    """`repr(value)`, cut to `limit` characters: error messages never echo input at length."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."

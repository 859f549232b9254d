"""Errors of the exchange service beyond the engine's refusals (`exchange_ref.engine.errors`)."""

from __future__ import annotations

__all__ = ["NotDurable", "Unavailable"]


class Unavailable(Exception):
    """The exchange cannot take work now; `code` is stable, `message` is for people."""

    code = "UNAVAILABLE"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotDurable(Unavailable):
    """A commit failed: nothing of the request was acknowledged and the process must be
    restarted (it stops taking work and fails its liveness probe)."""

    code = "STORAGE_FAILURE"

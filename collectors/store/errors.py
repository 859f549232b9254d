"""The run store's failures, each with a one-line message."""

from __future__ import annotations

from pathlib import Path

__all__ = ["DuplicateRun", "InvalidRun", "RunNotFound", "StoreError", "StoreLocked"]


class StoreError(Exception):
    """A failure of the run store, with a one-line message."""


class RunNotFound(StoreError):
    """No run has this id."""


class DuplicateRun(StoreError):
    """A run with this id is already stored."""


class InvalidRun(StoreError):
    """The run breaks one of the store's limits (the reason names the field); nothing was
    written or spooled."""


class StoreLocked(StoreError):
    """Another process held the store too long; the run was spooled (`spool_path`)."""

    def __init__(self, message: str, spool_path: Path | None = None) -> None:
        super().__init__(message)
        self.spool_path = spool_path

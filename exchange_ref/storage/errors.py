"""Errors of the exchange's storage that its callers may want to tell apart."""

from __future__ import annotations

from pathlib import Path

__all__ = ["MissingDirectory", "StorageError"]


class StorageError(Exception):
    """The exchange's database cannot be used as asked."""


class MissingDirectory(StorageError):
    """A SQLite file's directory does not exist and was not to be created."""

    def __init__(self, directory: Path) -> None:
        super().__init__(f"the directory {directory} does not exist")
        self.directory = directory

"""Runs a writer could not store, kept as JSON files until the next writer imports them."""

from __future__ import annotations

import os
from pathlib import Path

from collectors.store.codec import run_to_json
from collectors.store.model import Run

__all__ = ["spool_run", "spooled_files"]


def spool_run(spool_dir: Path, run: Run) -> Path:
    """Write the run to `<spool_dir>/<run id>.json` atomically (temp file, fsync, rename)."""
    spool_dir.mkdir(parents=True, exist_ok=True)
    final = spool_dir / f"{run.id}.json"
    temp = spool_dir / f".{run.id}.json.tmp"
    with open(temp, "wb") as handle:
        handle.write(run_to_json(run))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, final)
    return final


def spooled_files(spool_dir: Path) -> list[Path]:
    """The spooled runs waiting to be imported, oldest first."""
    if not spool_dir.is_dir():
        return []
    return sorted(spool_dir.glob("*.json"), key=lambda p: (p.stat().st_mtime, p.name))

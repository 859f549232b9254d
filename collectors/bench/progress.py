"""Holding a benchmark for a while, telling a progress callback as it goes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

__all__ = ["Progress", "hold_for"]

Progress = Callable[[float, float], None]  # (done, total): requests answered, seconds held


async def hold_for(seconds: float, progress: Progress | None = None, tick: float = 0.5) -> None:
    """Sleep `seconds`, telling `progress(elapsed, seconds)` every `tick` seconds."""
    start = time.monotonic()
    while True:
        elapsed = time.monotonic() - start
        if progress is not None:
            progress(min(elapsed, seconds), seconds)
        if elapsed >= seconds:
            return
        await asyncio.sleep(min(tick, seconds - elapsed))

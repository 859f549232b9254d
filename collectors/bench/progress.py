"""Holding a benchmark for a while, telling a progress callback as it goes."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
import time
from collections.abc import Callable

__all__ = ["Progress", "aborted_warning", "hold_for"]

Progress = Callable[[float, float], None]  # (done, total): requests answered, seconds held


async def hold_for(seconds: float, progress: Progress | None = None, tick: float = 0.5) -> bool:
    """Sleep `seconds`, telling `progress(elapsed, seconds)` every `tick` seconds. Ctrl-C
    (SIGINT, on the main thread) ends the hold early: True then (the benchmark was aborted and
    keeps what it measured), else False."""
    interrupted = asyncio.Event()
    loop = asyncio.get_running_loop()
    on_sigint = threading.current_thread() is threading.main_thread()
    if on_sigint:
        loop.add_signal_handler(signal.SIGINT, interrupted.set)
    start = time.monotonic()
    try:
        while not interrupted.is_set():
            elapsed = time.monotonic() - start
            if progress is not None:
                progress(min(elapsed, seconds), seconds)
            if elapsed >= seconds:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(interrupted.wait(), min(tick, seconds - elapsed))
    finally:
        if on_sigint:
            loop.remove_signal_handler(signal.SIGINT)
    return interrupted.is_set()


def aborted_warning(seconds: float) -> str:
    """The warning an interrupted benchmark's figures and run carry first."""
    return f"aborted (interrupted) after {seconds:.1f} s: the figures cover what was measured"

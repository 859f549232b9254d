"""The machine a benchmark ran on, as kept with its run."""

from __future__ import annotations

import os
import platform
from typing import Any

__all__ = ["host_facts"]


def host_facts(**extra: Any) -> dict[str, Any]:
    """The machine the generator ran on, plus the benchmark's own facts (its CPU, limits)."""
    return {
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "hostname": platform.node(),
        "kernel": platform.release(),
        **extra,
    }

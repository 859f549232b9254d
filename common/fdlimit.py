"""Raising this process' open-file limit, for tens of thousands of sockets."""

from __future__ import annotations

import resource

__all__ = ["raise_fd_limit"]


def raise_fd_limit(wanted: int = 0) -> tuple[int, int]:
    """Raise the soft RLIMIT_NOFILE to the hard limit, and the hard limit itself to `wanted`
    when the process may (root, up to the kernel's fs.nr_open); return (soft, hard) after."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and wanted > hard:
        ceiling = min(wanted, _nr_open())
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, ceiling))
            return ceiling, ceiling
        except (ValueError, OSError):
            pass  # not privileged: the hard limit stays
    if hard == resource.RLIM_INFINITY or soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    return soft, hard


def _nr_open() -> int:
    try:
        with open("/proc/sys/fs/nr_open") as f:
            return int(f.read())
    except (OSError, ValueError):
        return 1_048_576

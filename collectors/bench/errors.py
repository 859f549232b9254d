"""What goes wrong in a benchmark, as the benchmarks' own exceptions (the CLI maps them).

    BenchUsageError  the request cannot be run as asked: a bad target URL, nothing answering
                     there, a tool that is not installed (the CLI exits 2)
    BenchFailed      the run was started and failed: a child generator crashed or overran
                     its limit, nginx did not start (the CLI exits 1)

Both carry a one-line message for the user.
"""

from __future__ import annotations

__all__ = ["BenchError", "BenchFailed", "BenchUsageError"]


class BenchError(Exception):
    """A benchmark could not give its figures; `str(error)` says why in one line."""


class BenchUsageError(BenchError):
    """The benchmark cannot run as asked (a bad target, a missing tool)."""


class BenchFailed(BenchError):
    """The benchmark started and then failed."""

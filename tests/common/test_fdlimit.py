"""Raising the open-file limit: never lowered, raised as far as this process may."""

from __future__ import annotations

import resource

from common.fdlimit import raise_fd_limit


def test_the_soft_limit_reaches_the_hard_one_and_never_drops() -> None:
    before_soft, before_hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    soft, hard = raise_fd_limit()
    assert (soft, hard) == resource.getrlimit(resource.RLIMIT_NOFILE)
    assert soft >= before_soft and hard >= before_hard
    assert soft == hard or hard == resource.RLIM_INFINITY


def test_asking_for_more_raises_the_hard_limit_when_privileged() -> None:
    _, before_hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    soft, hard = raise_fd_limit(before_hard + 1_000)
    if hard > before_hard:  # root (as in CI): raised to what was asked
        assert soft == hard == before_hard + 1_000
    else:  # not privileged: what it had, soft raised to it
        assert soft == hard == before_hard

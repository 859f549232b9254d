"""Raising the open-file limit: never lowered, raised as far as this process may."""

from __future__ import annotations

import os
import resource
from pathlib import Path

import pytest

from common.fdlimit import raise_fd_limit


def test_the_soft_limit_reaches_the_hard_one_and_never_drops() -> None:
    before_soft, before_hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    soft, hard = raise_fd_limit()
    assert (soft, hard) == resource.getrlimit(resource.RLIMIT_NOFILE)
    assert soft >= before_soft and hard >= before_hard
    assert soft == hard or hard == resource.RLIM_INFINITY


_CAP_SYS_RESOURCE = 24  # linux/capability.h: may raise a hard resource limit


def _may_raise_hard_limits() -> bool:
    """Root, with CAP_SYS_RESOURCE among its effective capabilities (a container's root may
    lack it; /proc tells)."""
    if os.geteuid() != 0:
        return False
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return True
    line = next((ln for ln in status.splitlines() if ln.startswith("CapEff:")), None)
    return line is None or bool(int(line.split()[1], 16) >> _CAP_SYS_RESOURCE & 1)


def test_asking_for_more_raises_the_hard_limit_only_when_privileged() -> None:
    """Which branch runs is known beforehand from the user and its capabilities, so each
    machine asserts the one it must take."""
    _, before_hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if before_hard == resource.RLIM_INFINITY:
        pytest.skip("the hard limit is already unlimited")
    wanted = before_hard + 1_000
    soft, hard = raise_fd_limit(wanted)
    if _may_raise_hard_limits():
        nr_open = int(Path("/proc/sys/fs/nr_open").read_text())
        assert soft == hard == min(wanted, nr_open)
    else:
        assert soft == hard == before_hard

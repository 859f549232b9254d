"""`pincex exchange serve` as a user runs it: a generated admin key, the real URL with --port 0,
and a missing database directory (refused unless --create-dirs)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

_SERVE = [sys.executable, "-m", "pincex", "exchange", "serve", "--port", "0"]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PINCEX_ADMIN_KEY"}
    return {**env, **extra}


@contextmanager
def _serving(*args: str, env: dict[str, str]) -> Iterator[list[str]]:
    """The exchange on 127.0.0.1, port 0; yields its stderr lines up to the one announcing its
    URL (read as they come), and stops it with SIGTERM afterwards (it must exit 0)."""
    proc = subprocess.Popen(
        [*_SERVE, "--log-level", "warning", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stderr is not None
    lines: list[str] = []
    try:
        for line in proc.stderr:  # ends when the process exits without announcing
            lines.append(line.rstrip("\n"))
            if line.startswith("exchange: http://"):
                break
        assert lines and lines[-1].startswith("exchange: "), "\n".join(lines)[-2000:]
        yield lines
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    assert proc.returncode == 0


def _url(lines: list[str]) -> str:
    return lines[-1].split()[1]


def test_without_an_admin_key_one_is_generated_and_printed_once(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    with _serving("--db", db, env=_env()) as lines:
        keys = [line for line in lines if line.startswith("admin key: ")]
        assert len(keys) == 1, lines
        key = keys[0].split()[2]
        assert len(key) >= 32
        url = _url(lines)
        ok = httpx.post(f"{url}/admin/metrics/reset", headers={"X-API-Key": key})
        wrong = httpx.post(f"{url}/admin/metrics/reset", headers={"X-API-Key": key[::-1]})
    assert ok.status_code == 200
    assert wrong.status_code == 403


def test_a_given_admin_key_is_not_printed(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    with _serving("--db", db, env=_env(PINCEX_ADMIN_KEY="k" * 24)) as lines:
        assert not any("admin key" in line or "k" * 24 in line for line in lines)


def test_port_0_announces_the_bound_port(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    with _serving("--db", db, env=_env(PINCEX_ADMIN_KEY="k" * 24)) as lines:
        url = _url(lines)
        port = int(url.rsplit(":", 1)[1])
        assert port != 0
        assert url == f"http://127.0.0.1:{port}"
        assert httpx.get(f"{url}/health/ready").status_code == 200


def test_a_missing_database_directory_is_one_line_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "missing" / "dir"
    result = subprocess.run(
        [*_SERVE, "--db", f"sqlite:///{missing / 'x.db'}"],
        capture_output=True,
        text=True,
        env=_env(PINCEX_ADMIN_KEY="k" * 24),
        timeout=60,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("error: cannot use the database sqlite:///")
    assert str(missing) in result.stderr
    assert "--create-dirs" in result.stderr
    assert not missing.exists()


def test_create_dirs_creates_the_missing_directory(tmp_path: Path) -> None:
    missing = tmp_path / "missing" / "dir"
    db = f"sqlite:///{missing / 'x.db'}"
    with _serving("--db", db, "--create-dirs", env=_env(PINCEX_ADMIN_KEY="k" * 24)):
        assert (missing / "x.db").exists()

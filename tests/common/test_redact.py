"""Passwords in database URLs are never printed: the serve banner, seed-users errors and every
one-line CLI failure mask them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from common.ports import free_port
from common.redact import mask_url, redact

SECRET = "S3cr3t-pa55"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            f"postgresql+psycopg://postgres:{SECRET}@127.0.0.1:5432/db",
            "postgresql+psycopg://postgres:***@127.0.0.1:5432/db",
        ),
        (
            f"cannot open postgresql://u:{SECRET}@h/db: refused",
            "cannot open postgresql://u:***@h/db: refused",
        ),
        (f"postgresql://u:p@ss{SECRET}@h/db", "postgresql://u:***@h/db"),
        (
            f"postgresql://u@h/db?password={SECRET}&sslmode=disable",
            "postgresql://u@h/db?password=***&sslmode=disable",
        ),
        (f"host=h password={SECRET} dbname=x", "host=h password=*** dbname=x"),
        (f"at postgresql://u:{SECRET}/x@h/db: refused", "at postgresql://u:***@h/db: refused"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("sqlite:///data/a@b.db", "sqlite:///data/a@b.db"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ],
)
def test_redact(text, shown):
    assert redact(text) == shown
    assert SECRET not in redact(text)


def test_mask_url_leaves_a_url_without_password_alone():
    assert mask_url("sqlite:///data/exchange.db") == "sqlite:///data/exchange.db"


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://u:{SECRET}/x@h/db",
        f"postgresql://u:{SECRET} x@h/db",
        f"postgresql://u:@{SECRET}@h:5/db",
        f"postgresql://u:{SECRET}@h/db?password={SECRET}",
    ],
)
def test_mask_url_hides_a_password_holding_slashes_spaces_or_at_signs(url):
    shown = mask_url(url)
    assert SECRET not in shown and shown.startswith("postgresql://u:***@")


def _pincex(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pincex", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_seed_users_error_masks_the_password():
    port = free_port("127.0.0.1", 0)
    url = f"postgresql://postgres:{SECRET}@127.0.0.1:{port}/nowhere"
    result = _pincex("exchange", "seed-users", "1", "--db", url)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: cannot seed users in postgresql")
    assert len(result.stderr.strip().splitlines()) == 1
    assert SECRET not in result.stderr + result.stdout
    assert "***" in result.stderr


def test_a_database_that_cannot_be_used_is_one_masked_line():
    port = free_port("127.0.0.1", 0)
    url = f"postgresql://postgres:{SECRET}@127.0.0.1:{port}/nowhere"
    result = _pincex(
        "exchange", "serve", "--port", "0", "--db", url, env={"PINCEX_ADMIN_KEY": "k" * 24}
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.startswith("error: cannot use the database postgresql://postgres:***@")
    assert len(result.stderr.strip().splitlines()) == 1
    assert SECRET not in result.stderr + result.stdout


@pytest.mark.postgres
def test_the_serve_banner_masks_the_password(pg_url, tmp_path):
    # The test server trusts local connections, so any password is accepted and ignored.
    url = pg_url.replace("://postgres@", f"://postgres:{SECRET}@", 1)
    assert SECRET in url
    port_file = tmp_path / "port"
    proc = subprocess.Popen(
        [sys.executable, "-m", "pincex", "exchange", "serve", "--port", "0", "--db", url,
         "--port-file", str(port_file), "--log-level", "info"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PINCEX_ADMIN_KEY": "k" * 24},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not port_file.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert port_file.exists(), "the exchange did not start"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err[-2000:]
    assert "database postgresql+psycopg://postgres:***@127.0.0.1" in err, err[-2000:]
    assert SECRET not in out + err


def test_a_short_admin_key_is_one_line_and_exit_2():
    result = _pincex("exchange", "serve", "--port", "0", env={"PINCEX_ADMIN_KEY": "a"})
    assert result.returncode == 2
    assert result.stderr.startswith("error: invalid setting admin_key:")
    assert "at least 16 characters" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1

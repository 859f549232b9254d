"""Every benchmark and the runs command answer bad arguments with one `error:` line and a
non-zero exit, before measuring anything."""

from __future__ import annotations

import subprocess
import sys

import pytest

# (command line, a fragment the one line must carry)
CASES = [
    (["bench", "orders", "--rate", "-1"], "--rate"),
    (["bench", "orders", "--duration", "0"], "--duration"),
    (["bench", "orders", "--target", "notaurl"], "--target must be an http:// URL"),
    (["bench", "orders", "--target", "http://127.0.0.1:99999"], "bad port"),
    (["bench", "orders", "--target", "http://203.0.113.9"], "--allow-remote"),
    (["bench", "orders", "--target", "http://127.0.0.1:9"], "cannot reach"),
    (["bench", "orders", "--batch-size", "100001"], "--batch-size"),
    (["bench", "market-data", "--order-rate", "0", "--target", "notaurl"], "--target must be"),
    (["bench", "market-data", "--connections", "0"], "--connections"),
    (["bench", "market-data", "--order-rate", "0", "--target", "http://127.0.0.1:9"], "reach"),
    (["bench", "market-data", "--target", "http://127.0.0.1:9"], "needs --admin-key"),
    (["bench", "ws-connections", "--duration", "-5"], "--duration"),
    (["bench", "db", "--url", "mysql://x"], "unsupported database URL"),
    (["bench", "db", "--url", "sqlite:///x.db", "--connections", "0"], "--connections"),
    (["bench", "store", "--runs", "0"], "--runs"),
    (["bench", "orders", "--label", "x" * 300], "--label is 300 characters"),
    (["bench", "orders", "--label", "a\nb"], "is not a name"),
    (["bench", "db", "--url", "sqlite:///x.db", "--tag", "../../etc"], "--tag"),
    (["runs", "export", "some-id", "--format", "xml"], "--format"),
    (["runs", "show", "no-such-run"], "no run store at"),  # the store is not created
    (["runs", "import", "/no/such/file.json"], "file.json"),
]


@pytest.mark.parametrize(("args", "fragment"), CASES, ids=[" ".join(a) for a, _ in CASES])
def test_one_clear_line(args: list[str], fragment: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    done = subprocess.run(
        [sys.executable, "-m", "pincex", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ") and fragment in lines[0], lines[0]
    assert "Traceback" not in done.stderr and done.stdout == ""

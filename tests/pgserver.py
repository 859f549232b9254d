"""A throwaway PostgreSQL server for tests, started from the installed server binaries.

    with PgServer() as server:
        server.url                       # postgresql+psycopg://postgres@127.0.0.1:PORT/pincex
        url = server.create_database()   # a fresh one: .../t_<random>

The server listens on 127.0.0.1 only, on a free port, with its unix socket and data inside a
temporary directory that is removed on exit. initdb refuses to run as root, so under root the
binaries run as the `postgres` system user (created when missing) through `runuser`.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from types import TracebackType

import psycopg

__all__ = ["PgServer", "PostgresNotInstalled", "create_database", "find_pg_bindir"]

SUPERUSER = "postgres"
DATABASE = "pincex"
_SYSTEM_USER = "postgres"
_SERVER_OPTIONS = (
    "listen_addresses=127.0.0.1",
    "fsync=off",
    "full_page_writes=off",
    "synchronous_commit=off",
    "shared_buffers=64MB",
    "max_connections=200",
    "log_min_messages=warning",
)


class PostgresNotInstalled(RuntimeError):
    """No initdb/pg_ctl found under /usr/lib/postgresql/*/bin or on PATH."""


def _version_key(bindir: str) -> tuple[int, ...]:
    version = Path(bindir).parent.name
    return tuple(int(part) for part in re.findall(r"\d+", version)) or (0,)


def find_pg_bindir() -> Path:
    """The newest installed PostgreSQL bin directory holding initdb, pg_ctl and postgres."""
    candidates = [str(Path(path).parent) for path in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    for bindir in sorted(candidates, key=_version_key, reverse=True):
        if all(os.access(Path(bindir) / tool, os.X_OK) for tool in ("pg_ctl", "postgres")):
            return Path(bindir)
    initdb = shutil.which("initdb")
    if initdb is not None:
        found = Path(initdb).resolve().parent
        if (found / "pg_ctl").exists() and (found / "postgres").exists():
            return found
    raise PostgresNotInstalled(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) are not installed; "
        "`make test` installs them (scripts/sysdeps.sh: apt-get install postgresql)"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _ensure_system_user(name: str) -> None:
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            check=True,
            capture_output=True,
        )


def create_database(url: str, name: str | None = None) -> str:
    """Create a fresh database on the server of `url` and return the URL that names it."""
    name = name or f"t_{uuid.uuid4().hex[:12]}"
    base, _, _ = url.rpartition("/")
    dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"


class PgServer:
    """Start a PostgreSQL server in a temporary directory; stop it and remove the directory."""

    def __init__(self, bindir: Path | None = None, start_timeout: float = 30.0) -> None:
        self.bindir = bindir or find_pg_bindir()
        self.start_timeout = start_timeout
        self.port = 0
        self.url = ""
        self._tmp: Path | None = None
        self._prefix: list[str] = []
        self._started = False

    @property
    def datadir(self) -> Path:
        assert self._tmp is not None
        return self._tmp / "data"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [*self._prefix, *args], capture_output=True, text=True, timeout=self.start_timeout
        )
        if proc.returncode != 0:
            raise RuntimeError(
                f"{' '.join(args[:2])} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
                + self._log_tail()
            )
        return proc

    def _log_tail(self) -> str:
        if self._tmp is None or not (self._tmp / "server.log").exists():
            return ""
        return "\nserver.log:\n" + (self._tmp / "server.log").read_text()[-4000:]

    def start(self) -> str:
        """Initialise and start the server, create database `pincex` and return its URL."""
        self._tmp = Path(tempfile.mkdtemp(prefix="pincex-pg-"))
        if os.geteuid() == 0:
            _ensure_system_user(_SYSTEM_USER)
            entry = pwd.getpwnam(_SYSTEM_USER)
            os.chown(self._tmp, entry.pw_uid, entry.pw_gid)
            self._prefix = ["runuser", "-u", _SYSTEM_USER, "--"]
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.datadir),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        for attempt in range(3):  # another process may take the free port before postgres
            self.port = _free_port()
            options = " ".join(
                [f"-p {self.port}", f"-k {shlex.quote(str(self._tmp))}"]
                + [f"-c {opt}" for opt in _SERVER_OPTIONS]
            )
            self._started = True  # from here on stop() must try pg_ctl stop
            try:
                self._run(
                    str(self.bindir / "pg_ctl"), "start", "-D", str(self.datadir),
                    "-l", str(self._tmp / "server.log"), "-o", options,
                    "-w", "-t", str(int(self.start_timeout)),
                )  # fmt: skip
                break
            except RuntimeError:
                if attempt == 2:
                    raise
        self._wait_ready()
        base = f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}"
        self.url = create_database(f"{base}/postgres", DATABASE)
        return self.url

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        dsn = f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/postgres"
        while True:
            try:
                with psycopg.connect(dsn, connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    message = "PostgreSQL did not accept connections" + self._log_tail()
                    raise RuntimeError(message) from exc
                time.sleep(0.05)

    def create_database(self, name: str | None = None) -> str:
        return create_database(self.url, name)

    def stop(self) -> None:
        try:
            if self._started:
                with contextlib.suppress(Exception):
                    self._run(
                        str(self.bindir / "pg_ctl"), "stop", "-D", str(self.datadir), "-m",
                        "immediate", "-w",
                    )  # fmt: skip
                self._started = False
        finally:
            if self._tmp is not None:
                shutil.rmtree(self._tmp, ignore_errors=True)
                self._tmp = None

    def __enter__(self) -> PgServer:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

"""Shared fixtures: a real PostgreSQL server for the session, and fresh stores per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from exchange_ref.storage import Store
from tests.pgserver import PgServer, PostgresNotInstalled, create_database


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of database `pincex` on a throwaway server on 127.0.0.1 (one per session)."""
    try:
        server = PgServer()
    except PostgresNotInstalled as exc:
        pytest.fail(str(exc), pytrace=False)
    with server:
        yield server.url


@pytest.fixture
def pg_url(postgres_url: str) -> str:
    """URL of a fresh, empty database (`CREATE DATABASE t_<random>`) on the session's server."""
    return create_database(postgres_url)


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[Store]:
    """A Store on a fresh PostgreSQL database, schema created."""
    store = Store(pg_url)
    store.create_schema()
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """A Store on a fresh SQLite file under tmp_path, schema created."""
    store = Store(f"sqlite:///{tmp_path / 'exchange.db'}")
    store.create_schema()
    try:
        yield store
    finally:
        store.close()


@pytest.fixture(autouse=True)
def run_store_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test's default run store is a file under its tmp_path, never the repo's data/."""
    from collectors.settings import get_settings

    path = tmp_path / "runs.duckdb"
    monkeypatch.setenv("PINCEX_STORE_PATH", str(path))
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()

"""A run store filled with real runs (a real exchange on 127.0.0.1 port 0), an empty one, and a
way to run any dashboard page on either through Streamlit's AppTest."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import orjson
import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from collectors.settings import get_settings
from exchange_ref.server import ServerThread
from pincex.commands.bench_db import db
from pincex.commands.bench_orders import orders
from pincex.commands.bench_ws import market_data
from tests.factories import exchange_settings

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
ADMIN = ["--admin-key", "test-admin-key-0123456"]
RAMP_RATES = (150, 300, 450, 600)


@dataclass(frozen=True)
class FilledStore:
    """The store's path and the ids of what it holds."""

    path: Path
    ramp: tuple[str, ...]  # label v1, tag ramp, increasing rates
    v2: str  # the latest orders run, label v2
    market_data: str
    db: str
    url: str  # the exchange the runs were measured on (still up for the session)


def _json(command: click.Command, args: list[str]) -> dict[str, Any]:
    result = CliRunner().invoke(command, [*args, "--json"])
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = orjson.loads(result.stdout)
    return doc


@pytest.fixture(scope="session")
def exchange(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    thread = ServerThread(exchange_settings(tmp_path_factory.mktemp("dash-ex"))).start()
    try:
        yield thread
    finally:
        thread.stop()


@pytest.fixture(scope="session")
def filled_store(tmp_path_factory: pytest.TempPathFactory, exchange: ServerThread) -> FilledStore:
    """Real runs: a 4-step orders ramp (label v1), one orders run (label v2), a market-data run
    and a db run, all in one DuckDB store."""
    base = tmp_path_factory.mktemp("dash-store")
    store = base / "runs.duckdb"
    keep = ["--store", str(store)]
    ramp = []
    for rate in RAMP_RATES:
        out = _json(
            orders,
            ["--target", exchange.url, *ADMIN, "--rate", str(rate), "--duration", "2",
             "--label", "v1", "--tag", "ramp", *keep],
        )  # fmt: skip
        ramp.append(out["run_id"])
    v2 = _json(
        orders,
        ["--target", exchange.url, *ADMIN, "--rate", "300", "--duration", "2",
         "--label", "v2", *keep],
    )  # fmt: skip
    md = _json(
        market_data,
        ["--target", exchange.url, *ADMIN, "--connections", "4", "--duration", "2.5",
         "--order-rate", "20", "--label", "v2", *keep],
    )  # fmt: skip
    dbrun = _json(
        db,
        ["--url", f"sqlite:///{base / 'bench.db'}", "--connections", "2",
         "--queries-per-connection", "40", "--label", "v2", *keep],
    )  # fmt: skip
    return FilledStore(
        store, tuple(ramp), v2["run_id"], md["run_id"], dbrun["run_id"], exchange.url
    )


@pytest.fixture
def use_store(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], None]:
    """Point the app (PINCEX_STORE_PATH, read through the settings) at a store file."""

    def use(path: Path) -> None:
        monkeypatch.setenv("PINCEX_STORE_PATH", str(path))
        get_settings.cache_clear()

    return use


@pytest.fixture
def page(use_store: Callable[[Path], None]) -> Callable[..., AppTest]:
    """page(store_path, "runs.py", query={"run": id}) -> an AppTest that has run that page."""

    def run(store: Path, name: str = "overview.py", query: dict[str, str] | None = None,
            timeout: float = 60) -> AppTest:  # fmt: skip
        use_store(store)
        at = AppTest.from_file(str(APP), default_timeout=timeout)
        for key, value in (query or {}).items():
            at.query_params[key] = value
        at.run()
        if name != "overview.py":
            at.switch_page(f"views/{name}").run()
        return at

    return run

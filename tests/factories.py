"""Factories shared by the tests: exchanges with funded owners, settings on temporary files."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from exchange_ref.engine.exchange import Exchange
from exchange_ref.engine.types import ATOMS_PER_UNIT, DEFAULT_SYMBOLS
from exchange_ref.settings import ExchangeSettings

BTC = DEFAULT_SYMBOLS["BTCUSD"]


def funded_exchange(owners: int = 3, usd: str = "1000000", btc: str = "100") -> Exchange:
    ex = Exchange([BTC, DEFAULT_SYMBOLS["ETHUSD"]])
    for owner in range(1, owners + 1):
        ex.accounts.deposit(owner, "USD", int(Decimal(usd) * ATOMS_PER_UNIT))
        ex.accounts.deposit(owner, "BTC", int(Decimal(btc) * ATOMS_PER_UNIT))
    ex.accounts.touched.clear()
    return ex


def px(text: str) -> int:
    """BTCUSD price in ticks."""
    ticks = BTC.price_to_ticks(Decimal(text))
    assert ticks is not None
    return ticks


def qty(text: str) -> int:
    """BTCUSD quantity in lots."""
    lots = BTC.qty_to_lots(Decimal(text))
    assert lots is not None
    return lots


def atoms(text: str) -> int:
    return int(Decimal(text) * ATOMS_PER_UNIT)


def exchange_settings(tmp_path: Path, **overrides: object) -> ExchangeSettings:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": 0,
        "database_url": f"sqlite:///{tmp_path / 'exchange.db'}",
        "admin_key": "test-admin-key-0123456",
        "symbols": ["BTCUSD", "ETHUSD"],
    }
    values.update(overrides)
    return ExchangeSettings(**values)  # type: ignore[arg-type]

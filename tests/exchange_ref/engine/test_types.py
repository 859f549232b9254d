from decimal import Decimal

import pytest

from exchange_ref.engine.types import DEFAULT_SYMBOLS, SymbolSpec, atoms_to_str, format_decimal


def test_price_and_quantity_round_trip_through_ticks_and_lots():
    spec = DEFAULT_SYMBOLS["BTCUSD"]
    assert spec.price_to_ticks(Decimal("50000.01")) == 5_000_001
    assert spec.qty_to_lots(Decimal("1.23456")) == 123_456
    assert spec.price_str(5_000_001) == "50000.01"
    assert spec.qty_str(123_456) == "1.23456"


def test_off_tick_and_over_precise_values_are_refused():
    spec = DEFAULT_SYMBOLS["BTCUSD"]
    assert spec.price_to_ticks(Decimal("50000.015")) is None
    assert spec.qty_to_lots(Decimal("0.000001")) is None


def test_notional_is_exact_in_quote_atoms():
    spec = DEFAULT_SYMBOLS["BTCUSD"]
    # 0.5 BTC at 50000.01 USD = 25000.005 USD
    atoms = spec.notional_atoms(spec.price_to_ticks(Decimal("50000.01")), 50_000)
    assert atoms_to_str(atoms) == "25000.005"


def test_spec_rejects_sizes_finer_than_an_atom():
    with pytest.raises(ValueError, match="finer"):
        SymbolSpec("XUSD", "X", "USD", Decimal("0.0001"), Decimal("0.00000001"), Decimal(1))


@pytest.mark.parametrize(
    ("value", "text"),
    [("50000.00", "50000"), ("1E+2", "100"), ("0.10", "0.1"), ("0", "0")],
)
def test_format_decimal_is_plain(value, text):
    assert format_decimal(Decimal(value)) == text

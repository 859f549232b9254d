"""`parse_order` on any JSON value: an order within the 64-bit bounds, or a WireError naming
the field, never another exception (which would be a 500, or escape a batch half placed)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from exchange_ref.api.wire import WireError, parse_order
from exchange_ref.engine.types import DEFAULT_SYMBOLS

_MAX_UNITS = 2**62 - 1

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**200), max_value=2**200),
    st.floats(allow_nan=False, allow_infinity=False),  # what orjson can deliver
    st.text(max_size=50),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.builds(
        lambda mantissa, exponent: f"{mantissa}e{exponent}",
        st.integers(min_value=-(10**6), max_value=10**6),
        st.integers(min_value=-(10**25), max_value=10**25),
    ),
    st.sampled_from(
        [
            "1" * 10_000,
            "1e999999999",
            "1e9999999999999999999",
            "NaN",
            "-Infinity",
            "sNaN",
            "4.9e-324",
        ]
    ),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=5,
)


@settings(max_examples=600, deadline=None)
@given(price=json_values, quantity=json_values, symbol=st.sampled_from(["BTCUSD", "ETHUSD"]))
def test_numbers_either_parse_within_bounds_or_are_a_wire_error(price, quantity, symbol):
    item = {"symbol": symbol, "side": "BUY", "type": "LIMIT", "price": price, "quantity": quantity}
    try:
        parsed = parse_order(item, DEFAULT_SYMBOLS)
    except WireError as exc:
        assert exc.status == 400
        assert "price" in exc.message or "quantity" in exc.message
        assert len(exc.message) < 300
        return
    spec = DEFAULT_SYMBOLS[symbol]
    assert parsed.price is not None and 0 < parsed.price <= _MAX_UNITS
    assert 0 < parsed.quantity <= _MAX_UNITS
    # What was parsed is exactly what was sent.
    assert Decimal(parsed.price) * spec.tick_size == Decimal(str(price))
    assert Decimal(parsed.quantity) * spec.lot_size == Decimal(str(quantity))


@settings(max_examples=300, deadline=None)
@given(item=json_values)
def test_any_json_value_as_an_order_is_a_wire_error_or_an_order(item):
    try:
        parse_order(item, DEFAULT_SYMBOLS)
    except WireError as exc:
        assert len(exc.message) < 300

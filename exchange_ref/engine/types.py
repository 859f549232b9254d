"""Domain types of the matching engine: sides, order kinds, statuses and symbol rules.

Prices and quantities inside the engine are integers: a price is a count of ticks and a
quantity a count of lots of the symbol. `SymbolSpec` converts between those integers and the
decimal strings of the wire; money moves between accounts in integer atoms of each asset
(10**-ASSET_DECIMALS of a unit), so every amount is exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import IntEnum, StrEnum

__all__ = [
    "ASSET_DECIMALS",
    "ATOMS_PER_UNIT",
    "DEFAULT_SYMBOLS",
    "SIDE_BY_NAME",
    "SIDE_NAMES",
    "TIF_BY_NAME",
    "TIF_NAMES",
    "TYPE_BY_NAME",
    "TYPE_NAMES",
    "OrderStatus",
    "OrderType",
    "Side",
    "SymbolSpec",
    "TimeInForce",
    "atoms_to_str",
    "format_decimal",
]

ASSET_DECIMALS = 8
ATOMS_PER_UNIT = 10**ASSET_DECIMALS


class Side(IntEnum):
    BUY = 0
    SELL = 1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(IntEnum):
    LIMIT = 0
    MARKET = 1


class TimeInForce(IntEnum):
    GTC = 0
    IOC = 1
    FOK = 2


# The text of each kind, as the wire and the database spell it (a dict lookup is cheaper than
# the enum's `.name` on the hot path).
SIDE_NAMES = {Side.BUY: "BUY", Side.SELL: "SELL"}
TYPE_NAMES = {OrderType.LIMIT: "LIMIT", OrderType.MARKET: "MARKET"}
TIF_NAMES = {TimeInForce.GTC: "GTC", TimeInForce.IOC: "IOC", TimeInForce.FOK: "FOK"}
SIDE_BY_NAME = {v: k for k, v in SIDE_NAMES.items()}
TYPE_BY_NAME = {v: k for k, v in TYPE_NAMES.items()}
TIF_BY_NAME = {v: k for k, v in TIF_NAMES.items()}


class OrderStatus(StrEnum):
    """The specification's order statuses."""

    PENDING = "PENDING"
    PARTIAL = "PARTIAL"
    FILLED = "FILLED"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"

    @property
    def is_open(self) -> bool:
        return self in (OrderStatus.PENDING, OrderStatus.PARTIAL)


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    """Trading rules of one symbol.

    `tick_size * lot_size * ATOMS_PER_UNIT` must be a whole number so that the notional of any
    order, in quote atoms, is the integer `price_ticks * qty_lots * notional_atoms_per_unit`.
    """

    symbol: str
    base: str
    quote: str
    tick_size: Decimal
    lot_size: Decimal
    min_notional: Decimal
    # Derived once (hot paths read them per order).
    tick_decimals: int | None = field(init=False, compare=False, repr=False)
    lot_decimals: int | None = field(init=False, compare=False, repr=False)
    quote_atoms_per_tick_lot: int = field(init=False, compare=False, repr=False)
    base_atoms_per_lot: int = field(init=False, compare=False, repr=False)
    min_notional_atoms: int = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("tick_size", "lot_size"):
            value = getattr(self, name)
            if value <= 0:
                raise ValueError(f"{self.symbol}: {name} must be positive")
        if (self.tick_size * self.lot_size * ATOMS_PER_UNIT) % 1 != 0:
            raise ValueError(f"{self.symbol}: tick_size * lot_size is finer than one quote atom")
        if (self.lot_size * ATOMS_PER_UNIT) % 1 != 0:
            raise ValueError(f"{self.symbol}: lot_size is finer than one base atom")
        derived = {
            # d when the step is 10**-d, else None
            "tick_decimals": _decimals_of_power_of_ten(self.tick_size),
            "lot_decimals": _decimals_of_power_of_ten(self.lot_size),
            # quote atoms paid for one lot at a price of one tick
            "quote_atoms_per_tick_lot": int(self.tick_size * self.lot_size * ATOMS_PER_UNIT),
            "base_atoms_per_lot": int(self.lot_size * ATOMS_PER_UNIT),
            "min_notional_atoms": int(self.min_notional * ATOMS_PER_UNIT),
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)

    def price_to_ticks(self, price: Decimal) -> int | None:
        """Ticks of `price`, or None when it is not a whole number of ticks."""
        ticks, rest = divmod(price, self.tick_size)
        return int(ticks) if rest == 0 else None

    def qty_to_lots(self, quantity: Decimal) -> int | None:
        """Lots of `quantity`, or None when it is not a whole number of lots."""
        lots, rest = divmod(quantity, self.lot_size)
        return int(lots) if rest == 0 else None

    def ticks_to_price(self, ticks: int) -> Decimal:
        return self.tick_size * ticks

    def lots_to_qty(self, lots: int) -> Decimal:
        return self.lot_size * lots

    def price_str(self, ticks: int) -> str:
        """Price of `ticks` as plain decimal text without trailing zeros."""
        return _units_str(ticks, self.tick_size)

    def qty_str(self, lots: int) -> str:
        return _units_str(lots, self.lot_size)

    def notional_atoms(self, ticks: int, lots: int) -> int:
        return ticks * lots * self.quote_atoms_per_tick_lot


def _decimals_of_power_of_ten(step: Decimal) -> int | None:
    """d when step == 10**-d (d >= 0), else None."""
    sign, digits, exponent = step.normalize().as_tuple()
    if sign or digits != (1,) or not isinstance(exponent, int) or exponent > 0:
        return None
    return -exponent


_POW10_CACHE: dict[Decimal, int | None] = {}


def _units_str(units: int, step: Decimal) -> str:
    """`units * step` as text; integer arithmetic when the step is a power of ten."""
    decimals = _POW10_CACHE.get(step, -1)
    if decimals == -1:
        decimals = _POW10_CACHE[step] = _decimals_of_power_of_ten(step)
    if decimals is None:
        return format_decimal(step * units)
    if decimals == 0:
        return str(units)
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), 10**decimals)
    if not frac:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{frac:0{decimals}d}".rstrip("0")


def format_decimal(value: Decimal) -> str:
    """Plain decimal text without exponent or trailing zeros: 50000.10 -> '50000.1'."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def atoms_to_str(atoms: int) -> str:
    """An amount of asset atoms as a decimal string of units."""
    return format_decimal(Decimal(atoms).scaleb(-ASSET_DECIMALS))


DEFAULT_SYMBOLS: dict[str, SymbolSpec] = {
    spec.symbol: spec
    for spec in (
        SymbolSpec("BTCUSD", "BTC", "USD", Decimal("0.01"), Decimal("0.00001"), Decimal("10")),
        SymbolSpec("ETHUSD", "ETH", "USD", Decimal("0.01"), Decimal("0.0001"), Decimal("10")),
        SymbolSpec("SOLUSD", "SOL", "USD", Decimal("0.001"), Decimal("0.001"), Decimal("5")),
    )
}

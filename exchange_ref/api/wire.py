"""The wire format: order objects parsed by hand (fast, exact) and the documented models.

The hot path never builds pydantic models: `parse_order` checks one JSON object of the
specification's order shape (`symbol`, `side`, `type`, `timeInForce`, `quantity`, `price`) and
returns integer ticks and lots, or raises `WireError` with a machine-readable code. The pydantic
models below only describe the same shapes for the OpenAPI document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from exchange_ref.echo import clip
from exchange_ref.engine.types import (
    SIDE_BY_NAME,
    TIF_BY_NAME,
    TYPE_BY_NAME,
    OrderType,
    Side,
    SymbolSpec,
    TimeInForce,
)

__all__ = [
    "MAX_BODY",
    "BatchError",
    "BatchResponse",
    "ErrorResponse",
    "OrderIn",
    "OrderOut",
    "ParsedOrder",
    "WireError",
    "clip",
    "parse_order",
]

_KNOWN_FIELDS = frozenset(
    {"symbol", "side", "type", "timeInForce", "quantity", "price", "clientOrderId"}
)
# The largest request body of any route: a full batch of 1000 orders is about 150 kB.
MAX_BODY = 4 * 1024 * 1024
_MAX_DIGITS = 40
# Prices and sizes are stored as signed 64-bit integers of ticks and lots.
_MAX_UNITS = 2**62 - 1
# Plain ASCII decimal text, optionally with an exponent: what Decimal() takes beyond this
# (underscores, other scripts' digits, surrounding spaces, "Infinity") is refused.
# An exponent of up to 9 digits is read (and refused as too large or too small when it is);
# decimal itself cannot hold one past about 10**18.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,9})?", re.ASCII)
# Far enough past any tick or lot count to refuse before dividing (2**62 lots of 1e-8 is
# about 4.6e10; 1e30 is refused whatever the step).
_MAX_ADJUSTED = 30


class WireError(Exception):
    """A request that cannot be taken; `status` is the HTTP status to answer with."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass(slots=True)
class ParsedOrder:
    spec: SymbolSpec
    side: Side
    type: OrderType
    tif: TimeInForce
    price: int | None
    quantity: int
    client_order_id: str | None


def _decimal(value: Any, name: str, code: str) -> Decimal:
    """A finite Decimal of plain decimal text, a JSON number or an int, or WireError."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise WireError("INVALID_FIELD", f"{name} must be a decimal number or string")
    if isinstance(value, int):
        if value.bit_length() > 128:
            raise WireError(
                code, f"{name} must be positive" if value < 0 else f"{name} is too large"
            )
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise WireError("INVALID_FIELD", f"{name} must be finite")
        value = repr(value)
    if len(value) > _MAX_DIGITS:
        raise WireError("INVALID_FIELD", f"{name} has too many digits")
    if not _NUMBER.fullmatch(value):
        raise WireError("INVALID_FIELD", f"{name} {clip(value)} is not a decimal number")
    try:
        return Decimal(value)
    except ArithmeticError:  # no valid price or size comes near what decimal cannot hold
        raise WireError(code, f"{name} {clip(value)} is out of range") from None


def _units(value: Any, step: Decimal, decimals: int | None, name: str, code: str) -> int:
    """A positive whole number of `step`s, or WireError(code / INVALID_FIELD).

    Plain decimal text (what JSON numbers and strings almost always are) is converted with
    integer arithmetic; anything else (exponents, signs, odd steps) goes through Decimal.
    """
    if decimals is not None and not isinstance(value, bool):
        if isinstance(value, str):
            text = value
        elif isinstance(value, float):
            text = repr(value)
        elif isinstance(value, int):
            text = str(value) if value.bit_length() <= 128 else ""
        else:
            text = ""
        whole, _, frac = text.partition(".")
        if (
            whole
            and len(text) <= _MAX_DIGITS
            and whole.isascii()
            and whole.isdigit()
            and (not frac or (frac.isascii() and frac.isdigit()))
        ):
            if len(frac) > decimals:
                if frac[decimals:].strip("0"):
                    raise WireError(code, f"{name} {text} is not a multiple of {step}")
                frac = frac[:decimals]
            scale: int = 10**decimals
            units = int(whole) * scale + (int(frac.ljust(decimals, "0")) if decimals else 0)
            return _bounded(units, name, code)
    number = _decimal(value, name, code)
    if number <= 0:
        raise WireError(code, f"{name} must be positive")
    if number.adjusted() > _MAX_ADJUSTED:
        raise WireError(code, f"{name} {clip(value)} is too large")
    if number.adjusted() < -_MAX_ADJUSTED:
        raise WireError(code, f"{name} {clip(value)} is not a multiple of {step}")
    try:
        if number / step > _MAX_UNITS:
            raise WireError(code, f"{name} {clip(value)} is too large")
        count, rest = divmod(number, step)
    except ArithmeticError:  # out of the context's range: no valid price or size is
        raise WireError(code, f"{name} {clip(value)} is out of range") from None
    if rest != 0:
        raise WireError(code, f"{name} {clip(value)} is not a multiple of {step}")
    return _bounded(int(count), name, code)


def _bounded(units: int, name: str, code: str) -> int:
    if units <= 0:
        raise WireError(code, f"{name} must be positive")
    if units > _MAX_UNITS:
        raise WireError(code, f"{name} is too large")
    return units


def parse_order(item: Any, specs: dict[str, SymbolSpec]) -> ParsedOrder:
    """Check one order object and convert it to integer ticks and lots."""
    if not isinstance(item, dict):
        raise WireError("INVALID_ORDER", "an order must be a JSON object")
    if not _KNOWN_FIELDS.issuperset(item):
        unknown = sorted(map(str, item.keys() - _KNOWN_FIELDS))
        shown = ", ".join(clip(name)[1:-1] for name in unknown[:5])
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        raise WireError("UNKNOWN_FIELD", f"unknown field(s): {shown}{more}")
    symbol = item.get("symbol")
    if symbol is None:
        raise WireError("MISSING_FIELD", "symbol is required")
    if not isinstance(symbol, str):
        raise WireError("INVALID_FIELD", "symbol must be a string")
    spec = specs.get(symbol) or specs.get(symbol.upper())
    if spec is None:
        raise WireError(
            "UNKNOWN_SYMBOL", f"unknown symbol {clip(symbol)}; known: {', '.join(specs)}"
        )
    side = _enum(item, "side", SIDE_BY_NAME, None)
    type_ = _enum(item, "type", TYPE_BY_NAME, OrderType.LIMIT)
    tif = _enum(item, "timeInForce", TIF_BY_NAME, TimeInForce.GTC)

    raw_qty = item.get("quantity")
    if raw_qty is None:
        raise WireError("MISSING_FIELD", "quantity is required")
    lots = _units(raw_qty, spec.lot_size, spec.lot_decimals, "quantity", "INVALID_QUANTITY")

    raw_price = item.get("price")
    ticks: int | None = None
    if type_ is OrderType.LIMIT:
        if raw_price is None:
            raise WireError("MISSING_FIELD", "price is required for a LIMIT order")
        ticks = _units(raw_price, spec.tick_size, spec.tick_decimals, "price", "INVALID_PRICE")
    elif raw_price is not None:
        raise WireError("INVALID_PRICE", "a MARKET order takes no price")

    client_id = item.get("clientOrderId")
    if client_id is not None and (not isinstance(client_id, str) or len(client_id) > 64):
        raise WireError("INVALID_FIELD", "clientOrderId must be a string of at most 64 characters")
    return ParsedOrder(spec, side, type_, tif, ticks, lots, client_id)


def _enum(item: dict[str, Any], name: str, allowed: dict[str, Any], default: Any) -> Any:
    value = item.get(name)
    if value is None:
        if default is None:
            raise WireError("MISSING_FIELD", f"{name} is required")
        return default
    found = allowed.get(value) if isinstance(value, str) else None
    if found is not None:
        return found
    if not isinstance(value, str) or value.upper() not in allowed:
        raise WireError("INVALID_FIELD", f"{name} must be one of {', '.join(allowed)}")
    return allowed[value.upper()]


# --------------------------------------------------------------------------- documented models
# What the parser takes as text: plain decimal digits, optionally with an exponent.
Decimalish = (
    float | Annotated[str, StringConstraints(pattern=r"^[0-9]*\.?[0-9]+([eE][+-]?[0-9]{1,9})?$")]
)


class OrderIn(BaseModel):
    """The specification's order object."""

    symbol: str = Field(examples=["BTCUSD"])
    side: Literal["BUY", "SELL"]
    type: Literal["LIMIT", "MARKET"] = "LIMIT"
    timeInForce: Literal["GTC", "IOC", "FOK"] = "GTC"
    quantity: Decimalish = Field(examples=["0.5"])
    price: Decimalish | None = Field(default=None, examples=["50000.01"])
    clientOrderId: str | None = Field(default=None, max_length=64)


class TradeOut(BaseModel):
    tradeId: int
    price: str
    quantity: str


class OrderOut(BaseModel):
    orderId: int
    clientOrderId: str | None = None
    symbol: str
    side: str
    type: str
    timeInForce: str
    price: str | None
    quantity: str
    filledQuantity: str
    status: Literal["PENDING", "PARTIAL", "FILLED", "CANCELLED", "REJECTED"]
    createdAt: int = Field(description="milliseconds since the Unix epoch")
    trades: list[TradeOut] = []


class BatchError(BaseModel):
    index: int
    code: str
    message: str


class BatchResponse(BaseModel):
    successful: list[OrderOut]
    errors: list[BatchError]


class ErrorResponse(BaseModel):
    code: str
    message: str

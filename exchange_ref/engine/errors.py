"""Domain errors of the engine: each carries a machine-readable code and a human message."""

from __future__ import annotations

__all__ = ["EngineError", "NotOrderOwner", "OrderNotFound", "OrderRejected", "UnknownSymbol"]


class EngineError(Exception):
    """Base of every refusal the engine makes; `code` is stable, `message` is for people."""

    code = "ENGINE_ERROR"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class OrderRejected(EngineError):
    """The order breaks a rule (symbol, tick, lot, notional, balance) and changes nothing."""

    code = "ORDER_REJECTED"


class OrderNotFound(EngineError):
    code = "ORDER_NOT_FOUND"


class NotOrderOwner(EngineError):
    code = "NOT_ORDER_OWNER"


class UnknownSymbol(EngineError):
    """A symbol the exchange does not trade."""

    code = "UNKNOWN_SYMBOL"

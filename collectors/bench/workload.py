"""The order flow the benchmarks send: reproducible batches of the specification's orders.

batches = order_batches(n_batches=100, batch_size=chunk_size(2500), symbol="BTCUSD", seed=1)
"""

from __future__ import annotations

import random
from typing import Any

__all__ = ["MAX_BATCH", "chunk_size", "order_batches", "spec_order_batches"]

MAX_BATCH = 1000  # orders per POST the exchange accepts; bigger batches are split


def order_batches(
    n_batches: int, batch_size: int, symbol: str, seed: int, mid: float = 50_000.0
) -> list[list[dict[str, Any]]]:
    """Reproducible batches of the specification's order objects around a moving mid.

    Half the orders are passive GTC limits $0.05-$2 from the mid; the other half are IOC limits
    priced $0.50-$2 through it, carrying slightly more quantity, so the book is consumed about as
    fast as it fills (measured with this generator: about 1,700 resting orders after 2,000,000
    orders, growing slowly) and orders both rest and cross. The mid wanders around `mid`.
    """
    rng = random.Random(seed)
    centre = mid
    batches = []
    for _ in range(n_batches):
        mid += rng.gauss(0, 0.5) - (mid - centre) * 0.05
        batch = []
        for _ in range(max(batch_size, 1)):
            side = "BUY" if rng.random() < 0.5 else "SELL"
            sign = 1 if side == "BUY" else -1
            if rng.random() < 0.5:
                price = round(mid - sign * rng.randint(1, 40) * 0.05, 2)
                qty = rng.randint(1, 100) / 1000
                tif = "GTC"
            else:
                price = round(mid + sign * rng.randint(10, 40) * 0.05, 2)
                qty = rng.randint(1, 103) / 1000
                tif = "IOC"
            batch.append(
                {
                    "symbol": symbol,
                    "side": side,
                    "type": "LIMIT",
                    "timeInForce": tif,
                    "quantity": qty,
                    "price": price,
                }
            )
        batches.append(batch)
    return batches


def spec_order_batches(
    n_batches: int, batch_size: int, symbol: str, seed: int
) -> list[list[dict[str, Any]]]:
    """The specification's own order bodies (benchmark-orders.ps1): GTC limits, sides
    alternating BUY/SELL, quantity 0.1-10 rounded to 2 places, price a whole number in
    45,000-55,000. Used against servers that are not the exchange."""
    rng = random.Random(seed)
    batches = []
    k = 0
    for _ in range(n_batches):
        batch = []
        for _ in range(max(batch_size, 1)):
            batch.append(
                {
                    "symbol": symbol,
                    "type": "LIMIT",
                    "timeInForce": "GTC",
                    "side": "BUY" if k % 2 == 0 else "SELL",
                    "quantity": round(rng.uniform(0.1, 10.0), 2),
                    "price": float(rng.randrange(45_000, 55_000)),
                }
            )
            k += 1
        batches.append(batch)
    return batches


def chunk_size(batch_size: int) -> int:
    """Orders per POST: a batch over `MAX_BATCH` is split into equal parts of at most that."""
    if batch_size <= MAX_BATCH:
        return batch_size
    parts = -(-batch_size // MAX_BATCH)
    return -(-batch_size // parts)

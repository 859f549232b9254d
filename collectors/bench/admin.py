"""The exchange's admin endpoint as the benchmarks use it: seeding funded users.

    keys = AdminClient("http://127.0.0.1:8080", admin_key).seed_users(8, "BTCUSD", "bench")

Every benchmark that needs users with keys and money (orders, market data, WebSocket
connections) seeds them here, through `POST /admin/users`.
"""

from __future__ import annotations

import httpx

from collectors.bench.errors import BenchFailed

__all__ = ["SEED_BALANCES_BASE", "SEED_BALANCES_USD", "AdminClient", "SeedingFailed"]

# Deposits per seeded user: about ten times what a user's balance wanders in a 60 s run at
# 20,000 orders/s (a random walk of ~150,000 fills of ~$2,500), and small enough that the
# exchange's 64-bit supply (2**62 atoms, ~4.6e10 USD) holds several hundred runs' users.
SEED_BALANCES_USD = "10000000"
SEED_BALANCES_BASE = "1000"

_HINT = "(is it a PinCEX exchange? without an admin key the benchmark posts without keys)"


class SeedingFailed(BenchFailed):
    """The exchange would not seed the users (a wrong key, not an exchange, unreachable)."""


class AdminClient:
    """The admin endpoint of the exchange at `target` (its REST base URL)."""

    def __init__(self, target: str, admin_key: str, timeout: float = 30.0) -> None:
        self.target = target
        self.admin_key = admin_key
        self.timeout = timeout

    def seed_users(self, users: int, symbol: str, prefix: str) -> list[str]:
        """API keys of `users` new users, each funded in USD and `symbol`'s base asset."""
        balances = {"USD": SEED_BALANCES_USD, symbol.removesuffix("USD"): SEED_BALANCES_BASE}
        where = f"cannot seed users on {self.target}"
        try:
            with httpx.Client(base_url=self.target, timeout=self.timeout) as client:
                r = client.post(
                    "/admin/users",
                    headers={"X-API-Key": self.admin_key},
                    json={"count": users, "prefix": prefix, "balances": balances},
                )
            if r.status_code != 201:
                raise SeedingFailed(f"{where}: HTTP {r.status_code} {r.text[:200]} {_HINT}")
            return [str(u["apiKey"]) for u in r.json()["users"]]
        except httpx.HTTPError as exc:
            raise SeedingFailed(f"{where}: {type(exc).__name__}: {exc}") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise SeedingFailed(f"{where}: unexpected answer ({exc!r}) {_HINT}") from None

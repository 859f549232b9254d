"""Balances per user and asset, in integer atoms, with funds locked by resting orders.

Every change is a transfer between an owner's `available` and `locked`, or between two owners
at a trade, so for every asset the sum over users of available + locked changes only through
`deposit` and `withdraw`.
"""

from __future__ import annotations

from collections.abc import Iterator

from exchange_ref.engine.errors import OrderRejected

__all__ = ["MAX_SUPPLY_ATOMS", "Accounts"]

# Every stored amount is a signed 64-bit integer; keeping each asset's whole supply below this
# bound keeps every balance, lock and order value that can exist within it.
MAX_SUPPLY_ATOMS = 2**62


class Accounts:
    """`owner -> asset -> [available, locked]`; owners are the engine's integer user ids."""

    __slots__ = ("_balances", "_supply", "touched")

    def __init__(self) -> None:
        self._balances: dict[int, dict[str, list[int]]] = {}
        self._supply: dict[str, int] = {}
        # (owner, asset) pairs changed since the caller last cleared it.
        self.touched: set[tuple[int, str]] = set()

    def _slot(self, owner: int, asset: str) -> list[int]:
        assets = self._balances.get(owner)
        if assets is None:
            assets = self._balances[owner] = {}
        slot = assets.get(asset)
        if slot is None:
            slot = assets[asset] = [0, 0]
        return slot

    def get(self, owner: int, asset: str) -> tuple[int, int]:
        slot = self._balances.get(owner, {}).get(asset)
        return (slot[0], slot[1]) if slot is not None else (0, 0)

    def assets_of(self, owner: int) -> dict[str, tuple[int, int]]:
        return {a: (s[0], s[1]) for a, s in self._balances.get(owner, {}).items()}

    def set(self, owner: int, asset: str, available: int, locked: int) -> None:
        """Restore a balance read back from storage."""
        if available < 0 or locked < 0:
            raise ValueError(f"negative balance for owner {owner} {asset}")
        slot = self._slot(owner, asset)
        self._supply[asset] = self._supply.get(asset, 0) - slot[0] - slot[1] + available + locked
        slot[0], slot[1] = available, locked

    def deposit(self, owner: int, asset: str, amount: int) -> None:
        """Credit `amount`; refused when the asset's total supply would leave 64-bit range."""
        if amount <= 0:
            raise ValueError("deposit amount must be positive")
        supply = self._supply.get(asset, 0) + amount
        if supply > MAX_SUPPLY_ATOMS:
            raise OrderRejected(
                f"deposit refused: total {asset} held on the exchange would pass "
                f"{MAX_SUPPLY_ATOMS} atoms",
                "SUPPLY_LIMIT",
            )
        self._supply[asset] = supply
        self._slot(owner, asset)[0] += amount
        self.touched.add((owner, asset))

    def can_deposit(self, asset: str, amount: int) -> bool:
        return self._supply.get(asset, 0) + amount <= MAX_SUPPLY_ATOMS

    def withdraw(self, owner: int, asset: str, amount: int) -> None:
        slot = self._slot(owner, asset)
        if amount <= 0 or amount > slot[0]:
            raise OrderRejected(f"cannot withdraw {amount} of {asset}", "INSUFFICIENT_BALANCE")
        slot[0] -= amount
        self._supply[asset] -= amount
        self.touched.add((owner, asset))

    def lock(self, owner: int, asset: str, amount: int, what: str) -> None:
        """Move `amount` from available to locked, or refuse with INSUFFICIENT_BALANCE."""
        slot = self._slot(owner, asset)
        if amount > slot[0]:
            raise OrderRejected(
                f"insufficient {asset} balance: {what} needs {amount} atoms, {slot[0]} available",
                "INSUFFICIENT_BALANCE",
            )
        slot[0] -= amount
        slot[1] += amount
        self.touched.add((owner, asset))

    def unlock(self, owner: int, asset: str, amount: int) -> None:
        if amount:
            slot = self._slot(owner, asset)
            if amount > slot[1]:
                raise AssertionError(f"unlock of {amount} {asset} beyond locked {slot[1]}")
            slot[1] -= amount
            slot[0] += amount
            self.touched.add((owner, asset))

    def settle(self, payer: int, asset: str, amount: int, payee: int) -> None:
        """Pay `amount` out of the payer's locked funds into the payee's available funds."""
        src = self._slot(payer, asset)
        if amount > src[1]:
            raise AssertionError(f"settlement of {amount} {asset} beyond locked {src[1]}")
        src[1] -= amount
        self._slot(payee, asset)[0] += amount
        self.touched.add((payer, asset))
        self.touched.add((payee, asset))

    def supply(self) -> dict[str, int]:
        """Per asset, what was deposited minus what was withdrawn (restored balances count as
        deposits): the total that the sum over owners of available + locked must equal."""
        return dict(self._supply)

    def totals(self) -> dict[str, int]:
        """Sum of available + locked per asset over all owners."""
        out: dict[str, int] = {}
        for assets in self._balances.values():
            for asset, (available, locked) in assets.items():
                out[asset] = out.get(asset, 0) + available + locked
        return out

    def __iter__(self) -> Iterator[tuple[int, str, int, int]]:
        for owner, assets in self._balances.items():
            for asset, (available, locked) in assets.items():
                yield owner, asset, available, locked

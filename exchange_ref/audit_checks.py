"""The invariants of the exchange's audit, as pure functions over what it captured.

    checks = run_checks(memory, durable, snapshot, specs)   # tuple of AuditCheck, in order

Each check names what it compared with counts; on failure it says how many things were wrong
and shows the first few. Amounts are atoms (balances), lots and ticks (orders), as stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from exchange_ref.audit_state import AuditCheck, AuditSnapshot, DurableState, MemoryState
from exchange_ref.engine.types import DEFAULT_SYMBOLS, SymbolSpec
from exchange_ref.storage.audit_reads import UserAsset

__all__ = [
    "CHECK_NAMES",
    "balances_reconcile",
    "book_not_crossed",
    "durable_matches_memory",
    "funds_conserved",
    "locks_match_open_orders",
    "no_negative_balance",
    "no_overfilled_order",
    "orders_present",
    "run_checks",
]

CHECK_NAMES = (
    "orders_present",
    "funds_conserved",
    "balances_reconcile_with_trades",
    "no_negative_balance",
    "locks_match_open_orders",
    "no_overfilled_order",
    "book_not_crossed",
    "durable_matches_memory",
)
_SHOWN = 5


def _first(items: Iterable[str]) -> str:
    shown = list(items)[:_SHOWN]
    return "; ".join(shown)


def _verdict(name: str, wrong: list[str], failed: str, held: str) -> AuditCheck:
    """Passed with `held` when nothing is `wrong`, else failed with `failed` and the first few."""
    if wrong:
        return AuditCheck(name, False, f"{failed}: {_first(wrong)}")
    return AuditCheck(name, True, held)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _who(key: UserAsset) -> str:
    return f"user {key[0]} {key[1]}"


def _spec(specs: Mapping[str, SymbolSpec], symbol: str) -> SymbolSpec | None:
    return specs.get(symbol) or DEFAULT_SYMBOLS.get(symbol)


def orders_present(d: DurableState) -> AuditCheck:
    missing, first = d.missing
    what = f"{d.acknowledged} {d.ids_what} ({_count(d.ranges, 'id range')})"
    if missing:
        shown = ", ".join(str(i) for i in first)
        return AuditCheck(
            "orders_present", False, f"{missing} of {what} not in the store; first: {shown}"
        )
    return AuditCheck("orders_present", True, f"all {what} are in the store")


def _totals(balances: Mapping[UserAsset, tuple[int, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for (_user, asset), (available, locked) in balances.items():
        out[asset] = out.get(asset, 0) + available + locked
    return out


def funds_conserved(m: MemoryState, d: DurableState, snap: AuditSnapshot | None) -> AuditCheck:
    stored = _totals(d.balances)
    assets = sorted(set(stored) | set(m.supply))
    wrong = [
        f"{a}: stored {stored.get(a, 0)} atoms, supply {m.supply.get(a, 0)} "
        f"(off by {stored.get(a, 0) - m.supply.get(a, 0)})"
        for a in assets
        if stored.get(a, 0) != m.supply.get(a, 0)
    ]
    users = len({user for user, _asset in d.balances})
    detail = (
        f"{len(assets)} assets: the stored sum of available + locked over {users} users "
        "against the exchange's supply (deposits - withdrawals; trades only move funds)"
    )
    if snap is not None:
        before = snap.totals()
        for a in sorted(set(assets) | set(before)):
            deposited = m.supply.get(a, 0) - snap.supply.get(a, 0)
            moved = stored.get(a, 0) - before.get(a, 0)
            if moved != deposited:
                wrong.append(
                    f"{a}: stored total changed by {moved} atoms since snapshot {snap.id}, "
                    f"deposits - withdrawals by {deposited}"
                )
        detail += f", and the change since snapshot {snap.id} against what was deposited since"
    return _verdict("funds_conserved", wrong, f"{len(wrong)} wrong in {detail}", detail)


def balances_reconcile(
    m: MemoryState,
    d: DurableState,
    snap: AuditSnapshot | None,
    specs: Mapping[str, SymbolSpec],
) -> AuditCheck:
    """Per user and asset: balance now - balance at the snapshot (for a user created since,
    its deposit) == the net flow of the user's trades after the snapshot's last trade."""
    name = "balances_reconcile_with_trades"
    if snap is None or d.trade_flows is None:
        return AuditCheck(name, True, "not checked: no snapshot was given")
    expected: dict[UserAsset, int] = {}
    unknown: set[str] = set()
    for (user, symbol), (lots, value) in d.trade_flows.items():
        spec = _spec(specs, symbol)
        if spec is None:
            unknown.add(symbol)
            continue
        base, quote = (user, spec.base), (user, spec.quote)
        expected[base] = expected.get(base, 0) + lots * spec.base_atoms_per_lot
        expected[quote] = expected.get(quote, 0) - value * spec.quote_atoms_per_tick_lot
    keys = set(d.balances) | set(snap.balances) | set(expected)
    newcomers = {user for user, _asset in keys if user not in snap.users}
    wrong = []
    for key in sorted(keys, key=lambda k: (str(k[0]), k[1])):
        before = snap.balances.get(key, 0) if key[0] in snap.users else m.deposits.get(key, 0)
        moved = sum(d.balances.get(key, (0, 0))) - before
        if moved != expected.get(key, 0):
            wrong.append(f"{_who(key)}: moved {moved} atoms, trades say {expected.get(key, 0)}")
    wrong.extend(f"trades of unknown symbol {s}" for s in sorted(unknown))
    scope = (
        f"{len(keys)} balances of {len(snap.users) + len(newcomers)} users against their "
        f"trades after trade {snap.max_trade_id} (snapshot {snap.id}; "
        f"{len(newcomers)} users created since, from their deposits; no fees are charged)"
    )
    return _verdict(name, wrong, f"{len(wrong)} of {scope} wrong", scope)


def no_negative_balance(d: DurableState) -> AuditCheck:
    wrong = [
        f"{_who(k)} available {av} locked {lk}"
        for k, (av, lk) in sorted(d.balances.items(), key=lambda i: (str(i[0][0]), i[0][1]))
        if av < 0 or lk < 0
    ]
    what = f"{len(d.balances)} stored balances"
    return _verdict(
        "no_negative_balance", wrong, f"{len(wrong)} of {what} below 0", f"none of {what} below 0"
    )


def locks_match_open_orders(d: DurableState, specs: Mapping[str, SymbolSpec]) -> AuditCheck:
    expected: dict[UserAsset, int] = {}
    for (user, symbol, side), total in d.open_locks.items():
        spec = _spec(specs, symbol)
        if spec is None:
            continue
        if side == "BUY":
            key, atoms = (user, spec.quote), total * spec.quote_atoms_per_tick_lot
        else:
            key, atoms = (user, spec.base), total * spec.base_atoms_per_lot
        expected[key] = expected.get(key, 0) + atoms
    keys = set(expected) | {k for k, (_av, lk) in d.balances.items() if lk}
    wrong = [
        f"{_who(k)}: locked {d.balances.get(k, (0, 0))[1]}, open orders hold {expected.get(k, 0)}"
        for k in sorted(keys, key=lambda k: (str(k[0]), k[1]))
        if d.balances.get(k, (0, 0))[1] != expected.get(k, 0)
    ]
    what = f"{len(keys)} locked balances against the stored open orders"
    return _verdict(
        "locks_match_open_orders", wrong, f"{len(wrong)} of {what} wrong", f"all {what} agree"
    )


def no_overfilled_order(d: DurableState) -> AuditCheck:
    over, first_over = d.overfilled
    off, first_off = d.fill_mismatches
    wrong = [f"order {i} filled {f} of {q}" for i, q, f in first_over]
    wrong += [f"order {i} filled {f}, its trades {t}" for i, f, t in first_off]
    what = (
        "every stored order's filled quantity within 0..quantity, and the filled "
        f"quantity of {d.fill_scope} against the sum of their trades"
    )
    if over or off:
        detail = f"{over} overfilled, {off} not matching their trades ({what}): {_first(wrong)}"
        return AuditCheck("no_overfilled_order", False, detail)
    return AuditCheck("no_overfilled_order", True, what)


def book_not_crossed(m: MemoryState, d: DurableState) -> AuditCheck:
    wrong = []
    resting = 0
    for symbol, book in sorted(m.books.items()):
        bid, ask = book.best_bid, book.best_ask
        if bid is not None and ask is not None and bid >= ask:
            wrong.append(f"{symbol} crossed: best bid {book.best_bid} >= best ask {book.best_ask}")
        stored = d.open_orders.get(symbol, {})
        resting += len(book.orders)
        for oid in sorted(set(book.orders) | set(stored)):
            mem, dur = book.orders.get(oid), stored.get(oid)
            if mem != dur:
                wrong.append(
                    f"{symbol} order {oid}: book {'absent' if mem is None else mem}, "
                    f"store {'not open' if dur is None else dur}"
                )
    books = len(m.books)
    what = (
        f"{_count(books, 'book')} (best bid < best ask) and {'its' if books == 1 else 'their'} "
        f"{_count(resting, 'resting order')} against the stored open orders"
    )
    return _verdict(
        "book_not_crossed", wrong, f"{len(wrong)} wrong in {what}", f"{what}: all agree"
    )


def durable_matches_memory(m: MemoryState, d: DurableState) -> AuditCheck:
    zero = (0, 0)
    keys = set(m.balances) | set(d.balances)
    wrong = [
        f"{_who(k)}: stored {d.balances.get(k, zero)}, memory {m.balances.get(k, zero)}"
        for k in sorted(keys, key=lambda k: (str(k[0]), k[1]))
        if d.balances.get(k, zero) != m.balances.get(k, zero)
    ]
    what = f"{len(keys)} balances (available, locked), stored against the engine's"
    return _verdict(
        "durable_matches_memory", wrong, f"{len(wrong)} of {what} differ", f"all {what} agree"
    )


def run_checks(
    m: MemoryState, d: DurableState, snap: AuditSnapshot | None, specs: Mapping[str, SymbolSpec]
) -> tuple[AuditCheck, ...]:
    """Every invariant, in `CHECK_NAMES` order."""
    return (
        orders_present(d),
        funds_conserved(m, d, snap),
        balances_reconcile(m, d, snap, specs),
        no_negative_balance(d),
        locks_match_open_orders(d, specs),
        no_overfilled_order(d),
        book_not_crossed(m, d),
        durable_matches_memory(m, d),
    )

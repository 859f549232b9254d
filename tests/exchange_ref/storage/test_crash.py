"""A writer killed with SIGKILL loses nothing it acknowledged and leaves only whole batches."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from exchange_ref.storage import Store

BATCH = 100
ROUNDS = 3

# Writes batch n (orders (n-1)*BATCH+1 .. n*BATCH, trade n, a fill of the first order of batch
# n-1 and balance n) and prints n once write() has returned, i.e. once it is committed. It
# resumes after the last batch it finds, so each round also checks writing after recovery.
WRITER = """
import sys, uuid
from exchange_ref.storage import OrderRecord, Store, TradeRecord, WriteBatch

url, size = sys.argv[1], int(sys.argv[2])
user = uuid.UUID(int=1)
store = Store(url)
store.start_checkpointer(interval_s=0.02, every_writes=10)
n = store.load().max_trade_id
while True:
    n += 1
    batch = WriteBatch()
    for oid in range((n - 1) * size + 1, n * size + 1):
        batch.record_order(
            OrderRecord(oid, user, "BTCUSD", "BUY", "LIMIT", "GTC", 100, 10, 0, "PENDING", n, n)
        )
    if n > 1:
        batch.update_order((n - 2) * size + 1, 1, "PARTIAL", n)
    batch.trades.append(TradeRecord(n, "BTCUSD", 100, 1, n, n, user, user, "BUY", n))
    batch.set_balance(user, "USD", n, 0)
    store.write(batch)
    print(n, flush=True)
"""


def _kill_while_writing(url: str, out_path: Path, first: int, min_batches: int = 100) -> int:
    """Run the writer, SIGKILL it mid-stream; return the last batch it acknowledged."""
    root = Path(__file__).resolve().parents[3]
    env = {**os.environ, "PYTHONPATH": str(root)}
    with out_path.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, url, str(BATCH)], stdout=out, env=env, cwd=root
        )
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and proc.poll() is None:
                lines = out_path.read_text().split()
                if len(lines) >= min_batches:
                    break
                time.sleep(0.02)
            assert proc.poll() is None, "the writer died on its own"
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.kill()
            proc.wait()
    acked = [int(line) for line in out_path.read_text().split()]
    assert len(acked) >= min_batches
    assert acked == list(range(first, first + len(acked)))
    return acked[-1]


def _check(url: str, acked: int) -> int:
    """Check the invariants of the DB after a kill; return the number of batches in it."""
    store = Store(url)
    try:
        snapshot = store.load()
    finally:
        store.close()
    committed = snapshot.max_trade_id  # batch n writes trade n: this many whole batches
    assert committed >= acked  # every acknowledged batch is there (maybe one more, unprinted)
    assert committed <= acked + 1
    ids = [o.id for o in snapshot.open_orders]
    assert ids == list(range(1, committed * BATCH + 1))  # whole batches only, nothing after
    assert snapshot.max_order_id == committed * BATCH
    assert [(b.asset, b.available) for b in snapshot.balances] == [("USD", committed)]
    fills = {o.id: o.filled_quantity for o in snapshot.open_orders if o.filled_quantity}
    assert fills == {(n - 1) * BATCH + 1: 1 for n in range(1, committed)}
    return committed


def _rounds(url: str, tmp_path: Path, wal: Path | None = None) -> None:
    committed = 0
    for round_ in range(ROUNDS):
        acked = _kill_while_writing(url, tmp_path / f"acks-{round_}.txt", committed + 1)
        if wal is not None:
            assert wal.stat().st_size > 0  # killed with a live WAL, recovered by the next open
        committed = _check(url, acked)


def test_sqlite_survives_sigkill(sqlite_store: Store, tmp_path: Path) -> None:
    url = sqlite_store.url
    sqlite_store.close()
    _rounds(url, tmp_path, wal=Path(url.removeprefix("sqlite:///") + "-wal"))


@pytest.mark.postgres
def test_postgres_survives_sigkill(pg_store: Store, tmp_path: Path) -> None:
    url = pg_store.url
    pg_store.close()
    _rounds(url, tmp_path)

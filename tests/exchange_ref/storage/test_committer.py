"""Group commit over SQLite and a real PostgreSQL server."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from exchange_ref.storage import Committer, OrderRecord, Store

T0 = 1_760_000_000_000_000
USER = uuid.UUID("00000000-0000-4000-8000-0000000000aa")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest) -> Store:
    fixture = "sqlite_store" if request.param == "sqlite" else "pg_store"
    result: Store = request.getfixturevalue(fixture)
    return result


def order(oid: int) -> OrderRecord:
    return OrderRecord(
        oid, USER, "BTCUSD", "BUY", "LIMIT", "GTC", 100, 10, 0, "PENDING", T0 + oid, T0 + oid
    )


def open_ids(url: str) -> list[int]:
    """Open order ids as another process would see them: through a second Store."""
    other = Store(url)
    try:
        return [o.id for o in other.load().open_orders]
    finally:
        other.close()


def test_durable_returns_after_the_rows_are_visible(store: Store) -> None:
    async def main() -> None:
        committer = Committer(store, interval_ms=20)
        await committer.start()
        try:
            committer.batch.record_order(order(1))
            assert committer.pending == 1
            assert open_ids(store.url) == []
            await committer.durable()
            assert open_ids(store.url) == [1]
            assert committer.pending == 0
            await committer.durable()  # nothing pending: returns at once
        finally:
            await committer.stop()

    asyncio.run(main())


@pytest.mark.parametrize("offload", [None, True, False])
def test_concurrent_callers_share_one_commit(store: Store, offload: bool | None) -> None:
    commits: list[tuple[int, float]] = []

    async def request(committer: Committer, oid: int) -> None:
        committer.batch.record_order(order(oid))
        await committer.durable()

    async def main() -> None:
        committer = Committer(
            store, interval_ms=5, offload=offload, on_commit=lambda n, s: commits.append((n, s))
        )
        await committer.start()
        try:
            await asyncio.gather(*(request(committer, oid) for oid in range(1, 201)))
            assert committer.commits == 1
            assert committer.last_commit_size == 200
            assert [n for n, _ in commits] == [200]
        finally:
            await committer.stop()

    asyncio.run(main())
    assert open_ids(store.url) == list(range(1, 201))


def test_records_added_during_a_write_go_in_the_next_commit(store: Store) -> None:
    async def main() -> None:
        committer = Committer(store, interval_ms=1, offload=True)
        await committer.start()
        try:
            committer.batch.record_order(order(1))
            first = asyncio.create_task(committer.durable())
            while committer._inflight_waiters is None:  # the first batch is being written
                await asyncio.sleep(0)
            assert committer.pending == 1
            in_flight = asyncio.create_task(committer.durable())  # waits for batch 1 only
            committer.batch.record_order(order(2))
            second = asyncio.create_task(committer.durable())
            await asyncio.gather(first, in_flight, second)
            assert committer.commits == 2
        finally:
            await committer.stop()

    asyncio.run(main())
    assert open_ids(store.url) == [1, 2]


def test_stop_flushes_everything_pending(store: Store) -> None:
    async def main() -> None:
        committer = Committer(store, interval_ms=1000)
        await committer.start()
        committer.batch.record_order(order(1))
        waiter = asyncio.create_task(committer.durable())
        await asyncio.sleep(0)
        committer.batch.record_order(order(2))  # never awaited by anyone
        await committer.stop()
        await waiter
        assert not committer.running
        assert committer.pending == 0

    asyncio.run(main())
    assert open_ids(store.url) == [1, 2]


def test_a_failed_write_fails_its_waiters_and_the_committer_goes_on(store: Store) -> None:
    async def request(committer: Committer, oid: int) -> None:
        committer.batch.record_order(order(oid))
        await committer.durable()

    async def main() -> None:
        committer = Committer(store, interval_ms=1)
        await committer.start()
        try:
            await request(committer, 1)
            results = await asyncio.gather(
                request(committer, 2), request(committer, 1), return_exceptions=True
            )
            assert all(isinstance(r, Exception) for r in results), results
            assert "unique" in str(results[0]).lower()
            assert committer.failed is results[0]
            assert (committer.commits, committer.failures) == (1, 1)
            await request(committer, 3)
            assert committer.failed is None
            assert committer.commits == 2
        finally:
            await committer.stop()

    asyncio.run(main())
    assert open_ids(store.url) == [1, 3]


def test_stop_raises_when_the_final_flush_fails(sqlite_store: Store) -> None:
    async def main() -> None:
        committer = Committer(sqlite_store)
        await committer.start()
        committer.batch.record_order(order(1))
        await committer.durable()
        committer.batch.record_order(order(1))
        with pytest.raises(Exception, match=r"(?i)unique"):
            await committer.stop()

    asyncio.run(main())


def test_durable_needs_a_running_committer(sqlite_store: Store) -> None:
    async def main() -> None:
        committer = Committer(sqlite_store)
        await committer.durable()  # nothing pending
        committer.batch.record_order(order(1))
        with pytest.raises(RuntimeError, match="not running"):
            await committer.durable()

    asyncio.run(main())


def test_offload_defaults_by_backend(sqlite_store: Store) -> None:
    assert Committer(sqlite_store).offload is False
    assert Committer(sqlite_store, offload=True).offload is True


@pytest.mark.postgres
def test_offload_defaults_to_a_thread_on_postgres(pg_store: Store) -> None:
    assert Committer(pg_store).offload is True


def test_commit_now_inside_held_writes_at_once_and_answers_the_waiters(store: Store) -> None:
    async def main() -> None:
        committer = Committer(store, interval_ms=60_000)  # the background task would wait
        await committer.start()
        try:
            committer.batch.record_order(order(1))
            await committer.durable()  # the first commit after a quiet spell goes at once
            committer.batch.record_order(order(2))
            waiter = asyncio.ensure_future(committer.durable())
            await asyncio.sleep(0)
            async with committer.held():
                committer.commit_now()
                assert open_ids(store.url) == [1, 2]
                assert committer.pending == 0
            await asyncio.wait_for(waiter, 5)
            with pytest.raises(RuntimeError, match="needs held"):
                committer.commit_now()
        finally:
            await committer.stop()

    asyncio.run(main())


@pytest.mark.parametrize("offload", [True, False])
def test_no_commit_starts_while_held(store: Store, offload: bool) -> None:
    async def main() -> None:
        committer = Committer(store, interval_ms=1, offload=offload)
        await committer.start()
        try:
            async with committer.held():
                committer.batch.record_order(order(1))
                waiter = asyncio.ensure_future(committer.durable())
                await asyncio.sleep(0.05)
                assert not waiter.done()
                assert open_ids(store.url) == []
            await asyncio.wait_for(waiter, 5)
            assert open_ids(store.url) == [1]
        finally:
            await committer.stop()

    asyncio.run(main())


def test_held_waits_for_the_commit_in_flight(store: Store) -> None:
    async def main() -> None:
        committer = Committer(store, interval_ms=1, offload=True)
        await committer.start()
        try:
            for oid in range(1, 2001):
                committer.batch.record_order(order(oid))
            waiter = asyncio.ensure_future(committer.durable())
            while committer._inflight_waiters is None:  # the write has started on its thread
                await asyncio.sleep(0.0005)
            async with committer.held():
                assert waiter.done()
                assert len(open_ids(store.url)) == 2000
        finally:
            await committer.stop()

    asyncio.run(main())

"""Group commit: many requests' records written in one transaction, acknowledged together.

    committer = Committer(store, interval_ms=1.0)
    await committer.start()
    committer.batch.record_order(order)      # the service mutates the current batch directly
    await committer.durable()                # returns once that order is committed
    await committer.stop()                   # flushes what is pending

    async with committer.held():             # no commit starts in the block (an audit's
        committer.commit_now()               # consistent point: memory = database)

A background task waits until `durable()` signals pending work, starts at most one commit per
`interval_ms` (so records of concurrent requests gather; after a quiet spell the first record
is written at once, and when a write takes longer than the interval the next follows it), swaps
`batch` for an empty one and writes the full one. The batch being written is never touched
again: the service only ever sees the new `batch`. SQLite writes run on the event loop thread
(they take microseconds per record and a second thread would fight the loop for the GIL);
PostgreSQL writes run on one worker thread so network round trips do not block the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from time import perf_counter

from exchange_ref.storage.records import WriteBatch
from exchange_ref.storage.store import Store

__all__ = ["CommitHook", "Committer"]

CommitHook = Callable[[int, float], None]
_log = logging.getLogger(__name__)


class Committer:
    """Asyncio group commit over a `Store`; see the module docstring.

    `on_commit(n_records, seconds)` is called after each successful commit. A failed write
    fails the `durable()` calls waiting for it (with the store's exception), sets `failed`,
    and the committer goes on with the next batch.
    """

    def __init__(
        self,
        store: Store,
        interval_ms: float = 1.0,
        offload: bool | None = None,
        on_commit: CommitHook | None = None,
    ) -> None:
        self.store = store
        self.interval = max(0.0, interval_ms) / 1000.0
        self.offload = store.is_postgres if offload is None else offload
        self.on_commit = on_commit
        self.batch = WriteBatch()
        self.commits = 0
        self.failures = 0
        self.last_commit_size = 0
        self.failed: BaseException | None = None
        self._waiters: list[asyncio.Future[None]] = []
        self._inflight_waiters: list[asyncio.Future[None]] | None = None
        self._inflight_size = 0
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._stopping = False
        self._last_commit_start = 0.0
        self._holds = 0
        self._released = asyncio.Event()
        self._released.set()

    @property
    def pending(self) -> int:
        """Records not yet committed: the current batch plus the one being written."""
        return len(self.batch) + self._inflight_size

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Start the commit task (and, on SQLite, the store's WAL checkpointer)."""
        if self.running:
            return
        self.store.start_checkpointer()
        self._stopping = False
        self._wakeup = asyncio.Event()
        if self.offload:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="db-commit")
        self._task = asyncio.create_task(self._run(), name="group-commit")

    async def durable(self) -> None:
        """Return once every record added before this call is committed; raise the store's
        exception if that write failed."""
        if len(self.batch) or self._waiters:
            waiters = self._waiters
        elif self._inflight_waiters is not None:
            waiters = self._inflight_waiters
        else:
            return
        if self._wakeup is None or not self.running:
            raise RuntimeError("the committer is not running")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiters.append(future)
        self._wakeup.set()
        await future

    @contextlib.asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        """Hold commits: the block is entered once the commit in flight (if any) is done, and
        no commit starts until it exits. With `commit_now()` and no await in between, the
        database then holds exactly what the caller has recorded so far."""
        self._holds += 1
        self._released.clear()
        try:
            while self._inflight_waiters is not None:
                future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                self._inflight_waiters.append(future)
                with contextlib.suppress(Exception):
                    await future
            yield
        finally:
            self._holds -= 1
            if not self._holds:
                self._released.set()

    def commit_now(self) -> None:
        """Write the current batch at once on this thread, blocking it (inside `held()` only).

        Its waiters are answered as by a background commit; a failed write fails them and is
        raised."""
        if not self._holds or self._inflight_waiters is not None:
            raise RuntimeError("commit_now() needs held() and no commit in flight")
        batch, waiters = self.batch, self._waiters
        self.batch, self._waiters = WriteBatch(), []
        started = perf_counter()
        try:
            self.store.write(batch)
        except Exception as exc:
            self._failed_write(exc, waiters)
            raise
        self._written(len(batch), started, waiters)

    async def stop(self) -> None:
        """Commit everything pending, then stop. Raises if a write during the flush failed."""
        task = self._task
        if task is None:
            return
        failures = self.failures
        self._stopping = True
        if self._wakeup is not None:
            self._wakeup.set()
        try:
            await task
            while len(self.batch) or self._waiters:  # added while the task was finishing
                await self._commit()
        finally:
            self._task = None
            if self._executor is not None:
                self._executor.shutdown(wait=True)
                self._executor = None
        if self.failures > failures and self.failed is not None:
            raise self.failed

    async def _run(self) -> None:
        assert self._wakeup is not None
        wakeup = self._wakeup
        try:
            while True:
                if not len(self.batch) and not self._waiters:
                    if self._stopping:
                        return
                    await wakeup.wait()
                    wakeup.clear()
                    continue
                if self._holds:
                    await self._released.wait()
                    continue
                if not self._stopping:
                    delay = self._last_commit_start + self.interval - perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                await self._commit()
        finally:
            # Cancelled or crashed: nobody may wait forever.
            waiters, self._waiters = self._waiters, []
            self._fail_waiters(RuntimeError("the committer stopped"), waiters)

    async def _commit(self) -> None:
        batch, waiters = self.batch, self._waiters
        self.batch, self._waiters = WriteBatch(), []
        self._inflight_waiters = waiters
        self._inflight_size = size = len(batch)
        self._last_commit_start = started = perf_counter()
        try:
            if self._executor is not None:
                loop = asyncio.get_running_loop()
                await loop.run_in_executor(self._executor, self.store.write, batch)
            else:
                self.store.write(batch)
        except Exception as exc:
            self._failed_write(exc, waiters)
        except BaseException:
            self._fail_waiters(RuntimeError("the commit was interrupted"), waiters)
            raise
        else:
            self._written(size, started, waiters)
        finally:
            self._inflight_waiters = None
            self._inflight_size = 0

    def _written(self, size: int, started: float, waiters: list[asyncio.Future[None]]) -> None:
        self.commits += 1
        self.last_commit_size = size
        self.failed = None
        for future in waiters:
            if not future.done():
                future.set_result(None)
        if self.on_commit is not None:
            try:
                self.on_commit(size, perf_counter() - started)
            except Exception:
                _log.exception("on_commit callback failed")

    def _failed_write(self, exc: Exception, waiters: list[asyncio.Future[None]]) -> None:
        self.failures += 1
        self.failed = exc
        self._fail_waiters(exc, waiters)

    @staticmethod
    def _fail_waiters(exc: BaseException, waiters: list[asyncio.Future[None]]) -> None:
        for future in waiters:
            if not future.done():
                future.set_exception(exc)

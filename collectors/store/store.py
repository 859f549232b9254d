"""RunStore: runs in a DuckDB file, each written in one short transaction.

DuckDB allows one read-write process per file: a writer opens the file only for its
transaction; readers open it read-only and retry briefly while a writer holds it.
Every run is checked against the store's limits (`limits.check_storable`) before anything is
opened or spooled; a spooled file that cannot be stored is set aside as `<name>.bad`.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from collectors.store import histograms
from collectors.store.codec import RunFormatError, run_from_file
from collectors.store.errors import (
    DuplicateRun,
    InvalidRun,
    RunNotFound,
    StoreError,
    StoreLocked,
)
from collectors.store.headline import overall_summaries
from collectors.store.limits import check_storable
from collectors.store.listing import RunListing, listing, with_overall_headlines
from collectors.store.migrations import current_version, latest_version, migrate
from collectors.store.model import Run, Summary
from collectors.store.rows import (
    SUMMARY_COLUMNS,
    insert_runs,
    read_run,
)
from collectors.store.spool import spool_run, spooled_files
from common.redact import mask_url

__all__ = [
    "DuplicateRun",
    "InvalidRun",
    "RunListing",
    "RunNotFound",
    "RunStore",
    "StoreError",
    "StoreLocked",
]

T = TypeVar("T")

_log = logging.getLogger(__name__)


def _is_lock_error(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower()


def _retry(opener: Callable[[], T], timeout_s: float) -> T:
    deadline = time.monotonic() + timeout_s
    pause = 0.01
    while True:
        try:
            return opener()
        except duckdb.IOException as exc:
            if not _is_lock_error(exc) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.25)


class RunStore:
    """Runs in one DuckDB file. `write(run)` stores it whole or not at all."""

    def __init__(
        self,
        path: str | Path,
        *,
        spool_dir: str | Path | None = None,
        lock_timeout_s: float = 5.0,
        read_retry_s: float = 2.0,
    ) -> None:
        self.path = Path(path)
        self.spool_dir = Path(spool_dir) if spool_dir else self.path.parent / "spool"
        self.lock_timeout_s = lock_timeout_s
        self.read_retry_s = read_retry_s
        self._ready = False

    # -- connections -------------------------------------------------------------------------

    def _open_rw(self) -> Any:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return _retry(lambda: duckdb.connect(str(self.path)), self.lock_timeout_s)

    @contextmanager
    def _writer(self) -> Iterator[Any]:
        try:
            con = self._open_rw()
        except duckdb.IOException as exc:
            if _is_lock_error(exc):
                raise StoreError(
                    f"{self.path} stayed locked by another process for {self.lock_timeout_s:g} s"
                ) from None
            raise
        try:
            self._migrate(con)
            yield con
        finally:
            con.close()

    def _migrate(self, con: Any) -> None:
        version = current_version(con)
        if version > latest_version():
            raise StoreError(
                f"{self.path} has schema version {version}, newer than this code's "
                f"{latest_version()}"
            )
        migrate(con)
        self._ready = True

    def _ensure_schema(self) -> None:
        """An existing store of an older schema migrated before it is read."""
        if self._ready:
            return
        con = self._open_ro()
        try:
            version = current_version(con)
        finally:
            con.close()
        if version > latest_version():
            raise StoreError(
                f"{self.path} has schema version {version}, newer than this code's "
                f"{latest_version()}"
            )
        if version == latest_version():
            self._ready = True
            return
        with self._writer():
            pass

    def exists(self) -> bool:
        """Whether the store file is there (reading never creates it; writing does)."""
        return self.path.is_file()

    def create(self) -> None:
        """Create the store file with its schema (and its folder) if it is not there yet; an
        older schema is migrated. Reading never creates a store: writing, or this, does."""
        with self._writer():
            pass

    def _open_ro(self) -> Any:
        try:
            return _retry(lambda: duckdb.connect(str(self.path), read_only=True), self.read_retry_s)
        except duckdb.IOException as exc:
            if _is_lock_error(exc):
                raise StoreError(
                    f"{self.path} stayed locked by a writer for {self.read_retry_s:g} s"
                ) from None
            raise

    @contextmanager
    def reading(self) -> Iterator[Any]:
        """A read-only connection, retried briefly while a writer holds the file. A store
        that does not exist reads as an empty one and is not created (the commands that need
        it to exist check `exists()`)."""
        if not self.exists():
            con = duckdb.connect(":memory:")
            migrate(con)
        else:
            self._ensure_schema()
            con = self._open_ro()
        try:
            yield con
        finally:
            con.close()

    # -- writing -----------------------------------------------------------------------------

    def write(self, run: Run) -> str:
        """Store the run in one transaction (importing spooled runs first); its id.

        If the lock cannot be had within `lock_timeout_s`, the run is spooled and
        StoreLocked is raised.
        """
        self.write_many([run])
        return run.id

    def write_many(self, runs: Sequence[Run]) -> list[str]:
        """Store several runs in one transaction (all or none); their ids. InvalidRun, before
        anything is opened or spooled, when one breaks the store's limits. A password in a
        run's target URL is masked before it is kept."""
        runs = [_masked(run) for run in runs]
        for run in runs:
            try:
                check_storable(run)
            except RunFormatError as exc:
                raise InvalidRun(str(exc)) from None
        try:
            con = self._open_rw()
        except duckdb.IOException as exc:
            if not _is_lock_error(exc):
                raise
            paths = [spool_run(self.spool_dir, run) for run in runs]
            raise StoreLocked(
                f"{self.path} stayed locked for {self.lock_timeout_s:g} s; "
                f"{len(paths)} run(s) spooled to {self.spool_dir} for the next writer",
                paths[0] if paths else None,
            ) from None
        try:
            self._migrate(con)
            superseded = self._import_spool(con, skip={run.id for run in runs})
            self._transaction(con, runs)
        finally:
            con.close()
        for path in superseded:
            path.unlink(missing_ok=True)
        return [run.id for run in runs]

    def _transaction(self, con: Any, runs: Sequence[Run]) -> None:
        ids = [run.id for run in runs]
        if len(set(ids)) != len(ids):
            raise DuplicateRun("the same run id appears twice in one write")
        con.execute("BEGIN TRANSACTION")
        try:
            if ids:
                found = con.execute(
                    "SELECT run_id FROM runs WHERE run_id IN (SELECT unnest(?::VARCHAR[]))",
                    [ids],
                ).fetchall()
                if found:
                    raise DuplicateRun(f"run {found[0][0]} is already stored")
            insert_runs(con, runs)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def _import_spool(self, con: Any, skip: set[str] | frozenset[str] = frozenset()) -> list[Path]:
        """Store each spooled run in its own transaction and delete its file; the files of
        runs in `skip` (being written now, so superseded) are returned untouched. A file that
        cannot be read or stored is set aside as `<name>.bad` (the reason logged once) and
        never stops the others or the write that follows; a failure of the store itself
        (I/O, memory) leaves the rest of the spool for the next writer."""
        superseded: list[Path] = []
        for path in spooled_files(self.spool_dir):
            try:
                run = run_from_file(path)
                check_storable(run)
            except (OSError, RunFormatError) as exc:
                _set_aside(path, str(exc))
                continue
            if run.id in skip:
                superseded.append(path)
                continue
            try:
                self._transaction(con, [run])
            except DuplicateRun:
                pass
            except _STORE_FAILURES as exc:  # not this file's fault: kept for the next writer
                _log.warning("spooled runs left in %s: %s", self.spool_dir, _first_line(exc))
                break
            except duckdb.Error as exc:
                _set_aside(path, f"the store refused it: {_first_line(exc)}")
                continue
            path.unlink(missing_ok=True)
        return superseded

    def import_spool(self) -> int:
        """Import spooled runs now; how many files were waiting."""
        waiting = len(spooled_files(self.spool_dir))
        with self._writer() as con:
            self._import_spool(con)
        return waiting

    def delete(self, run_id: str) -> None:
        """Remove a run and everything it holds (a pin on it too); RunNotFound if there is none
        (and nothing created when there is no store)."""
        if not self.exists():
            raise RunNotFound(f"no run with id {run_id} (no run store at {self.path})")
        with self._writer() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                row = con.execute("SELECT 1 FROM runs WHERE run_id = ?", [run_id]).fetchone()
                if row is None:
                    raise RunNotFound(f"no run with id {run_id}")
                for table in ("summaries", "series", "histograms", "warnings", "baselines", "runs"):
                    con.execute(f"DELETE FROM {table} WHERE run_id = ?", [run_id])
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    def pin(self, run_id: str) -> tuple[str, str, str | None]:
        """Pin the run as the baseline of its (kind, profile); (kind, profile, the run id it
        replaced or None). RunNotFound if there is no such run."""
        with self._writer() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                row = con.execute(
                    "SELECT kind, profile FROM runs WHERE run_id = ?", [run_id]
                ).fetchone()
                if row is None:
                    raise RunNotFound(f"no run with id {run_id}")
                kind, profile = row
                old = con.execute(
                    "SELECT run_id FROM baselines WHERE kind = ? AND profile = ?", [kind, profile]
                ).fetchone()
                con.execute("DELETE FROM baselines WHERE kind = ? AND profile = ?", [kind, profile])
                con.execute(
                    "INSERT INTO baselines VALUES (?, ?, ?, now()::TIMESTAMP)",
                    [kind, profile, run_id],
                )
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return kind, profile, (None if old is None or old[0] == run_id else old[0])

    def unpin(self, run_id: str) -> tuple[str, str]:
        """Remove the pin on this run; (kind, profile). StoreError if it is not pinned."""
        with self._writer() as con:
            row = con.execute(
                "DELETE FROM baselines WHERE run_id = ? RETURNING kind, profile", [run_id]
            ).fetchone()
        if row is None:
            raise StoreError(f"run {run_id} is not a pinned baseline")
        return row[0], row[1]

    def baselines(self) -> dict[tuple[str, str], str]:
        """Pinned baselines: (kind, profile) -> run id."""
        with self.reading() as con:
            rows = con.execute("SELECT kind, profile, run_id FROM baselines").fetchall()
        return {(kind, profile): run_id for kind, profile, run_id in rows}

    def resolve(self, ref: str, kind: str | None = None) -> str:
        """A run id from `ref`: an id, a unique id prefix of 8+ characters, or `latest` (the most
        recently started run, of `kind` when given). RunNotFound when nothing matches."""
        with self.reading() as con:
            if ref == "latest":
                where, params = _filters(kind, None)
                row = con.execute(
                    f"SELECT run_id FROM runs {where} ORDER BY started_at DESC, stored_at DESC "
                    "LIMIT 1",
                    params,
                ).fetchone()
                if row is None:
                    what = f"{kind} runs" if kind else "runs"
                    raise RunNotFound(f"no {what} in {self.path}")
                return str(row[0])
            rows = con.execute(
                "SELECT run_id FROM runs WHERE run_id = ? OR (length(?) >= 8 AND "
                "starts_with(run_id, ?)) LIMIT 2",
                [ref, ref, ref],
            ).fetchall()
        if len(rows) == 1:
            return str(rows[0][0])
        if not rows:
            raise RunNotFound(f"no run with id {ref}")
        raise RunNotFound(f"{ref} is the start of more than one run id; give more of it")

    # -- reading -----------------------------------------------------------------------------

    def get(self, run_id: str) -> Run:
        """The whole run; RunNotFound if there is none."""
        with self.reading() as con:
            run = read_run(con, run_id)
        if run is None:
            raise RunNotFound(f"no run with id {run_id}")
        return run

    def list_runs(
        self, kind: str | None = None, label: str | None = None, limit: int | None = 50
    ) -> list[RunListing]:
        """Runs, newest first, each with its headline summary."""
        where, params = _filters(kind, label)
        limit_sql = "" if limit is None else f"LIMIT {int(limit)}"
        cols = ", ".join(f"s.{c}" for c in SUMMARY_COLUMNS)
        sql = f"""
            WITH picked AS (
                SELECT * FROM runs {where} ORDER BY started_at DESC, run_id {limit_sql}
            ), heads AS (
                SELECT * FROM summaries WHERE run_id IN (SELECT run_id FROM picked)
                QUALIFY row_number() OVER (
                    PARTITION BY run_id ORDER BY count DESC, position) = 1
            )
            SELECT r.run_id, r.kind, r.profile, r.target, r.label, epoch_us(r.started_at),
                   epoch_us(r.ended_at),
                   r.status, r.tags, r.trusted, r.notes, s.run_id IS NOT NULL, {cols}
            FROM picked r LEFT JOIN heads s USING (run_id)
            ORDER BY r.started_at DESC, r.run_id
        """
        with self.reading() as con, _gc_paused():
            rows = con.execute(sql, params).fetchall()
            # tens of thousands of acyclic objects: the cyclic collector's passes over them
            # were a quarter of a 10,000-run listing (measured: 175 -> 135 ms)
            listings = [listing(row) for row in rows]
            return with_overall_headlines(con, listings)

    def latest_by_label(self, label: str, kind: str) -> Run | None:
        """The most recent run of this kind with this version label, or None."""
        with self.reading() as con:
            row = con.execute(
                "SELECT run_id FROM runs WHERE label = ? AND kind = ? "
                "ORDER BY started_at DESC, stored_at DESC LIMIT 1",
                [label, kind],
            ).fetchone()
            return None if row is None else read_run(con, row[0])

    def overall_summaries(self, run_ids: Sequence[str]) -> dict[str, Summary]:
        """run id -> all the run's summaries together (counts and rates added, percentiles of
        the merged histograms): the headline of a run whose summaries are parts of one whole,
        such as a db run's query types (`headline.PARTS_KINDS`)."""
        with self.reading() as con:
            return overall_summaries(con, list(run_ids))

    def merged_percentiles(
        self, run_ids: Sequence[str], name: str, view: str, percentiles: Sequence[float]
    ) -> dict[float, float]:
        """Percentiles (ms) recomputed from the runs' merged histograms of `name`/`view`."""
        with self.reading() as con:
            rows = con.execute(
                "SELECT encoded FROM histograms WHERE name = ? AND view = ? "
                "AND run_id IN (SELECT unnest(?::VARCHAR[]))",
                [name, view, list(run_ids)],
            ).fetchall()
        if not rows:
            raise StoreError(f"no {view} histogram named {name!r} in the given runs")
        merged = histograms.merge(row[0] for row in rows)
        return histograms.percentiles_ms(merged, percentiles)


def _masked(run: Run) -> Run:
    """The run with any password in its target URL masked."""
    masked = mask_url(run.target)
    return run if masked == run.target else replace(run, target=masked)


# failures of the store itself, not of one run's data: a spooled file is kept for them
_STORE_FAILURES = (duckdb.OperationalError, duckdb.FatalException, duckdb.InterruptException)


def _first_line(reason: object) -> str:
    return (str(reason).strip().splitlines() or [type(reason).__name__])[0]


def _set_aside(path: Path, reason: str) -> None:
    """Rename a spooled file to `<name>.bad` and log why (once: it is not listed again)."""
    aside = path.with_name(path.name + ".bad")
    first_line = _first_line(reason)
    try:
        path.replace(aside)
    except OSError as exc:
        _log.warning(
            "spooled run %s cannot be stored (%s) nor set aside: %s", path, first_line, exc
        )
        return
    _log.warning(
        "spooled run %s set aside as %s: %s (fix it, then `pincex runs import` it)",
        path,
        aside.name,
        first_line,
    )


def _filters(kind: str | None, label: str | None) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if kind is not None:
        clauses.append("kind = ?")
        params.append(kind)
    if label is not None:
        clauses.append("label = ?")
        params.append(label)
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), params


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector (if it was on) for a block that allocates many
    objects without cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()

"""A background thread that scrapes a `MetricsSource` every `interval` seconds.

    scraper = Scraper(DirectScrape(url), interval=1.0, duration=60).start()
    ...  # drive load
    result = scraper.stop()  # or scraper.join() once the duration is over
    result.points, result.partial, result.problems

A failing target never raises into the caller: each failed scrape adds its reason to
`problems` and marks the result `partial`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from collectors.scrape.parse import Snapshot
from collectors.scrape.series import server_series
from collectors.scrape.source import MetricsSource, ScrapeError
from collectors.store.model import Point

__all__ = ["ScrapeResult", "Scraper"]


@dataclass
class ScrapeResult:
    """What a scraper collected: per-interval server points and what went wrong.

    Each point's `second` is the offset from the start of the first scrape to the end of its
    interval. `problems` holds each distinct reason once, in order of first occurrence.
    """

    points: list[Point] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    scrapes: int = 0
    failed_scrapes: int = 0
    origin_wall: float | None = None  # wall-clock time (epoch s) of second 0: the first good scrape

    @property
    def partial(self) -> bool:
        """True when any scrape failed or no interval could be measured."""
        return bool(self.failed_scrapes) or not self.points

    @property
    def reason(self) -> str | None:
        """The first problem, for a one-line status; why there are no points when no scrape
        failed (a run shorter than two scrapes)."""
        if self.problems:
            return self.problems[0]
        if not self.points:
            return (
                f"only {self.scrapes} scrape(s) of the target's /metrics: no interval to "
                "measure (the run was shorter than the scrape interval)"
            )
        return None

    def series(self, name: str) -> list[tuple[float, float]]:
        """The (second, value) pairs of one series."""
        return [(p.second, p.value) for p in self.points if p.series == name]

    def names(self) -> set[str]:
        """Every series name present."""
        return {p.series for p in self.points}


class Scraper:
    """Scrape `source` every `interval` seconds for `duration` seconds (None: until `stop()`).

    The first scrape is at once; points come from each pair of consecutive good scrapes.
    `stop()` ends early after one last scrape; the source is the caller's to close.
    """

    def __init__(
        self, source: MetricsSource, interval: float = 1.0, duration: float | None = None
    ) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        self.source = source
        self.interval = interval
        self.duration = duration
        self.result = ScrapeResult()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self.run, name="metrics-scraper", daemon=True)
        self._lock = threading.Lock()

    def start(self) -> Scraper:
        """Start scraping in a background thread."""
        self._thread.start()
        return self

    def stop(self, timeout: float | None = None) -> ScrapeResult:
        """Ask the thread to stop, wait for it, and return the result."""
        self._stop.set()
        return self.join(timeout)

    def join(self, timeout: float | None = None) -> ScrapeResult:
        """Wait for the thread to end (its duration over, or stopped) and return the result."""
        if self._thread.is_alive():
            self._thread.join(timeout)
        return self.result

    def __enter__(self) -> Scraper:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def run(self) -> ScrapeResult:
        """Scrape in the calling thread until the duration is over or `stop()` is called."""
        start = time.monotonic()
        origin: float | None = None
        previous: Snapshot | None = None
        tick = 0
        while True:
            snapshot = self._scrape_once()
            if snapshot is not None:
                if origin is None:
                    origin = snapshot.at
                    self.result.origin_wall = time.time() - (time.monotonic() - snapshot.at)
                if previous is not None:
                    self._add_points(previous, snapshot, origin)
                previous = snapshot
            if self._stop.is_set():
                break
            tick += 1
            late = time.monotonic() - start
            if late > tick * self.interval:  # a slow scrape: skip the ticks it overran
                tick = int(late // self.interval) + 1
            due = start + tick * self.interval
            if self.duration is not None and due - start > self.duration + 1e-9:
                break
            if self._stop.wait(max(0.0, due - time.monotonic())):
                self._final_scrape(previous, origin)
                break
        return self.result

    def _final_scrape(self, previous: Snapshot | None, origin: float | None) -> None:
        snapshot = self._scrape_once()
        if snapshot is not None and previous is not None and origin is not None:
            self._add_points(previous, snapshot, origin)

    def _scrape_once(self) -> Snapshot | None:
        self.result.scrapes += 1
        try:
            return self.source.scrape()
        except ScrapeError as exc:
            self._problem(str(exc))
        except Exception as exc:
            self._problem(f"the scrape failed: {exc!r}")
        self.result.failed_scrapes += 1
        return None

    def _add_points(self, s0: Snapshot, s1: Snapshot, origin: float) -> None:
        if s1.at <= s0.at:
            return
        second = round(s1.at - origin, 3)
        try:
            values = server_series(s0, s1)
        except Exception as exc:
            self._problem(f"series could not be computed: {exc!r}")
            return
        if not values:
            self._problem(
                "the target's /metrics has none of the exchange's metrics (pincex_*, process_*)"
            )
            return
        self.result.points.extend(
            Point("server", name, second, value) for name, value in sorted(values.items())
        )

    def _problem(self, reason: str) -> None:
        if reason not in self.result.problems:
            self.result.problems.append(reason)

"""What every page shares: the store it reads, the empty-store guide, the locked-store notice,
and how runs are named."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from collectors.settings import resolve_store_path
from collectors.store.store import StoreError
from dashboard import data

__all__ = [
    "EMPTY_STORE_HELP",
    "STATUS_LABELS",
    "StoreView",
    "blank",
    "empty_store_guide",
    "figure_text",
    "guarded",
    "load",
    "page_header",
    "require_runs",
    "run_title",
    "status_label",
    "store_view",
    "verdict_styler",
]

T = TypeVar("T")

EMPTY_STORE_HELP = """\
The run store has no runs yet. Measure something and it appears here:

```sh
make demo                                    # the exchange, a short ramp, market-data and db runs
pincex bench orders --target http://127.0.0.1:8080 --rate 1000 --duration 10 --label v1
pincex bench market-data --target http://127.0.0.1:8080 --connections 100 --duration 30
pincex bench db --url sqlite:///data/bench-db.sqlite --label v1
pincex runs import run.json                  # a run exported elsewhere
```
"""


@dataclass(frozen=True)
class StoreView:
    """The store this app reads: its path and the stamp that keys the cache."""

    path: str
    version: data.Stamp

    @property
    def exists(self) -> bool:
        return self.version != (0, 0)


def store_view() -> StoreView:
    """The store named by `pincex dashboard --store` (PINCEX_STORE_PATH), freshly stamped."""
    path = str(resolve_store_path())
    return StoreView(path, data.stamp(path))


def page_header(title: str, caption: str) -> None:
    """The page's title and one line of what it answers."""
    st.title(title)
    st.caption(caption)


def empty_store_guide(view: StoreView) -> None:
    """The message of a page with nothing to show yet: where it looked and how to fill it."""
    st.info(f"No runs in `{view.path}` yet.")
    st.markdown(EMPTY_STORE_HELP)


def require_runs(view: StoreView) -> data.RunFacets:
    """The store's run facets; when it holds no runs, the guide is shown and the page stops."""
    facets = load(view, lambda: data.run_facets(view.path, view.version)) if view.exists else None
    if facets is None or facets.count == 0:
        empty_store_guide(view)
        st.stop()
    return facets


@contextmanager
def guarded(view: StoreView) -> Iterator[None]:
    """Turn a locked or unreadable store into a short notice with a retry button."""
    try:
        yield
    except StoreError as exc:
        st.warning(f"The run store is busy or unreadable: {exc}")
        if st.button("Retry", key="store-retry"):
            st.cache_data.clear()
            st.rerun()
        st.stop()


def load(view: StoreView, fn: Callable[[], T]) -> T:
    """`fn()` with a locked store shown as a notice (and the page stopped)."""
    with guarded(view):
        return fn()


def run_title(row: pd.Series | dict[str, object]) -> str:
    """'label · kind · YYYY-mm-dd HH:MM:SS' (the id is shown in a run's detail)."""
    started = pd.Timestamp(row["started_at"]).strftime("%Y-%m-%d %H:%M:%S")
    return f"{row['label']} · {row['kind']} · {started}"


def blank(reason: str) -> None:
    """A figure that cannot be shown: a quiet line with the reason, never an exception."""
    st.caption(f"— {reason}")


STATUS_LABELS = {"met": "✓ met", "missed": "✗ missed", "not_measured": "– not measured"}
_STATUS_CSS = {
    "met": "background-color: #d8f3dc; color: #1b5e20",
    "missed": "background-color: #fde2e1; color: #b71c1c",
    "not_measured": "color: #757575",
}


def status_label(status: str) -> str:
    """An SLO status as a verdict table shows it: '✓ met', '✗ missed', '– not measured'."""
    return STATUS_LABELS.get(status, status)


def figure_text(value: object) -> str:
    """A measured figure for a table: 4 significant digits, thousands grouped, '—' when none."""
    if not isinstance(value, int | float) or value != value:
        return "—"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def verdict_styler(frame: pd.DataFrame, status: str = "status") -> Styler:
    """A verdict table with its `status` column (status_label values) coloured green / red /
    grey and its numbers shown by `figure_text`."""
    css = {label: _STATUS_CSS[s] for s, label in STATUS_LABELS.items()}
    numbers = list(frame.select_dtypes("number").columns)
    styler = frame.style.format(figure_text, subset=numbers)
    return styler.map(lambda v: css.get(v, ""), subset=[status]) if status in frame else styler

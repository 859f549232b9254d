"""A real headless Chromium opens every page of a running `pincex dashboard` (over the filled
store): each page renders its title and the sidebar's navigation, finishes its script, and shows
no exception. A screenshot of each page is written to a folder printed at the end (or to
PINCEX_SCREENSHOT_DIR), for a person to look at.

Streamlit draws the page in the browser from messages on a WebSocket, so a fixed wait is either
too short or too long: `--dump-dom`/`--screenshot` with `--virtual-time-budget` fast-forward
virtual time while the WebSocket is still delivering and catch the loading skeleton. The test
therefore drives the same headless Chromium over its DevTools protocol and waits, in real time,
until the app reports its script finished (`data-test-script-state="notRunning"`).
"""

from __future__ import annotations

import base64
import itertools
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from websockets.sync.client import ClientConnection, connect

from collectors.store.store import RunStore
from tests.dashboard.conftest import FilledStore
from tests.dashboard.test_dashboard_cli import read_url
from tests.dashboard.test_loadtests_page import BASELINE, STRESS

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (make sysdeps installs it)"
)

TITLES = ("Overview", "Runs", "Compare", "Regressions", "Capacity", "Benchmarks", "Load tests",
          "Live", "Reports")  # fmt: skip
# (screenshot name, URL path, the page's title)
# The first page opened is a deep link on a fresh server: the sidebar must still be the app's
# navigation, not a listing of the page files.
PAGES = [
    ("capacity", "capacity", "Capacity"),
    ("overview", "", "Overview"),
    ("runs", "runs", "Runs"),
    ("run", "runs?run={run}", "Runs"),
    ("compare", "compare", "Compare"),
    ("regressions", "regressions", "Regressions"),
    ("benchmarks", "benchmarks", "Benchmarks"),
    ("loadtests", "loadtests", "Load tests"),
    ("live", "live", "Live"),
    ("reports", "reports", "Reports"),
]
RENDER_TIMEOUT_S = 90.0

# What the page shows, read in the browser: the app's script state, the main title, the
# sidebar's links, whether an exception element is on the page, how many elements still show
# a loading skeleton (charts and metrics drawn after the script ends), and all its text.
_STATE_JS = """(() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return JSON.stringify({
    state: app ? app.getAttribute('data-test-script-state') : null,
    titles: [...document.querySelectorAll('[data-testid="stMain"] h1')]
      .map(h => h.innerText.trim()),
    nav: [...document.querySelectorAll('[data-testid="stSidebarNavLink"]')]
      .map(a => a.innerText.trim().split('\\n').pop().trim()),
    exception: document.querySelector('[data-testid="stException"]') !== null,
    loading: document.querySelectorAll('[data-testid*="keleton"]').length,
    text: document.body.innerText,
  });
})()"""


class Browser:
    """Headless Chromium (the flags the dashboard's docs give) over its DevTools protocol."""

    def __init__(self, profile: Path) -> None:
        assert CHROMIUM is not None
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--no-first-run",
             f"--user-data-dir={profile}", "--window-size=1400,2000",
             "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.is_file() and port_file.read_text().strip()):
            assert time.monotonic() < deadline and self.proc.poll() is None, (
                "chromium did not start"
            )
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
        page = next(t for t in targets if t["type"] == "page")
        self._stack = ExitStack()
        self.ws: ClientConnection = self._stack.enter_context(
            connect(page["webSocketDebuggerUrl"], max_size=None)
        )
        self.ids = itertools.count(1)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self.ids)
        self.ws.send(orjson.dumps({"id": ident, "method": method, "params": params}).decode())
        while True:
            message = orjson.loads(self.ws.recv(timeout=60))
            if message.get("id") == ident:
                assert "error" not in message, message
                result: dict[str, Any] = message["result"]
                return result

    def open(self, url: str, title: str) -> dict[str, Any]:
        """Navigate and wait until the page's script finished, nothing is still loading, and
        its title is drawn."""
        self.call("Page.navigate", url=url)
        time.sleep(0.5)  # the old page's state must not count
        deadline = time.monotonic() + RENDER_TIMEOUT_S
        seen: dict[str, Any] = {}
        while time.monotonic() < deadline:
            value = self.call("Runtime.evaluate", expression=_STATE_JS)["result"].get("value")
            seen = orjson.loads(value) if value else {}
            done = seen.get("state") == "notRunning" and not seen.get("loading")
            if done and title in seen.get("titles", []):
                time.sleep(0.5)  # charts finish drawing after the last message
                return seen
            time.sleep(0.25)
        raise AssertionError(f"{url} did not finish rendering {title!r}: {seen}")

    def screenshot(self, path: Path) -> None:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        self._stack.close()
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def dashboard_url(filled_store: FilledStore) -> Iterator[str]:
    with _serving(filled_store.path) as url:
        yield url


@pytest.fixture(scope="module")
def loadtest_dashboard_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A dashboard over a store of factory-made load-test runs (a baseline and a stress run)."""
    store = RunStore(tmp_path_factory.mktemp("browser-loadtests") / "runs.duckdb")
    store.write_many([BASELINE, STRESS])
    with _serving(store.path) as url:
        yield url


@contextmanager
def _serving(store: Path) -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "pincex", "dashboard", "--port", "0", "--store", str(store)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )  # fmt: skip
    try:
        yield read_url(proc)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    chromium = Browser(tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = Path(os.environ.get("PINCEX_SCREENSHOT_DIR") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    yield folder
    print(f"\ndashboard screenshots: {folder}")


@pytest.mark.parametrize(("name", "path", "title"), PAGES, ids=[p[0] for p in PAGES])
def test_every_page_renders_in_a_real_browser(
    dashboard_url: str,
    browser: Browser,
    screenshots: Path,
    filled_store: FilledStore,
    name: str,
    path: str,
    title: str,
) -> None:
    url = dashboard_url + path.format(run=filled_store.v2)
    seen = browser.open(url, title)
    assert seen["nav"] == list(TITLES), "the sidebar lists every page"
    assert not seen["exception"], f"{url} shows an exception: {seen['text'][:2000]}"
    if name == "run":
        assert filled_store.v2 in seen["text"], "the run's detail names its id"
    shot = screenshots / f"{name}.png"
    browser.screenshot(shot)
    assert shot.stat().st_size > 0


@pytest.mark.parametrize("run", [BASELINE, STRESS], ids=["baseline", "stress"])
def test_the_load_tests_page_with_runs_renders_in_a_real_browser(
    loadtest_dashboard_url: str, browser: Browser, screenshots: Path, run: Any
) -> None:
    url = f"{loadtest_dashboard_url}loadtests?run={run.id}"
    # a tall window: the screenshot shows the whole page, down to the analysis
    browser.call("Emulation.setDeviceMetricsOverride", width=1400, height=5200,
                 deviceScaleFactor=1, mobile=False)  # fmt: skip
    try:
        seen = browser.open(url, "Load tests")
        shot = screenshots / f"loadtests-{run.profile}.png"
        browser.screenshot(shot)
    finally:
        browser.call("Emulation.clearDeviceMetricsOverride")
    assert not seen["exception"], f"{url} shows an exception: {seen['text'][:2000]}"
    assert run.id in seen["text"], "the banner's caption names the run"
    assert "Scenario mix" in seen["text"] and "Pre-test checklist" in seen["text"]
    if run is STRESS:
        assert "Maximum capacity" in seen["text"]
    assert shot.stat().st_size > 0

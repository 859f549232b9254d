"""A run's report as PDF: the HTML report with static charts, printed by headless Chromium.

    data = render_pdf(report)      # bytes of a PDF; PdfError (one line) when it cannot be made

The charts are drawn to PNG by Plotly's image export (Kaleido, one browser session for all of
them); the page is printed with Chromium's own `--print-to-pdf` (the system Chromium that
Kaleido also uses: `make sysdeps` installs it), so no PDF library is needed.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

from dashboard.reports.charts import report_charts
from dashboard.reports.content import RunReport
from dashboard.reports.html import render_html

__all__ = ["BROWSERS", "PdfError", "chart_images", "find_browser", "render_pdf", "render_pdf_html"]

BROWSERS: tuple[str, ...] = ("chromium", "chromium-browser", "google-chrome", "chrome")
_WIDTH, _SCALE = 1000, 2
_PRINT_TIMEOUT_S = 120.0


class PdfError(Exception):
    """The PDF could not be made; the message is one line and says what to install or fix."""


def find_browser() -> str:
    """The Chromium to print with: $BROWSER_PATH, else the first of BROWSERS on the PATH."""
    named = os.environ.get("BROWSER_PATH")
    if named and Path(named).is_file():
        return named
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    raise PdfError(
        "a PDF needs Chromium, and none was found (install it: `make sysdeps` or "
        "`apt-get install chromium`; or set BROWSER_PATH)"
    )


async def _draw(figures: dict[str, go.Figure]) -> dict[str, bytes]:
    import kaleido

    out: dict[str, bytes] = {}
    async with kaleido.Kaleido(n=1, timeout=90, mathjax=False) as k:
        for key, fig in figures.items():
            height = int(fig.layout.height or 360)
            opts = {"format": "png", "width": _WIDTH, "height": height, "scale": _SCALE}
            out[key] = await k.calc_fig(fig, opts=opts)
    return out


def chart_images(figures: dict[str, go.Figure]) -> dict[str, bytes]:
    """PNG of each figure (same keys), drawn in one Kaleido browser session on its own thread
    (so it works under a running event loop too)."""
    if not figures:
        return {}
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["images"] = asyncio.run(_draw(figures))
        except BaseException as exc:
            result["error"] = exc

    thread = threading.Thread(target=run, name="report-charts", daemon=True)
    thread.start()
    thread.join()
    if "error" in result:
        exc = result["error"]
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise PdfError(f"the charts could not be drawn to images: {first}")
    images: dict[str, bytes] = result["images"]
    return images


def render_pdf_html(html: str, browser: str | None = None) -> bytes:
    """Print an HTML document to PDF with headless Chromium; the PDF's bytes."""
    chrome = browser or find_browser()
    with tempfile.TemporaryDirectory(prefix="pincex-report-") as tmp:
        page, out = Path(tmp) / "report.html", Path(tmp) / "report.pdf"
        page.write_text(html, encoding="utf-8")
        command = [
            chrome,
            "--headless",
            "--no-sandbox",  # our own local file; a sandbox fails as root and in containers
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--no-pdf-header-footer",
            f"--user-data-dir={Path(tmp) / 'profile'}",
            f"--print-to-pdf={out}",
            page.as_uri(),
        ]
        try:
            done = subprocess.run(
                command, capture_output=True, timeout=_PRINT_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired:
            raise PdfError(
                f"Chromium did not print the PDF within {_PRINT_TIMEOUT_S:.0f} s"
            ) from None
        except OSError as exc:
            raise PdfError(f"Chromium could not start: {exc.strerror or exc}") from None
        if not out.is_file() or out.stat().st_size == 0:
            tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise PdfError(f"Chromium printed no PDF (exit {done.returncode}): {tail[0]}")
        return out.read_bytes()


def render_pdf(report: RunReport) -> bytes:
    """The report as PDF bytes, its charts as static images."""
    browser = find_browser()
    figures = {c.key: c.figure for c in report_charts(report) if c.figure is not None}
    images = chart_images(figures)
    return render_pdf_html(render_html(report, images=images), browser)

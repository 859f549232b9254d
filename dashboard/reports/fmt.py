"""How reports write numbers, verdicts and run names: shared by the HTML, Markdown and PDF."""

from __future__ import annotations

import math
from datetime import datetime

from planning.slo import Slo, Verdict

__all__ = [
    "STATUS_EMOJI",
    "STATUS_WORDS",
    "margin_text",
    "num",
    "quantity",
    "start_text",
    "target_text",
]

STATUS_WORDS = {
    "met": "met",
    "missed": "missed",
    "not_measured": "not measured",
    "informational": "informational",
}
STATUS_EMOJI = {"met": "✅", "missed": "❌", "not_measured": "⚪", "informational": "ℹ️"}


def num(x: float | None, digits: int = 4) -> str:
    """`x` to `digits` significant digits, thousands grouped; "-" when there is none."""
    if x is None or not math.isfinite(x):
        return "-"
    if x == 0:
        return "0"
    if abs(x) >= 10 ** (digits - 1):
        return f"{x:,.0f}"
    places = max(0, digits - 1 - math.floor(math.log10(abs(x))))
    text = f"{x:,.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def quantity(x: float | None, unit: str | None, signed: bool = False) -> str:
    """`x` with its unit; a signed difference of percentages is in percentage points."""
    if x is None or not math.isfinite(x):
        return "-"
    text = ("+" if signed and x > 0 else "") + num(x)
    if unit == "%":
        return f"{text} pp" if signed else f"{text}%"
    return f"{text} {unit}" if unit else text


def target_text(slo: Slo) -> str:
    """`< 25 ms`, or the spec's words for a goal without a number."""
    if slo.comparator is None or slo.target is None:
        return slo.spec
    return f"{slo.comparator} {quantity(slo.target, slo.unit)}"


def margin_text(v: Verdict) -> str:
    """Headroom (+) or shortfall (-) with its percentage of the target."""
    if v.margin is None:
        return "-"
    text = quantity(v.margin, v.slo.unit, signed=True)
    if v.margin_percent is not None:
        text += f" ({v.margin_percent:+.1f}%)"
    return text


def start_text(started: datetime | None) -> str:
    """A start time as people read it in run names."""
    return "-" if started is None else started.strftime("%Y-%m-%d %H:%M:%S")

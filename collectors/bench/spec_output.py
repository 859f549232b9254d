"""The lines `scripts/benchmark-orders.ps1` of the specification prints, from our figures."""

from __future__ import annotations

from typing import Any

__all__ = ["ps_round", "spec_footer", "spec_header"]


def ps_round(value: float, digits: int = 2) -> str:
    """`[math]::Round(value, digits)` as PowerShell prints it: 99.5, 100, 12.34."""
    text = f"{round(value, digits):.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def spec_header(rate: float, duration: float, symbol: str) -> list[str]:
    return [
        "Starting order processing benchmark...",
        f"Rate: {ps_round(rate, 0)} orders/second",
        f"Duration: {ps_round(duration, 0)} seconds",
        f"Symbol: {symbol}",
    ]


def spec_footer(result: dict[str, Any]) -> list[str]:
    """The script's results block. Its effective rate divides by the nominal duration, as the
    script does; the JSON's `batch.effective_rate` uses the measured time instead."""
    batch = result.get("batch") or {}
    total = batch.get("total_orders", result["requests"])
    ok = batch.get("successful", result["requests"] - result["errors"])
    rate_pct = ok / total * 100 if total else 0.0
    service = result["service_time_ms"]
    average = batch.get("average_batch_latency_ms", service["mean"]) or 0.0
    maximum = batch.get("maximum_batch_latency_ms", service["max"]) or 0.0
    duration = result["config"]["duration"]
    return [
        "",
        "Benchmark Results:",
        f"Total Orders: {total}",
        f"Successful: {ok}",
        f"Success Rate: {ps_round(rate_pct)}%",
        f"Average Batch Latency: {ps_round(average)}ms",
        f"Maximum Batch Latency: {ps_round(maximum)}ms",
        f"Effective Rate: {ps_round(ok / duration)} orders/second",
    ]

"""The known flaws of calculate-capacity.ps1, worded with the figures of one plan."""

from __future__ import annotations

import math

from planning.capacity.config import CapacityConfig
from planning.capacity.printing import powershell_number
from planning.capacity.script import Figures, compute_figures, script_growth

__all__ = ["flaw_notes"]


def flaw_notes(config: CapacityConfig, f: Figures, months: int) -> tuple[str, ...]:
    """One sentence per flaw, with the figures that show it."""
    s, ps = config.script, powershell_number
    fleet = config.fleets["current"]
    cpu = f"{ps(s.cpu_usage_percent)} -> {ps(f.projected_cpu_usage_percent)}"
    if f.projected_cpu_usage_percent > 100:
        cpu += ", a percentage past 100"
    needed = math.ceil(s.database_connections / s.connections_per_core)
    spare = fleet.cpu_cores - needed
    notes = [
        f"The script projects cpu_usage_percent ({cpu}) and never uses it: no figure depends "
        "on CPU.",
        f"The script projects websocket_connections ({ps(s.websocket_connections)} -> "
        f"{ps(f.projected_websocket_connections)}) and never uses them: the WebSocket tier is "
        "not sized.",
        f"The script projects orders_per_second ({ps(s.orders_per_second)} -> "
        f"{ps(f.projected_orders_per_second)}) and never uses it: pods follow the peak only.",
        f"MonthsAhead ({months}) is only printed: it changes no figure. The multiplier is the "
        "growth over the whole horizon; the runway here compounds it monthly, g^(m/M).",
        f"capacity-planning.yaml: {ps(config.daily_orders)} orders a day is "
        f"{config.daily_orders / 86400:.1f} orders/s on average, not the "
        f"{ps(config.average_orders_per_second)}/s it states "
        f"({ps(config.average_orders_per_second * 86400)} a day).",
        f"Memory: the headroom (x{ps(s.memory_headroom)}) multiplies the projected usage "
        f"({ps(s.memory_usage_gb)} GB -> {ps(f.projected_memory_usage_gb)} GB -> "
        f"{ps(f.recommended_memory_gb)} GB), which is then billed in the database cost, while "
        f"the database already has {ps(fleet.memory_gb)} GB RAM: the {ps(s.memory_usage_gb)} GB "
        "usage is not the database's memory.",
        f"Database: cores follow connections only ({ps(s.connections_per_core)} per core); "
        f"today's {ps(s.database_connections)} connections need {needed} of the "
        f"{fleet.cpu_cores} cores"
        + (", so the database has no headroom now." if spare <= 0 else f", {spare} spare."),
        "One multiplier grows every metric: connections grow with volume although the YAML "
        "grows users slower than volume, and the YAML's peak_multiplier is never used "
        "(--scenario applies them separately).",
        f"{ps(s.orders_per_pod)} orders/s per pod x {ps(s.current_pods)} pods = "
        f"{ps(s.orders_per_pod * s.current_pods)} orders/s, below the specification's own "
        "targets (> 10,000 orders/s sustained, > 50,000 at peak).",
        f"Network counts {ps(s.bytes_per_order)} bytes per order at the peak only: market data "
        "and WebSocket fan-out are left out.",
        "Headroom multiplies counts already rounded up (ceil(ceil(x) * headroom)), which can "
        "add a unit.",
    ]
    for scenario in config.scenarios.values():
        at = compute_figures(s, script_growth(scenario.volume_growth))
        target = config.fleets[scenario.name]
        notes.append(
            f"The YAML's {scenario.name} targets do not follow from the script: at its "
            f"{ps(scenario.volume_growth)}x volume the script recommends "
            f"{ps(at.recommended_pods)} pods and {ps(at.recommended_cores)} database cores; "
            f"the YAML says {target.pods} pods and {target.cpu_cores} CPU."
        )
    notes.append(
        'PowerShell reads "$${tradingEngineCost}" as the automatic variable $$ (the last token '
        "of the previous command line; empty under pwsh -File) followed by the text "
        "{tradingEngineCost}, so the script as written prints '  Trading Engine: "
        "{tradingEngineCost}' and shows no cost at all. The lines here print the intended "
        "'$<figure>'."
    )
    return tuple(notes)

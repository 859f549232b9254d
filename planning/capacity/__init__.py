"""Capacity plan: `calculate-capacity.ps1` reproduced, growth scenarios, month of exhaustion.

    config = load_config()                  # config/capacity.yaml (or PINCEX_CONFIG_DIR's)
    plan = plan_capacity(config, script_growth(3.0), months=12)
    print("\\n".join(script_lines(plan)))   # the script's Write-Host lines, as PowerShell prints

The figures are the script's, computed in its order with its rounding (`[math]::Ceiling`), so
they carry its flaws; `plan.notes` names them.

The pieces: `values` (the specification's `3.0x`, `8 CPU, 32GB RAM`, `1 Gbps`), `config`
(capacity.yaml read strictly), `script` (the script's arithmetic), `runway` (month by month),
`flaws` (what the script gets wrong), `plan` (all of it for one growth), `printing` (as
PowerShell prints). Their public names are all importable from `planning.capacity`.
"""

from planning.capacity.config import (
    CapacityConfig,
    Fleet,
    Scenario,
    ScriptConstants,
    default_config_path,
    load_config,
    parse_config,
)
from planning.capacity.plan import CapacityPlan, TargetGap, plan_capacity
from planning.capacity.printing import powershell_number, report_lines, script_lines
from planning.capacity.runway import Exhaustion, MonthRow
from planning.capacity.script import (
    Figures,
    Growth,
    compute_figures,
    scenario_growth,
    script_growth,
)
from planning.capacity.values import (
    ConfigError,
    parse_bandwidth_mbps,
    parse_database_spec,
    parse_multiplier,
)

__all__ = [
    "CapacityConfig",
    "CapacityPlan",
    "ConfigError",
    "Exhaustion",
    "Figures",
    "Fleet",
    "Growth",
    "MonthRow",
    "Scenario",
    "ScriptConstants",
    "TargetGap",
    "compute_figures",
    "default_config_path",
    "load_config",
    "parse_bandwidth_mbps",
    "parse_config",
    "parse_database_spec",
    "parse_multiplier",
    "plan_capacity",
    "powershell_number",
    "report_lines",
    "scenario_growth",
    "script_growth",
    "script_lines",
]

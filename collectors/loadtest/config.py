"""`config/loadtest.yaml`: the scenarios, the profiles and the definitions, strictly read.

    config = load_loadtest_config()            # the default file; LoadTestConfigError on any flaw
    profile = config.profile("baseline")
    config.rates(total=5000)                   # per endpoint: weight split of a total
    config.rates(total=None)                   # per endpoint: each scenario at its own rps

Every flaw is one line naming the file, the entry and its line: an unknown key, a weight that
is not a number, an empty scenario list, a duration without a unit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from common.loadtest_terms import Definitions
from common.paths import config_file
from common.yaml_config import ConfigError, Document, Key, describe, load_yaml

__all__ = [
    "KNOWN_ENDPOINTS",
    "Definitions",
    "Endpoint",
    "LoadTestConfig",
    "LoadTestConfigError",
    "Pattern",
    "Profile",
    "Scenario",
    "default_config_path",
    "load_loadtest_config",
    "parse_duration",
    "parse_loadtest_config",
]

Pattern = Literal["ramp", "spike", "steps"]
_PATTERNS: tuple[str, ...] = ("ramp", "spike", "steps")
_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")

# The exchange's routes whose requests the load test knows how to build, and their method.
KNOWN_ENDPOINTS: dict[str, str] = {
    "/api/v1/orders": "POST",
    "/api/v1/market/ticker": "GET",
    "/api/v1/market/orderbook": "GET",
    "/api/v1/account/balance": "GET",
    "/api/v1/account/orders": "GET",
}


class LoadTestConfigError(ConfigError):
    """config/loadtest.yaml cannot be used; the message names the file, entry and line."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    path: str
    method: str
    weight: float = 1.0

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    weight: float
    rps: float
    endpoints: tuple[Endpoint, ...]


@dataclass(frozen=True, slots=True)
class Profile:
    """One Standard Load Test: how its load is shaped (targets are in slo.yaml)."""

    name: str
    pattern: Pattern
    rate: float  # requests per second: the hold rate, the spike base, or the last step
    duration: float  # seconds, ramps included
    ramp_up: float = 0.0
    ramp_down: float = 0.0
    steps: int = 0
    capacity_profile: str = "baseline"
    stop_after_missed: int = 0  # 0: never stop early
    spike_rate: float = 0.0
    spike_duration: float = 0.0
    spike_every: float = 0.0
    spike_first_at: float = 0.0

    def scaled(self, factor: float) -> Profile:
        """Rates and durations multiplied by `factor` (steps and counts unchanged)."""
        return self.rescaled(rates=factor, durations=factor)

    def rescaled(self, *, rates: float = 1.0, durations: float = 1.0) -> Profile:
        """Every rate times `rates` and every duration times `durations`."""
        return replace(
            self,
            rate=self.rate * rates,
            spike_rate=self.spike_rate * rates,
            duration=self.duration * durations,
            ramp_up=self.ramp_up * durations,
            ramp_down=self.ramp_down * durations,
            spike_duration=self.spike_duration * durations,
            spike_every=self.spike_every * durations,
            spike_first_at=self.spike_first_at * durations,
        )


@dataclass(frozen=True)
class LoadTestConfig:
    source: str
    target_url: str
    test_duration: float
    ramp_up_time: float
    ramp_down_time: float
    symbol: str
    scenarios: tuple[Scenario, ...]
    profiles: Mapping[str, Profile] = field(default_factory=dict)
    definitions: Definitions = field(default_factory=Definitions)

    def profile(self, name: str) -> Profile:
        """The profile `name`; a LoadTestConfigError naming the known ones otherwise."""
        try:
            return self.profiles[name]
        except KeyError:
            known = ", ".join(self.profiles) or "none"
            raise LoadTestConfigError(
                f"{self.source}: no profile {name!r} (profiles: {known})"
            ) from None

    def rates(self, total: float | None) -> list[tuple[Scenario, Endpoint, float]]:
        """Each endpoint's rate: `total` split by scenario weight, or (None) each scenario at
        its own `rps`; within a scenario by endpoint weight (equal unless weighted)."""
        weights = sum(s.weight for s in self.scenarios)
        out = []
        for s in self.scenarios:
            scenario_rate = s.rps if total is None else total * s.weight / weights
            inner = sum(e.weight for e in s.endpoints)
            for e in s.endpoints:
                out.append((s, e, scenario_rate * e.weight / inner))
        return out

    def planned_shares(self, total: float | None) -> dict[str, float]:
        """Each scenario's share (0..1) of the requests planned."""
        rates = self.rates(total)
        whole = sum(r for _, _, r in rates) or 1.0
        shares: dict[str, float] = {}
        for s, _, r in rates:
            shares[s.name] = shares.get(s.name, 0.0) + r / whole
        return shares


_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$")


def parse_duration(value: object) -> float:
    """Seconds from `90s`, `15m`, `1h`, `250ms` or a number of seconds; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as 90s or 15m, got {describe(value)}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION.match(value)):
        seconds = float(m.group(1)) * _UNITS[m.group(2)]
    else:
        raise ValueError(f"expected a duration such as 90s or 15m, got {value!r}")
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative, got {value!r}")
    return seconds


def default_config_path() -> Path:
    """`loadtest.yaml` in the config directory (`PINCEX_CONFIG_DIR`, else config/)."""
    return config_file("loadtest.yaml")


def load_loadtest_config(path: str | Path | None = None) -> LoadTestConfig:
    """Read and validate the load-test config (the default one when `path` is None)."""
    if path is None:
        document = load_yaml(
            default_config_path(), default="PINCEX_CONFIG_DIR", error_type=LoadTestConfigError
        )
    else:
        document = load_yaml(Path(path), error_type=LoadTestConfigError)
    return _Parser(document).config()


def parse_loadtest_config(data: object, source: str = "loadtest config") -> LoadTestConfig:
    """Validate already-parsed data (messages then carry no line)."""
    return _Parser(Document.of(data, source, LoadTestConfigError)).config()


_TOP_REQUIRED = ("version", "target_url", "test_duration", "ramp_up_time", "scenarios")
_TOP_OPTIONAL = ("ramp_down_time", "symbol", "profiles", "definitions")
_PROFILE_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "ramp": (("pattern", "rate", "duration"), ("ramp_up_time", "ramp_down_time")),
    "spike": (
        ("pattern", "rate", "duration", "spike_rate", "spike_duration", "spike_every"),
        ("spike_first_at",),
    ),
    "steps": (("pattern", "rate", "duration", "steps"), ("capacity_profile", "stop_after_missed")),
}


class _Parser:
    def __init__(self, document: Document) -> None:
        self.doc = document

    def config(self) -> LoadTestConfig:
        doc = self.doc
        top = doc.mapping(doc.data, (), required=_TOP_REQUIRED, optional=_TOP_OPTIONAL)
        if top["version"] != 1:
            doc.fail(("version",), f"unsupported version {top['version']!r} (this reads 1)")
        target = top["target_url"]
        if not isinstance(target, str) or not target.startswith(("http://", "https://")):
            doc.fail(("target_url",), f"expected an http:// URL, got {target!r}")
        duration = self.duration(top["test_duration"], ("test_duration",), positive=True)
        ramp_up = self.duration(top["ramp_up_time"], ("ramp_up_time",))
        ramp_down = self.duration(top.get("ramp_down_time", 0), ("ramp_down_time",))
        symbol = top.get("symbol", "BTCUSD")
        if not isinstance(symbol, str) or not symbol:
            doc.fail(("symbol",), f"expected a symbol such as BTCUSD, got {symbol!r}")
        scenarios = self.scenarios(top["scenarios"])
        profiles = self.profiles(top.get("profiles", {}), ramp_up, ramp_down)
        definitions = self.definitions(top.get("definitions", {}))
        for name, p in profiles.items():
            if p.pattern == "steps" and p.capacity_profile not in profiles:
                doc.fail(
                    ("profiles", name, "capacity_profile"),
                    f"no profile {p.capacity_profile!r} to take the targets from",
                )
        return LoadTestConfig(
            doc.source,
            target,
            duration,
            ramp_up,
            ramp_down,
            symbol,
            scenarios,
            profiles,
            definitions,
        )

    def number(
        self, value: object, path: tuple[Key, ...], positive: bool = False, integer: bool = False
    ) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.doc.fail(path, f"expected a number, got {describe(value)} {value!r}")
        if integer and not isinstance(value, int):
            self.doc.fail(path, f"expected a whole number, got {value!r}")
        if value < 0 or (positive and value == 0):
            self.doc.fail(path, f"must be {'above' if positive else 'at least'} 0, got {value!r}")
        return float(value)

    def duration(self, value: object, path: tuple[Key, ...], positive: bool = False) -> float:
        try:
            seconds = parse_duration(value)
        except ValueError as exc:
            self.doc.fail(path, str(exc))
        if positive and seconds <= 0:
            self.doc.fail(path, f"must be above 0, got {value!r}")
        return seconds

    def scenarios(self, value: object) -> tuple[Scenario, ...]:
        doc = self.doc
        if not isinstance(value, list):
            doc.fail(("scenarios",), f"expected a list of scenarios, got {describe(value)}")
        if not value:
            doc.fail(("scenarios",), "the scenario list is empty: give at least one scenario")
        out: list[Scenario] = []
        seen: set[str] = set()
        for i, item in enumerate(value):
            path: tuple[Key, ...] = ("scenarios", i)
            entry = doc.mapping(
                item, path, required=("name", "weight", "endpoints"), optional=("rps",)
            )
            name = entry["name"]
            if not isinstance(name, str) or not name:
                doc.fail((*path, "name"), f"expected a name, got {name!r}")
            if name in seen:
                doc.fail((*path, "name"), f"scenario {name!r} is given twice")
            seen.add(name)
            weight = self.number(entry["weight"], (*path, "weight"), positive=True)
            rps = self.number(entry.get("rps", 0), (*path, "rps"))
            out.append(Scenario(name, weight, rps, self.endpoints(entry["endpoints"], path)))
        if all(s.rps == 0 for s in out):
            pass  # the rates then come from a profile or --rate only
        return tuple(out)

    def endpoints(self, value: object, scenario: tuple[Key, ...]) -> tuple[Endpoint, ...]:
        doc = self.doc
        path = (*scenario, "endpoints")
        if not isinstance(value, list) or not value:
            doc.fail(path, f"expected a non-empty list of endpoints, got {describe(value)}")
        out = []
        for i, item in enumerate(value):
            at = (*path, i)
            if isinstance(item, str):
                item = {"path": item}
            entry = doc.mapping(item, at, required=("path",), optional=("method", "weight"))
            route = entry["path"]
            if not isinstance(route, str) or not route.startswith("/"):
                doc.fail((*at, "path"), f"expected a path starting with /, got {route!r}")
            method = entry.get("method", KNOWN_ENDPOINTS.get(route.split("?")[0], "GET"))
            if method not in _METHODS:
                doc.fail((*at, "method"), f"expected one of {', '.join(_METHODS)}, got {method!r}")
            weight = self.number(entry.get("weight", 1), (*at, "weight"), positive=True)
            out.append(Endpoint(route, str(method), weight))
        return tuple(out)

    def profiles(self, value: object, ramp_up: float, ramp_down: float) -> dict[str, Profile]:
        doc = self.doc
        if not isinstance(value, dict):
            doc.fail(("profiles",), f"expected a mapping of profiles, got {describe(value)}")
        out: dict[str, Profile] = {}
        for name, item in value.items():
            path: tuple[Key, ...] = ("profiles", str(name))
            raw = doc.mapping(item, path)
            pattern = raw.get("pattern")
            if pattern not in _PATTERNS:
                doc.fail(
                    (*path, "pattern"), f"expected one of {', '.join(_PATTERNS)}, got {pattern!r}"
                )
            required, optional = _PROFILE_KEYS[str(pattern)]
            entry = doc.mapping(raw, path, required=required, optional=optional)
            rate = self.number(entry["rate"], (*path, "rate"), positive=True)
            duration = self.duration(entry["duration"], (*path, "duration"), positive=True)
            profile = Profile(str(name), pattern, rate, duration)  # type: ignore[arg-type]
            if pattern == "ramp":
                up = self.duration(entry.get("ramp_up_time", ramp_up), (*path, "ramp_up_time"))
                down = self.duration(
                    entry.get("ramp_down_time", ramp_down), (*path, "ramp_down_time")
                )
                if up + down >= duration:
                    doc.fail(
                        (*path, "duration"),
                        f"the ramps ({up:g} s up, {down:g} s down) leave no time to hold "
                        f"within {duration:g} s",
                    )
                profile = replace(profile, ramp_up=up, ramp_down=down)
            elif pattern == "steps":
                steps = int(
                    self.number(entry["steps"], (*path, "steps"), positive=True, integer=True)
                )
                capacity = entry.get("capacity_profile", "baseline")
                if not isinstance(capacity, str):
                    doc.fail(
                        (*path, "capacity_profile"), f"expected a profile name, got {capacity!r}"
                    )
                stop = int(
                    self.number(
                        entry.get("stop_after_missed", 0),
                        (*path, "stop_after_missed"),
                        integer=True,
                    )
                )
                profile = replace(
                    profile, steps=steps, capacity_profile=capacity, stop_after_missed=stop
                )
            else:
                spike_rate = self.number(entry["spike_rate"], (*path, "spike_rate"), positive=True)
                spike_s = self.duration(
                    entry["spike_duration"], (*path, "spike_duration"), positive=True
                )
                every = self.duration(entry["spike_every"], (*path, "spike_every"), positive=True)
                first = self.duration(entry.get("spike_first_at", 0), (*path, "spike_first_at"))
                if spike_s >= every:
                    doc.fail(
                        (*path, "spike_duration"),
                        f"a {spike_s:g} s spike every {every:g} s never ends",
                    )
                if first + spike_s > duration:
                    doc.fail(
                        (*path, "spike_first_at"),
                        f"the first spike would end after the run ({duration:g} s)",
                    )
                profile = replace(
                    profile,
                    spike_rate=spike_rate,
                    spike_duration=spike_s,
                    spike_every=every,
                    spike_first_at=first,
                )
            out[str(name)] = profile
        return out

    def definitions(self, value: object) -> Definitions:
        doc = self.doc
        defaults = Definitions()
        names = [f for f in Definitions.__slots__]
        entry = doc.mapping(value, ("definitions",), optional=names)
        values: dict[str, object] = {}
        for key, raw in entry.items():
            path: tuple[Key, ...] = ("definitions", key)
            current = getattr(defaults, key)
            if key in ("sustained_window", "timeout", "idle_window"):
                values[key] = self.duration(raw, path, positive=True)
            elif key == "recovered_p99_profile":
                if not isinstance(raw, str):
                    doc.fail(path, f"expected a profile name, got {raw!r}")
                values[key] = raw
            elif isinstance(current, int):
                values[key] = int(self.number(raw, path, positive=True, integer=True))
            else:
                values[key] = self.number(raw, path, positive=True)
        return replace(defaults, **values)  # type: ignore[arg-type]

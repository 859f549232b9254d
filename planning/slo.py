"""Service-level objectives: the specification's targets as data, and verdicts on measured results.

    config = load_config("config/slo.yaml")
    verdicts = evaluate(config, {"order_processing_p95_ms": 9.3}, profile=None)
    verdicts.overall  # "not_measured": the other target-table SLOs have no figure

Scope. Without a profile the three target tables (trading engine, system resources, database)
are evaluated: they describe normal operation. With a profile only that load-test profile's
expected results are evaluated, because a peak or stress run is expected to exceed the
normal-operation targets (the peak profile allows a 50 ms P95 where the engine table allows 10).

Results are a flat mapping of metric name to number, in the unit the config gives for that metric
(nothing is converted; percentages are 0-100). A value of None means "not measured". Names may be
config metrics or config aliases (the CI workflow's `orders_per_second`); any other name is an
error, never silently ignored.

Margins: positive means headroom, negative means the target is missed by that much. For `<` and
`<=` the margin is `target - observed`; for `>` and `>=` it is `observed - target`; the percent
is the margin over |target| (None when the target is 0). A margin of 0 is met under `<=`/`>=` and
missed under `<`/`>`. Margins are computed in decimal on the values as written, so a 10 ms target
and 9.3 ms observed give 0.7, not 0.6999999999999993.
"""

from __future__ import annotations

import difflib
import math
import operator
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, NoReturn, cast, get_args

import orjson
import yaml

__all__ = [
    "DEFAULT_CONFIG",
    "Comparator",
    "ConfigError",
    "Metric",
    "Overall",
    "ResultsError",
    "Section",
    "Slo",
    "SloConfig",
    "SloError",
    "Status",
    "Verdict",
    "Verdicts",
    "evaluate",
    "load_config",
    "load_results",
    "margin",
    "parse_config",
    "resolve_results",
    "satisfies",
]

DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "config" / "slo.yaml"

Comparator = Literal["<", "<=", ">", ">="]
Status = Literal["met", "missed", "not_measured", "informational"]
Overall = Literal["met", "missed", "not_measured", "informational"]

_COMPARATORS: tuple[str, ...] = get_args(Comparator)
_OPS: dict[str, Callable[[Decimal, Decimal], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")


class SloError(ValueError):
    """Input the SLO evaluator cannot use; the message is one line."""


class ConfigError(SloError):
    """A malformed SLO config; the message names the file and the entry."""


class ResultsError(SloError):
    """A results file, or a results mapping, that cannot be evaluated."""


@dataclass(frozen=True)
class Metric:
    """A known metric: its unit, the component it describes and how the spec measures it."""

    name: str
    unit: str
    component: str
    description: str
    measurement: str | None


@dataclass(frozen=True)
class Slo:
    """One target: `metric comparator target` in `unit`, from a table or a load-test profile.

    An informational SLO (comparator None) is a goal the spec states without a number; it is
    reported, with the metric's figure when there is one, and never judged.
    """

    metric: str | None
    comparator: Comparator | None
    target: float | None
    unit: str | None
    spec: str
    description: str
    measurement: str | None
    component: str | None
    table: str | None = None
    profile: str | None = None

    @property
    def informational(self) -> bool:
        return self.comparator is None


@dataclass(frozen=True)
class Section:
    """A target table or a load-test profile: a titled list of SLOs."""

    name: str
    title: str
    slos: tuple[Slo, ...]
    command: str | None = None
    pattern: str | None = None


@dataclass(frozen=True)
class SloConfig:
    """The whole config: known metrics, aliases, target tables and load-test profiles."""

    source: str
    metrics: Mapping[str, Metric]
    aliases: Mapping[str, str]
    tables: Mapping[str, Section]
    profiles: Mapping[str, Section]

    def select(self, profile: str | None) -> tuple[Slo, ...]:
        """The SLOs evaluated for `profile`: its expectations, or all tables when None."""
        if profile is None:
            return tuple(slo for table in self.tables.values() for slo in table.slos)
        return self.profile(profile).slos

    def profile(self, name: str) -> Section:
        """The named profile, or an SloError listing the known ones."""
        if name not in self.profiles:
            known = ", ".join(self.profiles) or "none"
            raise SloError(f"unknown profile {name!r} in {self.source} (profiles: {known})")
        return self.profiles[name]

    def table_slo(self, metric: str) -> Slo | None:
        """The target-table SLO on `metric`, if any table has one."""
        return next((s for s in self.select(None) if s.metric == metric), None)


@dataclass(frozen=True)
class Verdict:
    """An SLO judged against a figure. `margin` > 0 is headroom, < 0 how far it was missed."""

    slo: Slo
    status: Status
    observed: float | None = None
    margin: float | None = None
    margin_percent: float | None = None
    result_key: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        s = self.slo
        return {
            "metric": s.metric,
            "description": s.description,
            "table": s.table,
            "profile": s.profile,
            "component": s.component,
            "comparator": s.comparator,
            "target": s.target,
            "unit": s.unit,
            "spec": s.spec,
            "measurement": s.measurement,
            "status": self.status,
            "observed": self.observed,
            "margin": self.margin,
            "margin_percent": self.margin_percent,
            "result_key": self.result_key,
        }


@dataclass(frozen=True)
class Verdicts:
    """Every selected SLO's verdict and the overall one.

    `overall` is "missed" if any SLO missed; else "not_measured" if any numeric SLO lacks a figure
    (unless `allow_unmeasured`), or if none has one at all; else "met". A selection with no
    numeric SLO (the stress profile) is "informational". `ignored` lists result keys that name
    known metrics outside this selection.
    """

    profile: str | None
    tables: tuple[str, ...]
    verdicts: tuple[Verdict, ...]
    overall: Overall
    allow_unmeasured: bool
    ignored: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        """True when nothing measured missed and nothing required is unmeasured."""
        return self.overall in ("met", "informational")

    def counts(self) -> dict[str, int]:
        """How many verdicts have each status."""
        counts = dict.fromkeys(get_args(Status), 0)
        for v in self.verdicts:
            counts[v.status] += 1
        return counts

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {
            "scope": "tables" if self.profile is None else "profile",
            "profile": self.profile,
            "tables": list(self.tables),
            "overall": self.overall,
            "passed": self.passed,
            "allow_unmeasured": self.allow_unmeasured,
            "counts": self.counts(),
            "verdicts": [v.as_dict() for v in self.verdicts],
            "ignored": list(self.ignored),
        }


def _dec(x: float) -> Decimal:
    return Decimal(x) if isinstance(x, int) else Decimal(repr(float(x)))


def satisfies(observed: float, comparator: Comparator, target: float) -> bool:
    """Whether `observed comparator target` holds."""
    return _OPS[comparator](_dec(observed), _dec(target))


def margin(observed: float, comparator: Comparator, target: float) -> tuple[float, float | None]:
    """(margin, margin in % of |target|): positive is headroom; the % is None for a 0 target."""
    o, t = _dec(observed), _dec(target)
    m = t - o if comparator in ("<", "<=") else o - t
    return float(m), None if t == 0 else float(m / abs(t) * 100)


def evaluate(
    slos: SloConfig,
    results: Mapping[str, float | None],
    profile: str | None = None,
    *,
    allow_unmeasured: bool = False,
) -> Verdicts:
    """Judge `results` against the target tables, or against `profile`'s expected results."""
    selected = slos.select(profile)
    figures = _resolve(slos, results)
    verdicts = tuple(_judge(slo, figures.get(slo.metric or "")) for slo in selected)
    used = {slo.metric for slo in selected}
    ignored = tuple(key for metric, (_, key) in figures.items() if metric not in used)
    return Verdicts(
        profile=profile,
        tables=tuple(slos.tables) if profile is None else (),
        verdicts=verdicts,
        overall=_overall(verdicts, allow_unmeasured),
        allow_unmeasured=allow_unmeasured,
        ignored=ignored,
    )


def _judge(slo: Slo, figure: tuple[float | None, str] | None) -> Verdict:
    value, key = figure if figure is not None else (None, None)
    if slo.comparator is None or slo.target is None:
        return Verdict(slo, "informational", value, result_key=key)
    if value is None:
        return Verdict(slo, "not_measured", result_key=key)
    ok = satisfies(value, slo.comparator, slo.target)
    m, pct = margin(value, slo.comparator, slo.target)
    return Verdict(slo, "met" if ok else "missed", value, m, pct, key)


def _overall(verdicts: tuple[Verdict, ...], allow_unmeasured: bool) -> Overall:
    statuses = [v.status for v in verdicts if v.status != "informational"]
    if not statuses:
        return "informational"
    if "missed" in statuses:
        return "missed"
    if "met" not in statuses or ("not_measured" in statuses and not allow_unmeasured):
        return "not_measured"
    return "met"


def resolve_results(
    slos: SloConfig, results: Mapping[str, float | None]
) -> dict[str, float | None]:
    """`results` keyed by config metric names (aliases resolved), every name and value checked."""
    return {metric: value for metric, (value, _) in _resolve(slos, results).items()}


def _resolve(slos: SloConfig, results: Mapping[str, object]) -> dict[str, tuple[float | None, str]]:
    figures: dict[str, tuple[float | None, str]] = {}
    for key, value in results.items():
        metric = key if key in slos.metrics else slos.aliases.get(key)
        if metric is None:
            raise ResultsError(_unknown(slos, key))
        number = _figure(key, value)
        if metric in figures and figures[metric][0] != number:
            other = figures[metric][1]
            raise ResultsError(
                f"{other!r} and {key!r} both give {metric} but differ"
                f" ({figures[metric][0]} vs {number})"
            )
        figures[metric] = (number, key)
    return figures


def _unknown(slos: SloConfig, key: str) -> str:
    names = [*slos.metrics, *slos.aliases]
    close = difflib.get_close_matches(key, names, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown metric {key!r}: not a metric or alias in {slos.source}{hint}"


def _figure(key: str, value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        shown = repr(value)
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        raise ResultsError(f"value of {key!r} is not a number: {shown}")
    if not math.isfinite(value):
        raise ResultsError(f"value of {key!r} is not a finite number: {value}")
    return value


def load_results(path: str | Path) -> dict[str, float | None]:
    """Read a results file: one JSON object of metric name to number (or null: not measured).

    Raises ResultsError, naming the file, for a missing file, bad JSON, a non-object or a
    non-numeric value; names are checked later, against a config.
    """
    data = _parse_json(Path(path))
    if not isinstance(data, dict):
        kinds = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
        kind = kinds.get(type(data), "a number")
        raise ResultsError(f"{path}: expected a JSON object of metric names to numbers, not {kind}")
    try:
        return {key: _figure(key, value) for key, value in data.items()}
    except ResultsError as exc:
        raise ResultsError(f"{path}: {exc}") from None


def _parse_json(path: Path) -> object:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ResultsError(f"{path}: no such file") from None
    except OSError as exc:
        raise ResultsError(f"{path}: {exc.strerror or exc}") from None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ResultsError(f"{path}: not valid JSON ({exc})") from None


# -- the config file -------------------------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a mapping with the same key twice."""


def _mapping_without_duplicates(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[object] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if isinstance(key, Hashable):
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates
)


def load_config(path: str | Path = DEFAULT_CONFIG) -> SloConfig:
    """Read and validate an SLO config file; a ConfigError names the file and the entry."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror or exc}") from None
    try:
        data = yaml.load(raw, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {_yaml_problem(exc)}") from None
    return parse_config(data, str(path))


def _yaml_problem(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        return f"line {mark.line + 1}, column {mark.column + 1}: {exc.problem}"
    return " ".join(str(exc).split())


def parse_config(data: object, source: str) -> SloConfig:
    """Validate parsed YAML (see config/slo.yaml for the layout) into an SloConfig."""
    return _Parser(source).config(data)


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, message: str) -> NoReturn:
        raise ConfigError(f"{self.source}: {where}: {message}")

    def mapping(
        self,
        value: object,
        where: str,
        required: tuple[str, ...] = (),
        optional: tuple[str, ...] = (),
    ) -> dict[str, object]:
        if not isinstance(value, dict):
            self.fail(where, f"expected a mapping, got {_kind(value)}")
        if required or optional:
            missing = [k for k in required if k not in value]
            if missing:
                self.fail(where, f"missing {', '.join(missing)}")
            extra = [str(k) for k in value if k not in required + optional]
            if extra:
                self.fail(
                    where, f"unknown key {extra[0]!r} (allowed: {', '.join(required + optional)})"
                )
        return cast(dict[str, object], value)

    def text(self, value: object, where: str, field: str) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(where, f"{field}: expected text, got {_kind(value)}")
        return value

    def optional_text(self, value: object, where: str, field: str) -> str | None:
        return None if value is None else self.text(value, where, field)

    def name(self, value: object, where: str) -> str:
        if not isinstance(value, str) or not value or not set(value) <= _NAME_CHARS:
            self.fail(where, f"{value!r} is not a snake_case name")
        if not value[0].isalpha():
            self.fail(where, f"{value!r} is not a snake_case name")
        return value

    def config(self, data: object) -> SloConfig:
        top = self.mapping(
            data, "top level", ("version", "metrics", "tables", "profiles"), ("aliases",)
        )
        if top["version"] != 1:
            self.fail("version", f"unsupported version {top['version']!r} (expected 1)")
        metrics = {
            name: self.metric(name, entry)
            for name, entry in self.mapping(top["metrics"], "metrics").items()
        }
        aliases: dict[str, str] = {}
        for alias, target in self.mapping(top.get("aliases") or {}, "aliases").items():
            where = f"aliases.{alias}"
            self.name(alias, where)
            if alias in metrics:
                self.fail(where, "an alias cannot be a metric name")
            if not isinstance(target, str) or target not in metrics:
                self.fail(where, f"refers to {target!r}, which is not in metrics")
            aliases[alias] = target
        tables = {
            name: self.section("tables", name, entry, metrics)
            for name, entry in self.mapping(top["tables"], "tables").items()
        }
        seen: dict[str, str] = {}
        for table in tables.values():
            for i, slo in enumerate(table.slos):
                if slo.metric in seen:
                    where = f"tables.{table.name}.slos[{i}] ({slo.metric})"
                    self.fail(where, f"metric already has a target in table {seen[slo.metric]}")
                seen[slo.metric or ""] = table.name
        profiles = {
            name: self.section("profiles", name, entry, metrics)
            for name, entry in self.mapping(top["profiles"], "profiles").items()
        }
        return SloConfig(self.source, metrics, aliases, tables, profiles)

    def metric(self, name: str, entry: object) -> Metric:
        where = f"metrics.{name}"
        self.name(name, where)
        fields = self.mapping(entry, where, ("unit", "component", "description"), ("measurement",))
        return Metric(
            name=name,
            unit=self.text(fields["unit"], where, "unit"),
            component=self.text(fields["component"], where, "component"),
            description=self.text(fields["description"], where, "description"),
            measurement=self.optional_text(fields.get("measurement"), where, "measurement"),
        )

    def section(
        self, kind: str, name: str, entry: object, metrics: Mapping[str, Metric]
    ) -> Section:
        where = f"{kind}.{name}"
        self.name(name, where)
        optional = ("command", "pattern") if kind == "profiles" else ()
        fields = self.mapping(entry, where, ("title", "slos"), optional)
        raw_slos = fields["slos"]
        if not isinstance(raw_slos, list) or not raw_slos:
            self.fail(f"{where}.slos", f"expected a non-empty list, got {_kind(raw_slos)}")
        table, profile = (name, None) if kind == "tables" else (None, name)
        slos = tuple(
            self.slo(f"{where}.slos[{i}]", raw, metrics, table, profile)
            for i, raw in enumerate(raw_slos)
        )
        names = [s.metric for s in slos if s.metric is not None]
        for i, slo in enumerate(slos):
            if slo.metric is not None and names.count(slo.metric) > 1:
                self.fail(f"{where}.slos[{i}] ({slo.metric})", "metric appears twice")
        return Section(
            name=name,
            title=self.text(fields["title"], where, "title"),
            slos=slos,
            command=self.optional_text(fields.get("command"), where, "command"),
            pattern=self.optional_text(fields.get("pattern"), where, "pattern"),
        )

    def slo(
        self,
        where: str,
        raw: object,
        metrics: Mapping[str, Metric],
        table: str | None,
        profile: str | None,
    ) -> Slo:
        if isinstance(raw, dict) and isinstance(raw.get("metric"), str):
            where = f"{where} ({raw['metric']})"
        flag = raw.get("informational", False) if isinstance(raw, dict) else False
        if not isinstance(flag, bool):
            self.fail(where, f"informational: expected true or false, got {flag!r}")
        if flag and table is not None:
            self.fail(where, "informational entries belong in profiles, not target tables")
        if flag:
            fields = self.mapping(raw, where, ("informational", "spec"), ("metric",))
        else:
            fields = self.mapping(
                raw, where, ("metric", "comparator", "target", "spec"), ("informational",)
            )
        spec = self.text(fields["spec"], where, "spec")
        metric: Metric | None = None
        if "metric" in fields or not flag:
            name = fields.get("metric")
            if not isinstance(name, str) or name not in metrics:
                self.fail(where, f"metric {name!r} is not in metrics")
            metric = metrics[name]
        comparator: Comparator | None = None
        target: float | None = None
        if not flag:
            if fields["comparator"] not in _COMPARATORS:
                choices = ", ".join(_COMPARATORS)
                self.fail(where, f"comparator {fields['comparator']!r} is not one of {choices}")
            comparator = cast(Comparator, fields["comparator"])
            target = self.number(fields["target"], where, "target")
        return Slo(
            metric=metric.name if metric else None,
            comparator=comparator,
            target=target,
            unit=metric.unit if metric else None,
            spec=spec,
            description=metric.description if metric else spec,
            measurement=metric.measurement if metric else None,
            component=metric.component if metric else None,
            table=table,
            profile=profile,
        )

    def number(self, value: object, where: str, field: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(where, f"{field} {value!r} is not a number")
        if not math.isfinite(value):
            self.fail(where, f"{field} {value!r} is not a finite number")
        return value


def _kind(value: object) -> str:
    if value is None:
        return "nothing"
    kinds: dict[type, str] = {dict: "a mapping", list: "a list", str: "text"}
    return kinds.get(type(value), type(value).__name__)

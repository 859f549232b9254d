"""`slo.yaml` read and checked into an `SloConfig` (see config/slo.yaml for the layout).

    config = load_config()                  # PINCEX_CONFIG_DIR/slo.yaml, else the checkout's
    config = load_config(Path("my-slo.yaml"))

Every problem is one `ConfigError` naming the file, the entry and its line:
`config/slo.yaml: tables.engine.slos[0] (order_processing_p95_ms): missing target (line 41)`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NoReturn, cast, get_args

from common.paths import config_file
from common.yaml_config import Document, Key, describe, load_yaml, where
from planning.slo.model import Comparator, ConfigError, Metric, Section, Slo, SloConfig

__all__ = ["DEFAULT_CONFIG", "default_config_path", "load_config", "parse_config"]

_COMPARATORS: tuple[str, ...] = get_args(Comparator)
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")


def default_config_path() -> Path:
    """`slo.yaml` in the config directory (`PINCEX_CONFIG_DIR`, else the checkout's config/)."""
    return config_file("slo.yaml")


DEFAULT_CONFIG = default_config_path()  # as resolved at import; load_config() resolves anew


def load_config(path: str | Path | None = None) -> SloConfig:
    """Read and validate an SLO config file (the default one when `path` is None)."""
    if path is None:
        document = load_yaml(
            default_config_path(), default="PINCEX_CONFIG_DIR", error_type=ConfigError
        )
    else:
        document = load_yaml(Path(path), error_type=ConfigError)
    return _Parser(document).config()


def parse_config(data: object, source: str) -> SloConfig:
    """Validate parsed YAML (plain data, so messages carry no line) into an SloConfig."""
    return _Parser(Document.of(data, source, ConfigError)).config()


class _Parser:
    def __init__(self, document: Document) -> None:
        self.doc = document

    def fail(self, path: Sequence[Key], message: str, shown: str | None = None) -> NoReturn:
        self.doc.fail(path, message, shown)

    def text(self, value: object, path: tuple[Key, ...], field: str, shown: str) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail((*path, field), f"{field}: expected text, got {describe(value)}", shown)
        return value

    def optional_text(
        self, value: object, path: tuple[Key, ...], field: str, shown: str
    ) -> str | None:
        return None if value is None else self.text(value, path, field, shown)

    def name(self, value: object, path: tuple[Key, ...]) -> str:
        ok = isinstance(value, str) and value and set(value) <= _NAME_CHARS and value[0].isalpha()
        if not ok:
            self.fail(path, f"{value!r} is not a snake_case name")
        return cast(str, value)

    def config(self) -> SloConfig:
        top = self.doc.mapping(
            self.doc.data, (), ("version", "metrics", "tables", "profiles"), ("aliases",)
        )
        if top["version"] != 1:
            self.fail(("version",), f"unsupported version {top['version']!r} (expected 1)")
        metrics = {
            name: self.metric(name, entry)
            for name, entry in self.doc.mapping(top["metrics"], ("metrics",)).items()
        }
        aliases: dict[str, str] = {}
        for alias, target in self.doc.mapping(top.get("aliases") or {}, ("aliases",)).items():
            path: tuple[Key, ...] = ("aliases", alias)
            self.name(alias, path)
            if alias in metrics:
                self.fail(path, "an alias cannot be a metric name")
            if not isinstance(target, str) or target not in metrics:
                self.fail(path, f"refers to {target!r}, which is not in metrics")
            aliases[alias] = target
        tables = {
            name: self.section("tables", name, entry, metrics)
            for name, entry in self.doc.mapping(top["tables"], ("tables",)).items()
        }
        seen: dict[str, str] = {}
        for table in tables.values():
            for i, slo in enumerate(table.slos):
                if slo.metric in seen:
                    path = ("tables", table.name, "slos", i)
                    self.fail(
                        path,
                        f"metric already has a target in table {seen[slo.metric]}",
                        f"{where(path)} ({slo.metric})",
                    )
                seen[slo.metric or ""] = table.name
        profiles = {
            name: self.section("profiles", name, entry, metrics)
            for name, entry in self.doc.mapping(top["profiles"], ("profiles",)).items()
        }
        return SloConfig(self.doc.source, metrics, aliases, tables, profiles)

    def metric(self, name: str, entry: object) -> Metric:
        path: tuple[Key, ...] = ("metrics", name)
        shown = where(path)
        self.name(name, path)
        fields = self.doc.mapping(
            entry, path, ("unit", "component", "description"), ("measurement",)
        )
        return Metric(
            name=name,
            unit=self.text(fields["unit"], path, "unit", shown),
            component=self.text(fields["component"], path, "component", shown),
            description=self.text(fields["description"], path, "description", shown),
            measurement=self.optional_text(fields.get("measurement"), path, "measurement", shown),
        )

    def section(
        self, kind: str, name: str, entry: object, metrics: Mapping[str, Metric]
    ) -> Section:
        path: tuple[Key, ...] = (kind, name)
        shown = where(path)
        self.name(name, path)
        optional = ("command", "pattern") if kind == "profiles" else ()
        fields = self.doc.mapping(entry, path, ("title", "slos"), optional)
        raw_slos = fields["slos"]
        if not isinstance(raw_slos, list) or not raw_slos:
            self.fail((*path, "slos"), f"expected a non-empty list, got {describe(raw_slos)}")
        table, profile = (name, None) if kind == "tables" else (None, name)
        slos = tuple(
            self.slo((*path, "slos", i), raw, metrics, table, profile)
            for i, raw in enumerate(raw_slos)
        )
        names = [s.metric for s in slos if s.metric is not None]
        for i, slo in enumerate(slos):
            if slo.metric is not None and names.count(slo.metric) > 1:
                at: tuple[Key, ...] = (*path, "slos", i)
                self.fail(at, "metric appears twice", f"{where(at)} ({slo.metric})")
        return Section(
            name=name,
            title=self.text(fields["title"], path, "title", shown),
            slos=slos,
            command=self.optional_text(fields.get("command"), path, "command", shown),
            pattern=self.optional_text(fields.get("pattern"), path, "pattern", shown),
        )

    def slo(
        self,
        path: tuple[Key, ...],
        raw: object,
        metrics: Mapping[str, Metric],
        table: str | None,
        profile: str | None,
    ) -> Slo:
        shown = where(path)
        if isinstance(raw, dict) and isinstance(raw.get("metric"), str):
            shown = f"{shown} ({raw['metric']})"
        flag = raw.get("informational", False) if isinstance(raw, dict) else False
        if not isinstance(flag, bool):
            self.fail(
                (*path, "informational"),
                f"informational: expected true or false, got {flag!r}",
                shown,
            )
        if flag and table is not None:
            self.fail(path, "informational entries belong in profiles, not target tables", shown)
        if flag:
            fields = self.doc.mapping(raw, path, ("informational", "spec"), ("metric",), shown)
        else:
            fields = self.doc.mapping(
                raw, path, ("metric", "comparator", "target", "spec"), ("informational",), shown
            )
        spec = self.text(fields["spec"], path, "spec", shown)
        metric: Metric | None = None
        if "metric" in fields or not flag:
            name = fields.get("metric")
            if not isinstance(name, str) or name not in metrics:
                self.fail((*path, "metric"), f"metric {name!r} is not in metrics", shown)
            metric = metrics[name]
        comparator: Comparator | None = None
        target: float | None = None
        if not flag:
            if fields["comparator"] not in _COMPARATORS:
                choices = ", ".join(_COMPARATORS)
                self.fail(
                    (*path, "comparator"),
                    f"comparator {fields['comparator']!r} is not one of {choices}",
                    shown,
                )
            comparator = cast(Comparator, fields["comparator"])
            target = self.number(fields["target"], (*path, "target"), "target", shown)
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

    def number(self, value: object, path: tuple[Key, ...], field: str, shown: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(path, f"{field} {value!r} is not a number", shown)
        if not math.isfinite(value):
            self.fail(path, f"{field} {value!r} is not a finite number", shown)
        return value

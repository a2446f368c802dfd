"""Template documents (`wardflux-template/1`, see docs/templates.md): parse, validate with exact error paths, emit.

`parse_document` turns a dict (from JSON or YAML) into a `TemplateSpec` or raises `DocumentError` listing every
problem with its path (`items[3].discovery.filters[0]: ...`); `to_document` is its inverse. Pure: no database.
Trigger expressions are checked with the rule language, which lives below this app (wardsite.expressions), and
durations are read and written by wardsite.durations.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

import yaml

from devices.choices import DeviceType
from snmp.choices import ValueType
from snmp.oids import parse_oid
from snmp.validators import RESERVED_LABELS, RESERVED_METRICS, RESERVED_PREFIXES, value_map_problems
from templates_app.choices import Severity
from wardsite import yaml_input
from wardsite.durations import format_duration, parse_duration
from wardsite.expressions import ExpressionError
from wardsite.expressions import parse as parse_expression
from wardsite.text import QUOTE_LIMIT, quote, shorten

FORMAT = "wardflux-template/1"
KEY = re.compile(r"[a-z0-9][a-z0-9-]*")
METRIC = re.compile(r"[a-z_][a-z0-9_]*")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
SEVERITIES = tuple(Severity.values)
FILTER_FIELDS = ("if_type", "admin_status", "oper_status", "name", "descr", "alias")
FILTER_OPERATORS = ("equals", "not_equals", "in", "not_in", "matches", "not_matches")
MAX_INTERVAL = 86400


class DocumentError(ValueError):
    """A template document broke the rules; `errors` holds one "path: problem" line per problem."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("invalid template document:\n" + "\n".join(errors))


@dataclass(frozen=True)
class FilterSpec:
    op: str
    value: str | tuple[str, ...]
    field: str = ""  # interfaces: an Interface attribute
    oid: str = ""  # tables: a column of the same table

    def keeps(self, text: str) -> bool:
        """Whether a row whose filtered value reads `text` passes this filter."""
        if self.op == "equals":
            return text == self.value
        if self.op == "not_equals":
            return text != self.value
        if self.op == "in":
            return text in self.value
        if self.op == "not_in":
            return text not in self.value
        found = re.search(self.value, text) is not None
        return found if self.op == "matches" else not found


@dataclass(frozen=True)
class DiscoverySpec:
    interfaces: bool = False
    table: str = ""
    label: str = ""
    label_oid: str = ""
    label_from_value: bool = False
    filters: tuple[FilterSpec, ...] = ()


@dataclass(frozen=True)
class ItemSpec:
    key: str
    oid: str
    name: str = ""
    interval: int = 60
    value_type: str = ValueType.FLOAT.value
    units: str = ""
    value_map: dict[str, float] = field(default_factory=dict)
    enabled: bool = True
    discovery: DiscoverySpec | None = None


@dataclass(frozen=True)
class TriggerSpec:
    name: str
    expression: str
    recovery_expression: str = ""
    for_seconds: int = 0
    severity: str = "medium"
    description: str = ""


@dataclass(frozen=True)
class TemplateSpec:
    key: str
    name: str
    version: int = 1
    vendor: str = ""
    description: str = ""
    device_types: tuple[str, ...] = ()
    includes: tuple[str, ...] = ()
    priority: int = 0
    sys_object_ids: tuple[str, ...] = ()
    sys_descr: tuple[str, ...] = ()
    items: tuple[ItemSpec, ...] = ()
    triggers: tuple[TriggerSpec, ...] = ()


# --- reading --------------------------------------------------------------------------------------------------

def load_text(text: str) -> Any:
    """The data of a JSON or YAML text (JSON is YAML, but JSON's own errors are clearer for JSON)."""
    stripped = text.lstrip()
    try:
        if stripped.startswith(("{", "[")):
            return json.loads(text)
        return yaml_input.load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise DocumentError([f"not valid JSON or YAML: {exc}"]) from None


class _Checker:
    """Collects "path: problem" lines while reading a document."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def error(self, path: str, problem: str) -> None:
        self.errors.append(f"{path}: {problem}")

    def mapping(self, data: Any, path: str, allowed: set[str], required: set[str] = frozenset()) -> dict:
        if not isinstance(data, dict):
            self.error(path, f"expected a mapping, got {type(data).__name__}")
            return {}
        for name in sorted(map(str, set(data) - allowed)):  # YAML keys may be numbers too
            name = shorten(name, QUOTE_LIMIT)
            self.error(f"{path}.{name}" if path else name, f"unknown field (allowed: {', '.join(sorted(allowed))})")
        for name in sorted(required - set(data)):
            self.error(f"{path}.{name}" if path else name, "required")
        return data

    def text(self, data: dict, name: str, path: str, *, default: str = "", pattern: re.Pattern | None = None,
             max_length: int = 255) -> str:
        value = data.get(name, default)
        where = f"{path}.{name}" if path else name
        if not isinstance(value, str):
            self.error(where, f"expected text, got {type(value).__name__}")
            return default
        if len(value) > max_length:
            self.error(where, f"longer than {max_length} characters")
        if pattern is not None and not pattern.fullmatch(value):
            self.error(where, f"{quote(value)} does not match {pattern.pattern}")
        return value

    def integer(self, data: dict, name: str, path: str, default: int, low: int, high: int) -> int:
        value = data.get(name, default)
        where = f"{path}.{name}" if path else name
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.error(where, f"expected a whole number from {low} to {high}, got {quote(value)}")
            return default
        return value

    def texts(self, data: dict, name: str, path: str) -> list[str]:
        value = data.get(name, [])
        where = f"{path}.{name}" if path else name
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.error(where, "expected a list of texts")
            return []
        return value

    def oid(self, value: Any, where: str) -> str:
        try:
            return ".".join(map(str, parse_oid(str(value))))
        except ValueError as exc:
            self.error(where, str(exc))
            return ""

    def regex(self, value: str, where: str) -> None:
        try:
            re.compile(value)
        except re.error as exc:
            self.error(where, f"not a regular expression: {exc}")


def parse_document(data: Any) -> TemplateSpec:
    """The template a document describes; DocumentError with every problem and its path otherwise."""
    check = _Checker()
    top = check.mapping(data, "", {"format", "key", "name", "version", "vendor", "description", "device_types",
                                   "includes", "priority", "match", "items", "triggers"}, {"format", "key", "name"})
    if top.get("format", FORMAT) != FORMAT:
        check.error("format", f"{quote(top['format'])} is not {FORMAT!r}")
    match = check.mapping(top.get("match", {}), "match", {"sys_object_ids", "sys_descr"})
    spec = TemplateSpec(
        key=check.text(top, "key", "", pattern=KEY, max_length=100),
        name=check.text(top, "name", "", max_length=200),
        version=check.integer(top, "version", "", 1, 1, 1_000_000),
        vendor=check.text(top, "vendor", "", max_length=100),
        description=check.text(top, "description", "", max_length=10_000),
        device_types=tuple(_device_types(check, top)),
        includes=tuple(check.texts(top, "includes", "")),
        priority=check.integer(top, "priority", "", 0, -1000, 1000),
        sys_object_ids=tuple(check.oid(v, f"match.sys_object_ids[{i}]")
                             for i, v in enumerate(check.texts(match, "sys_object_ids", "match"))),
        sys_descr=tuple(check.texts(match, "sys_descr", "match")),
        items=tuple(_items(check, top.get("items", []))),
        triggers=tuple(_triggers(check, top.get("triggers", []))),
    )
    for i, pattern in enumerate(spec.sys_descr):
        check.regex(pattern, f"match.sys_descr[{i}]")
    for i, include in enumerate(spec.includes):
        if include == spec.key:
            check.error(f"includes[{i}]", "a template cannot include itself")
    if check.errors:
        raise DocumentError(check.errors)
    return spec


def _device_types(check: _Checker, top: dict) -> list[str]:
    values = check.texts(top, "device_types", "")
    for i, value in enumerate(values):
        if value not in DeviceType.values:
            check.error(f"device_types[{i}]", f"{quote(value)} is not one of {', '.join(DeviceType.values)}")
    return values


def parse_discovery(data: Any, path: str = "discovery") -> DiscoverySpec:
    """A discovery mapping on its own (as TemplateItem.discovery stores it); DocumentError with paths otherwise."""
    check = _Checker()
    spec = _discovery(check, data, path)
    if check.errors:
        raise DocumentError(check.errors)
    return spec


def _sequence(check: _Checker, data: Any, path: str) -> list:
    if not isinstance(data, list):
        check.error(path, f"expected a list, got {type(data).__name__}")
        return []
    return data


def _items(check: _Checker, data: Any) -> list[ItemSpec]:
    items, keys = [], {}
    for i, raw in enumerate(_sequence(check, data, "items")):
        path = f"items[{i}]"
        item = check.mapping(raw, path, {"key", "name", "oid", "interval", "value_type", "units", "value_map",
                                         "enabled", "discovery"}, {"key", "oid"})
        key = check.text(item, "key", path, pattern=METRIC, max_length=100)
        if key in RESERVED_METRICS or key.startswith(RESERVED_PREFIXES):
            check.error(f"{path}.key", f"{quote(key)} is a series the poller writes itself")
        if key in keys:
            check.error(f"{path}.key", f"{quote(key)} is already the key of items[{keys[key]}]")
        keys.setdefault(key, i)
        value_type = check.text(item, "value_type", path, default=ValueType.FLOAT.value)
        if value_type not in ValueType.values:
            check.error(f"{path}.value_type", f"{quote(value_type)} is not one of {', '.join(ValueType.values)}")
        enabled = item.get("enabled", True)
        if not isinstance(enabled, bool):
            check.error(f"{path}.enabled", "expected true or false")
        items.append(ItemSpec(
            key=key, oid=check.oid(item.get("oid", ""), f"{path}.oid"), name=check.text(item, "name", path),
            interval=check.integer(item, "interval", path, 60, 1, MAX_INTERVAL), value_type=value_type,
            units=check.text(item, "units", path, max_length=20), value_map=_value_map(check, item, path),
            enabled=enabled is not False,
            discovery=_discovery(check, item["discovery"], f"{path}.discovery") if "discovery" in item else None,
        ))
    return items


def _value_map(check: _Checker, item: dict, path: str) -> dict[str, float]:
    raw = item.get("value_map", {})
    if not isinstance(raw, dict):
        check.error(f"{path}.value_map", "expected a mapping of raw values to numbers")
        return {}
    mapped = {}
    for source, target in raw.items():
        if isinstance(target, bool) or not isinstance(target, (int, float)):
            check.error(f"{path}.value_map.{quote(source, 30)}", f"expected a number, got {quote(target)}")
            continue
        mapped[str(source)] = float(target)
    for problem in value_map_problems(mapped):  # bounds of size, as for an item saved in the admin or the API
        check.error(f"{path}.value_map", problem)
    return mapped


def _label(check: _Checker, raw: dict, path: str) -> str:
    label = check.text(raw, "label", path, default="index", pattern=LABEL, max_length=50)
    if label in RESERVED_LABELS or label.startswith("__"):
        check.error(f"{path}.label", f"{quote(label)} is a label the poller sets itself: choose another name")
    return label


def _discovery(check: _Checker, data: Any, path: str) -> DiscoverySpec:
    raw = check.mapping(data, path, {"interfaces", "table", "label", "label_oid", "label_from_value", "filters"})
    interfaces = raw.get("interfaces", False) is True
    if interfaces == ("table" in raw):
        check.error(path, "give exactly one of interfaces: true, table: <column OID>")
    if interfaces and ("label" in raw or "label_oid" in raw):
        check.error(path, "interface items are labelled ifIndex and ifName: label and label_oid do not apply")
    filters = []
    for i, entry in enumerate(_sequence(check, raw.get("filters", []), f"{path}.filters")):
        filters.append(_filter(check, entry, f"{path}.filters[{i}]", interfaces))
    return DiscoverySpec(
        interfaces=interfaces,
        table=check.oid(raw["table"], f"{path}.table") if "table" in raw else "",
        label=_label(check, raw, path) if not interfaces else "",
        label_oid=check.oid(raw["label_oid"], f"{path}.label_oid") if "label_oid" in raw else "",
        label_from_value=raw.get("label_from_value", False) is True,
        filters=tuple(f for f in filters if f is not None),
    )


def _filter(check: _Checker, data: Any, path: str, interfaces: bool) -> FilterSpec | None:
    raw = check.mapping(data, path, {"field", "oid", *FILTER_OPERATORS})
    operators = [name for name in FILTER_OPERATORS if name in raw]
    if ("field" in raw) == ("oid" in raw):
        check.error(path, "give exactly one of field, oid")
        return None
    if len(operators) != 1:
        check.error(path, f"give exactly one operator of {', '.join(FILTER_OPERATORS)}")
        return None
    if interfaces and "oid" in raw:
        check.error(f"{path}.oid", f"interface filters use field: one of {', '.join(FILTER_FIELDS)}")
    if not interfaces and "field" in raw:
        check.error(f"{path}.field", "table filters use oid: a column of the table")
    if "field" in raw and raw["field"] not in FILTER_FIELDS:
        check.error(f"{path}.field", f"{quote(raw['field'])} is not one of {', '.join(FILTER_FIELDS)}")
    op = operators[0]
    value = raw[op]
    if op in ("in", "not_in"):
        if not isinstance(value, list):
            check.error(f"{path}.{op}", "expected a list")
            value = []
        value = tuple(str(v) for v in value)
    else:
        value = str(value)
        if op in ("matches", "not_matches"):
            check.regex(value, f"{path}.{op}")
    where = check.oid(raw["oid"], f"{path}.oid") if "oid" in raw else ""
    return FilterSpec(op=op, value=value, field=str(raw.get("field", "")), oid=where)


def _triggers(check: _Checker, data: Any) -> list[TriggerSpec]:
    triggers, names = [], set()
    for i, raw in enumerate(_sequence(check, data, "triggers")):
        path = f"triggers[{i}]"
        trigger = check.mapping(raw, path, {"name", "expression", "recovery_expression", "for", "severity",
                                            "description"}, {"name", "expression"})
        name = check.text(trigger, "name", path, max_length=200)
        if name in names:
            check.error(f"{path}.name", f"{quote(name)} is used by another trigger")
        names.add(name)
        severity = check.text(trigger, "severity", path, default="medium")
        if severity not in SEVERITIES:
            check.error(f"{path}.severity", f"{quote(severity)} is not one of {', '.join(SEVERITIES)}")
        for_seconds = 0
        if "for" in trigger:
            try:
                for_seconds = parse_duration(trigger["for"])
            except ValueError as exc:
                check.error(f"{path}.for", str(exc))
        expression = check.text(trigger, "expression", path, max_length=1000)
        recovery = check.text(trigger, "recovery_expression", path, max_length=1000)
        for key, text in (("expression", expression), ("recovery_expression", recovery)):
            if text.strip() or key == "expression":
                try:
                    parse_expression(text)
                except ExpressionError as exc:
                    check.error(f"{path}.{key}", str(exc))
        triggers.append(TriggerSpec(
            name=name, expression=expression, for_seconds=for_seconds, severity=severity,
            recovery_expression=recovery,
            description=check.text(trigger, "description", path, max_length=10_000),
        ))
    return triggers


# --- writing --------------------------------------------------------------------------------------------------

def to_document(spec: TemplateSpec) -> dict:
    """The document of a template, defaults left out, so that parse_document(to_document(s)) == s."""
    doc: dict[str, Any] = {"format": FORMAT, "key": spec.key, "name": spec.name, "version": spec.version}
    optional = {"vendor": spec.vendor, "description": spec.description, "device_types": list(spec.device_types),
                "includes": list(spec.includes), "priority": spec.priority}
    doc.update({name: value for name, value in optional.items() if value})
    match = {"sys_object_ids": list(spec.sys_object_ids), "sys_descr": list(spec.sys_descr)}
    if any(match.values()):
        doc["match"] = {name: value for name, value in match.items() if value}
    doc["items"] = [_item_document(item) for item in spec.items]
    if spec.triggers:
        doc["triggers"] = [_trigger_document(trigger) for trigger in spec.triggers]
    return doc


def _item_document(item: ItemSpec) -> dict:
    doc = {"key": item.key, "oid": item.oid}
    defaults = ItemSpec(key="", oid="")
    for name in ("name", "interval", "value_type", "units", "value_map", "enabled"):
        if getattr(item, name) != getattr(defaults, name):
            doc[name] = getattr(item, name)
    if item.discovery is not None:
        doc["discovery"] = discovery_document(item.discovery)
    return doc


def discovery_document(discovery: DiscoverySpec) -> dict:
    doc: dict[str, Any] = {"interfaces": True} if discovery.interfaces else {"table": discovery.table,
                                                                             "label": discovery.label}
    if discovery.label_oid:
        doc["label_oid"] = discovery.label_oid
    if discovery.label_from_value:
        doc["label_from_value"] = True
    if discovery.filters:
        doc["filters"] = [{("field" if f.field else "oid"): f.field or f.oid,
                           f.op: list(f.value) if isinstance(f.value, tuple) else f.value} for f in discovery.filters]
    return doc


def _trigger_document(trigger: TriggerSpec) -> dict:
    doc = {name: value for name, value in asdict(trigger).items() if value and name != "for_seconds"}
    if trigger.for_seconds:
        doc["for"] = format_duration(trigger.for_seconds)
    doc.setdefault("severity", trigger.severity)
    return doc

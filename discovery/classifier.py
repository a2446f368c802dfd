"""What a discovered device is: vendor, type, OS, version and model from its sysObjectID and sysDescr.

The vendor comes from the sysObjectID's enterprise number: the friendly name in data/classifier.yaml's `vendors`,
else the organization IANA registered it to (data/enterprise-numbers.tsv.gz). The rest comes from the ordered rules
of data/classifier.yaml, behind any rules of the caller's own: a rule applies when sysObjectID lies under its
`sys_object_id` (whole arcs: .9 is no prefix of .94) and its `sys_descr` regex is found in sysDescr, and each field
takes its value from the first applying rule that gives one. So a specific rule can set the type while a
vendor-wide rule further down still sets the OS and version. What no rule sets stays empty; the type, `other`.
"""
from __future__ import annotations

import gzip
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings

from devices.choices import DeviceType
from snmp.oids import parse_oid
from wardsite.text import quote

DATA = Path(__file__).parent / "data"
ENTERPRISES = (1, 3, 6, 1, 4, 1)  # iso.org.dod.internet.private.enterprises
_SETS = ("vendor", "device_type", "os", "os_version", "model")  # what a rule can set, named as in Classification
_KEYS = frozenset({"name", "sys_object_id", "sys_descr", *_SETS})
_GROUPS = {"os_version": "version", "model": "model"}  # regex fields and the named group that holds the value


@dataclass(frozen=True)
class Rule:
    """Conditions on sysObjectID and sysDescr (all must hold), and the fields set when they do."""

    name: str
    sys_object_id: tuple[int, ...] | None
    sys_descr: re.Pattern[str] | None
    vendor: str = ""
    device_type: str = ""
    os: str = ""
    os_version: re.Pattern[str] | None = None  # its `version` group, searched in sysDescr
    model: re.Pattern[str] | None = None  # its `model` group, searched in sysDescr

    @classmethod
    def from_dict(cls, data: dict[str, Any], origin: str) -> Rule:
        """The rule a YAML/JSON mapping describes; ValueError naming `origin`, the rule and the field at fault."""
        if not isinstance(data, dict):
            raise ValueError(f"{origin}: a rule is a mapping of fields, not {type(data).__name__}")
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"{origin}: a rule needs a name")

        def fail(field: str, why: str) -> ValueError:
            return ValueError(f"{origin}: rule {quote(name)}: {field}: {why}")

        if unknown := sorted(set(data) - _KEYS):
            raise fail(unknown[0], f"unknown field (fields: {', '.join(sorted(_KEYS))})")
        text = {key: _text(data.get(key), key, fail) for key in _KEYS - {"name"}}
        if not text["sys_object_id"] and not text["sys_descr"]:
            raise fail("sys_object_id", "a rule needs a condition: sys_object_id, sys_descr or both")
        if not any(text[key] for key in _SETS):
            raise fail("vendor", f"a rule must set at least one of {', '.join(_SETS)}")
        if text["device_type"] and text["device_type"] not in DeviceType.values:
            raise fail("device_type", f"{quote(text['device_type'])} is not one of {', '.join(DeviceType.values)}")
        try:
            prefix = parse_oid(text["sys_object_id"]) if text["sys_object_id"] else None
        except ValueError as exc:
            raise fail("sys_object_id", str(exc)) from None
        return cls(name=name, sys_object_id=prefix, sys_descr=_regex(text, "sys_descr", fail),
                   vendor=text["vendor"], device_type=text["device_type"], os=text["os"],
                   os_version=_regex(text, "os_version", fail), model=_regex(text, "model", fail))

    def applies(self, arcs: tuple[int, ...], sys_descr: str) -> bool:
        """True if the sysObjectID `arcs` lie under this rule's prefix and its sysDescr regex is found."""
        return ((self.sys_object_id is None or arcs[:len(self.sys_object_id)] == self.sys_object_id)
                and (self.sys_descr is None or self.sys_descr.search(sys_descr) is not None))

    def values(self, sys_descr: str) -> dict[str, str]:
        """The fields this rule sets for this sysDescr; empty where it has none or its regex finds nothing."""
        return {"vendor": self.vendor, "device_type": self.device_type, "os": self.os,
                "os_version": _found(self.os_version, _GROUPS["os_version"], sys_descr),
                "model": _found(self.model, _GROUPS["model"], sys_descr)}


@dataclass(frozen=True)
class Classification:
    """What classify() tells of a device."""

    vendor: str  # "" if the enterprise number is unknown or missing
    enterprise: int | None
    device_type: str  # a DeviceType value; `other` when no rule tells
    os: str
    os_version: str
    model: str
    matched: tuple[str, ...]  # names of the rules that set a field, in order


def classify(sys_object_id: str, sys_descr: str, rules: Sequence[Rule] | None = None) -> Classification:
    """Classify a device by `rules` (default: the shipped ones); an empty or malformed input just tells less."""
    arcs, descr = _arcs(sys_object_id), sys_descr or ""
    found: dict[str, str] = {}
    matched: list[str] = []
    for rule in shipped_rules() if rules is None else rules:
        if rule.applies(arcs, descr):
            new = {field: value for field, value in rule.values(descr).items() if value and field not in found}
            if new:
                found.update(new)
                matched.append(rule.name)
    enterprise = _enterprise(arcs)
    return Classification(
        vendor=found.get("vendor") or vendor_name(enterprise), enterprise=enterprise,
        device_type=found.get("device_type", DeviceType.OTHER.value), os=found.get("os", ""),
        os_version=found.get("os_version", ""), model=found.get("model", ""), matched=tuple(matched))


def enterprise_number(sys_object_id: str) -> int | None:
    """The arc after 1.3.6.1.4.1 in a sysObjectID; None if it is not under enterprises or not an OID."""
    return _enterprise(_arcs(sys_object_id))


def enterprise_name(number: int) -> str:
    """The organization IANA registered this Private Enterprise Number to; "" if none."""
    return _enterprises().get(number, "")


def vendor_name(number: int | None) -> str:
    """The name shown for an enterprise number: classifier.yaml's friendly one, else IANA's; "" if neither."""
    return "" if number is None else _shipped()[0].get(number) or enterprise_name(number)


def rules() -> tuple[Rule, ...]:
    """The operator's rules (the YAML file DISCOVERY_CLASSIFIER_FILE names, same form), tried before the shipped
    ones. ValueError naming the file and rule when it is broken."""
    return (_rules_of(Path(settings.DISCOVERY_CLASSIFIER_FILE)) if settings.DISCOVERY_CLASSIFIER_FILE else ()
            ) + shipped_rules()


def shipped_rules() -> tuple[Rule, ...]:
    """The rules of data/classifier.yaml, in their order."""
    return _shipped()[1]


@cache
def _shipped() -> tuple[dict[int, str], tuple[Rule, ...]]:
    path = DATA / "classifier.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {int(number): str(name) for number, name in data["vendors"].items()}, _rules_of(path)


def _rules_of(path: Path) -> tuple[Rule, ...]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise ValueError(f"{path}: expected a mapping with a list of `rules`")
    return tuple(Rule.from_dict(rule, f"{path.name}, rule {i}") for i, rule in enumerate(data["rules"], 1))


@cache
def _enterprises() -> dict[int, str]:
    """number -> organization, from IANA's registry (see data/README.md)."""
    with gzip.open(DATA / "enterprise-numbers.tsv.gz", "rt", encoding="utf-8") as lines:
        return {int(number): name for number, name in (line.rstrip("\n").split("\t", 1) for line in lines)}


def _arcs(sys_object_id: str) -> tuple[int, ...]:
    try:
        return parse_oid((sys_object_id or "").strip())
    except ValueError:
        return ()


def _enterprise(arcs: tuple[int, ...]) -> int | None:
    return arcs[len(ENTERPRISES)] if len(arcs) > len(ENTERPRISES) and arcs[:len(ENTERPRISES)] == ENTERPRISES else None


def _text(value: Any, field: str, fail: Callable[[str, str], ValueError]) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise fail(field, f"must be a string{' (quote the OID)' if field == 'sys_object_id' else ''}, "
                          f"not {type(value).__name__}")
    return value


def _regex(text: dict[str, str], field: str, fail: Callable[[str, str], ValueError]) -> re.Pattern[str] | None:
    """The case-insensitive regex in text[field], None if empty; it must have the named group the field needs."""
    if not text[field]:
        return None
    try:
        pattern = re.compile(text[field], re.IGNORECASE)
    except re.error as exc:
        raise fail(field, f"bad regex: {exc}") from None
    group = _GROUPS.get(field)
    if group and group not in pattern.groupindex:
        raise fail(field, f"the regex needs a named group (?P<{group}>...)")
    return pattern


def _found(pattern: re.Pattern[str] | None, group: str, sys_descr: str) -> str:
    match = pattern.search(sys_descr) if pattern else None
    return (match.group(group) or "").strip() if match else ""

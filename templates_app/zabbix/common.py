"""What the Zabbix importer's parts share: format constants, reading an export, small value translations."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import yaml

from snmp.oids import parse_oid
from wardsite import yaml_input
from wardsite.durations import UNITS, parse_duration
from wardsite.text import quote

SUPPORTED_VERSIONS = ("6.0", "6.2", "6.4", "7.0", "7.2", "7.4")
KEY_PREFIX = "zabbix-"

SEVERITIES = {"DISASTER": "critical", "HIGH": "high", "AVERAGE": "medium", "WARNING": "low", "INFO": "info",
              "NOT_CLASSIFIED": "info"}
VALUE_TYPES = {"FLOAT": "float", "UNSIGNED": "integer", "CHAR": "string", "TEXT": "string"}
# Preprocessing that changes no value we store: storage throttling, and what to do when the agent errs.
IGNORED_STEPS = {"DISCARD_UNCHANGED", "DISCARD_UNCHANGED_HEARTBEAT", "CHECK_NOT_SUPPORTED", "SNMP_GET_VALUE"}
# IF-MIB columns an interface discovery's macros may name, and the interface filter field each one is.
IF_COLUMNS = ("1.3.6.1.2.1.2.2.1.", "1.3.6.1.2.1.31.1.1.1.")
IF_FIELDS = {"1.3.6.1.2.1.2.2.1.3": "if_type", "1.3.6.1.2.1.2.2.1.7": "admin_status",
             "1.3.6.1.2.1.2.2.1.8": "oper_status", "1.3.6.1.2.1.31.1.1.1.1": "name",
             "1.3.6.1.2.1.2.2.1.2": "descr", "1.3.6.1.2.1.31.1.1.1.18": "alias"}
# Filter values Zabbix templates use to mean "no filter".
NO_OP_FILTERS = {("matches", ""), ("matches", ".*"), ("matches", "^.*"), ("matches", "^.*$"),
                 ("not_matches", "CHANGE_IF_NEEDED")}
# XML elements that hold a list (<items><item>...</item></items>); every other element is a mapping or a text.
XML_LISTS = frozenset({
    "groups", "template_groups", "host_groups", "templates", "items", "discovery_rules", "item_prototypes",
    "trigger_prototypes", "graph_prototypes", "host_prototypes", "triggers", "graphs", "graph_items", "dashboards",
    "pages", "widgets", "fields", "valuemaps", "mappings", "macros", "tags", "preprocessing", "parameters",
    "conditions", "dependencies", "lld_macro_paths", "overrides", "operations", "httptests", "steps", "headers",
    "query_fields", "variables", "group_links", "group_prototypes", "interfaces",
})

LLD_MACRO = re.compile(r"\{#[A-Z0-9_.]+\}")
USER_MACRO = re.compile(r'\{\$([A-Z0-9_.]+)(?::(?:"((?:[^"\\]|\\.)*)"|([^}]*)))?\}')
NUMBER = re.compile(r"(\d+(?:\.\d+)?)([KMGTsmhdw]?)(?![\w.])")
NUMBER_SUFFIXES = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4, **UNITS}


class ZabbixImportError(ValueError):
    """The text is not a Zabbix template export this importer reads."""


@dataclass
class ZabbixImport:
    """One template of an export: our document, and what could not be translated ("what: why")."""

    template: str
    document: dict
    skipped: list[str] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)  # Zabbix item key -> our item key, for the items imported


class _Skip(Exception):
    """This part of the template has no equivalent; the message says why."""


# --- reading the export -------------------------------------------------------------------------------------------

def read_export(text: str, *, filename: str = "") -> dict:
    """The `zabbix_export` mapping of an export, checked to hold templates in a format version we read."""
    where = f"{filename}: " if filename else ""
    if not isinstance(text, str) or not text.strip():
        raise ZabbixImportError(f"{where}empty input: expected a Zabbix template export (YAML, XML or JSON)")
    try:
        data = _xml_data(text) if text.lstrip("\ufeff \t\r\n").startswith("<") else yaml_input.load(text)
    except ET.ParseError as exc:
        raise ZabbixImportError(f"{where}malformed XML: {exc}") from None
    except yaml.YAMLError as exc:
        raise ZabbixImportError(f"{where}malformed YAML: {' '.join(str(exc).split())}") from None
    export = data.get("zabbix_export") if isinstance(data, dict) else None
    if not isinstance(export, dict):
        raise ZabbixImportError(f"{where}not a Zabbix export: no zabbix_export at the top")
    version = str(export.get("version", ""))
    if version not in SUPPORTED_VERSIONS:
        raise ZabbixImportError(f"{where}Zabbix export format {version or '(none)'} is not supported: "
                                f"export from Zabbix {', '.join(SUPPORTED_VERSIONS)}")
    templates = export.get("templates")
    if not isinstance(templates, list) or not templates:
        raise ZabbixImportError(f"{where}the export holds no templates (export templates, not hosts)")
    for i, template in enumerate(templates):
        if not isinstance(template, dict) or not _text(template.get("template")):
            raise ZabbixImportError(f"{where}templates[{i}] has no template name")
    return export


def _xml_data(text: str) -> dict:
    root = ET.fromstring(text)
    return {root.tag: _xml_value(root)}


def _xml_value(element: ET.Element) -> Any:
    if element.tag in XML_LISTS:
        return [_xml_value(child) for child in element]
    if len(element):
        return {child.tag: _xml_value(child) for child in element}
    return element.text or ""


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _graph_host(graph: dict) -> str:
    items = graph.get("graph_items") or [{}]
    return _text((items[0].get("item") or {}).get("host"))


# --- small translations ---------------------------------------------------------------------------------------------

def _numeric_oid(text: str) -> str:
    """A numeric OID without a leading dot, or _Skip saying why it is not one."""
    try:
        return ".".join(map(str, parse_oid(text.strip())))
    except ValueError:
        raise _Skip(f"SNMP OID {quote(text)} is not numeric (MIB names need MIB files)") from None


def _zabbix_number(text: str, what: str = "") -> Decimal:
    """'90' -> 90, '10m' -> 600, '1K' -> 1024 (Zabbix's suffixes); _Skip for anything else."""
    match = NUMBER.fullmatch(text.strip().lstrip("-"))
    if not match:
        raise _Skip(f"{what} = {quote(text)} is not a number" if what else f"{quote(text)} is not a number")
    value = Decimal(match[1]) * NUMBER_SUFFIXES[match[2]]
    return -value if text.strip().startswith("-") else value


def _seconds(text: str, what: str) -> int:
    """A Zabbix time in seconds: a bare number is seconds, and 0 is allowed (it means something to Zabbix)."""
    text = text.strip()
    try:
        return parse_duration(f"{text}s" if text.isdecimal() else text, minimum=0)
    except ValueError:
        raise _Skip(f"{what} {quote(text)} is not a time like 30s, 5m, 1h") from None


def _number_text(value: Decimal) -> str:
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def _snake(text: str) -> str:
    """'system.cpu.util' -> 'system_cpu_util', 'cpmCPUTotal5minRev' -> 'cpm_cpu_total5min_rev'; macros dropped."""
    text = re.sub(r"\{[#$][^}]*\}", " ", text)
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", text)
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def document_key(template_name: str) -> str:
    """Our document key for a Zabbix template: 'Cisco IOS by SNMP' -> 'zabbix-cisco-ios-by-snmp'."""
    slug = re.sub(r"[^a-z0-9]+", "-", template_name.lower()).strip("-")
    return (KEY_PREFIX + slug)[:100].rstrip("-")


def _without_row_prefix(name: str) -> str:
    """'{#SNMPVALUE}: Free memory' -> 'Free memory': the row is our label, not part of the name."""
    kept = [part for part in name.split(": ") if not LLD_MACRO.search(part)]
    return ": ".join(kept) if kept else name


class _Macros:
    """The template's user macros; {$NAME:"context"} falls back to {$NAME} as in Zabbix."""

    def __init__(self, entries: list[dict]) -> None:
        self.values: dict[tuple[str, str | None], str] = {}
        for entry in entries:
            match = USER_MACRO.fullmatch(_text(entry.get("macro")).strip())
            if match:
                context = match[2] if match[2] is not None else match[3]
                self.values[match[1], _unescape(context) if context is not None else None] = _text(entry.get("value"))

    def value(self, macro: str) -> str:
        match = USER_MACRO.fullmatch(macro)
        if not match:
            raise _Skip(f"cannot read the macro {macro}")
        name = match[1]
        context = match[2] if match[2] is not None else match[3]
        context = _unescape(context) if context is not None else None
        if context is not None and LLD_MACRO.search(context):
            if any(n == name and c is not None for n, c in self.values):
                raise _Skip(f"{macro} has its own value for some discovered rows")
            context = None
        for key in ((name, context), (name, None)):
            if key in self.values:
                return self.values[key]
        raise _Skip(f"macro {{${name}}} has no value in the template")

    def resolve(self, text: str) -> str:
        return USER_MACRO.sub(lambda match: self.value(match[0]), text)


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)

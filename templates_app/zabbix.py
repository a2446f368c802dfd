"""Zabbix template exports (6.0 to 7.4, YAML, XML or JSON from `configuration.export`) -> our template documents.

`convert(text)` returns, per template in the export, a `wardflux-template/1` document (docs/templates.md) and
`skipped`: everything it could not translate, each "what: why". What translates:

- SNMP items with numeric OIDs: SNMP_AGENT items (`snmp_oid` a numeric OID or `get[OID]`) and DEPENDENT items
  reading one value of a `walk[...]` master item (SNMP_WALK_VALUE, the 6.4+ form). Value types FLOAT/UNSIGNED/
  CHAR/TEXT, "Change per second" (-> counter), units, delay (user macros resolved from the template's macros),
  status, and value maps that map raw values to numbers (the usual number -> name maps are display only).
  A MULTIPLIER step has no equivalent: raw values are stored without its units, and trigger thresholds on the
  item are divided by the multiplier so that triggers still mean the same.
- LLD rules over SNMP tables: 6.0 `discovery[{#MACRO},OID,...]` and 6.4+ `walk[...]` master + SNMP_WALK_TO_JSON.
  Rules over IF-MIB columns become `discovery.interfaces`, others `discovery.table` (rows = the first column's
  indexes = {#SNMPINDEX}, the row's name from the column of the first {#MACRO} in the prototypes' names);
  regex filters on discovered columns become our filters.
- Triggers and trigger prototypes whose expressions fit our subset (`_Translator`): last/avg/min/max/sum/count/
  rate of an item compared with a number, nodata(...)=1, and/or; {$MACRO} thresholds resolved; Zabbix's
  "min(x,5m)>N" (above N for all of 5m) becomes `last(x) > N` with `for: 5m`, likewise "max(x,5m)<N".

Tags, histories, trends, item descriptions and inventory links are metadata without an equivalent and are left
out silently; everything else that is left out is listed in `skipped`.

XML is read with xml.etree.ElementTree: exports are operator input we trust, and its expat parser neither
fetches external entities nor (expat >= 2.4.1) lets internal ones expand without bound.
"""
from __future__ import annotations

import copy
import operator
import re
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, DivisionByZero, InvalidOperation
from typing import Any

import yaml

from snmp.oids import parse_oid
from snmp.validators import RESERVED_METRICS, RESERVED_PREFIXES
from templates_app.document import DURATION_SECONDS, FORMAT, MAX_INTERVAL

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
NUMBER_SUFFIXES = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4, **DURATION_SECONDS}


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


def convert(text: str, *, filename: str = "") -> list[ZabbixImport]:
    """Our documents, one per template of a Zabbix export; ZabbixImportError if the text is not one we read."""
    export = read_export(text, filename=filename)
    try:
        return _convert(export)
    except (AttributeError, TypeError) as exc:  # hand-edited: a list where Zabbix writes a mapping, or the like
        where = f"{filename}: " if filename else ""
        raise ZabbixImportError(f"{where}the export is not laid out as Zabbix exports are ({exc})") from None


def _convert(export: dict) -> list[ZabbixImport]:
    names = [template["template"] for template in export["templates"]]
    by_template: dict[str, list[dict]] = {}
    for trigger in export.get("triggers") or []:  # multi-item triggers: under the first template of ours they name
        hosts = [h for h in re.findall(r"\(\s*/([^/]*)/", _text(trigger.get("expression"))) if h in names]
        by_template.setdefault(hosts[0] if hosts else names[0], []).append(trigger)
    graphs = Counter(_graph_host(graph) for graph in export.get("graphs") or [])
    return [_TemplateConverter(template, version=str(export["version"]), triggers=by_template.get(name, []),
                               graphs=graphs[name]).convert()
            for name, template in zip(names, export["templates"])]


# --- reading the export -------------------------------------------------------------------------------------------

def read_export(text: str, *, filename: str = "") -> dict:
    """The `zabbix_export` mapping of an export, checked to hold templates in a format version we read."""
    where = f"{filename}: " if filename else ""
    if not isinstance(text, str) or not text.strip():
        raise ZabbixImportError(f"{where}empty input: expected a Zabbix template export (YAML, XML or JSON)")
    try:
        data = _xml_data(text) if text.lstrip("\ufeff \t\r\n").startswith("<") else yaml.safe_load(text)
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
        raise _Skip(f"SNMP OID {text!r} is not numeric (MIB names need MIB files)") from None


def _zabbix_number(text: str, what: str = "") -> Decimal:
    """'90' -> 90, '10m' -> 600, '1K' -> 1024 (Zabbix's suffixes); _Skip for anything else."""
    match = NUMBER.fullmatch(text.strip().lstrip("-"))
    if not match:
        raise _Skip(f"{what} = {text!r} is not a number" if what else f"{text!r} is not a number")
    value = Decimal(match[1]) * NUMBER_SUFFIXES[match[2]]
    return -value if text.strip().startswith("-") else value


def _seconds(text: str, what: str) -> int:
    match = re.fullmatch(r"(\d+)([smhdw]?)", text.strip())
    if not match:
        raise _Skip(f"{what} {text!r} is not a time like 30s, 5m, 1h")
    return int(match[1]) * NUMBER_SUFFIXES[match[2]]


def _duration_text(seconds: int) -> str:
    """Seconds as our documents write durations: 300 -> '5m'."""
    for unit in ("w", "d", "h", "m"):
        if seconds and seconds % DURATION_SECONDS[unit] == 0:
            return f"{seconds // DURATION_SECONDS[unit]}{unit}"
    return f"{seconds}s"


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


# --- one template ---------------------------------------------------------------------------------------------------

@dataclass
class _Table:
    """What an LLD rule walks: its {#MACRO} -> column OIDs (the first column gives the rows)."""

    columns: dict[str, str]

    @property
    def oid(self) -> str:
        return next(iter(self.columns.values()))

    @property
    def interfaces(self) -> bool:
        return all(oid.startswith(IF_COLUMNS) for oid in self.columns.values())


@dataclass
class _Draft:
    """One item of our document before its metric key is chosen (keys must be unique across the document)."""

    zabbix_key: str
    name: str
    oid: str
    interval: int
    value_type: str
    units: str = ""
    value_map: dict[str, float] = field(default_factory=dict)
    enabled: bool = True
    discovery: dict | None = None
    rule: str | None = None  # the LLD rule's key for item prototypes
    scale: Decimal | None = None  # the MULTIPLIER Zabbix applies and we do not
    row_scale: str = ""  # a MULTIPLIER that is an LLD macro ({#ALLOC_UNITS}): differs per row, we do not apply it
    notes: list[str] = field(default_factory=list)  # what was left out of it, for `skipped` once it is imported
    metric: str = ""

    def document(self) -> dict:
        doc: dict[str, Any] = {"key": self.metric, "name": self.name, "oid": self.oid, "interval": self.interval,
                               "value_type": self.value_type}
        if self.units:
            doc["units"] = self.units
        if self.value_map:
            doc["value_map"] = self.value_map
        if not self.enabled:
            doc["enabled"] = False
        if self.discovery is not None:
            doc["discovery"] = self.discovery
        return doc


class _TemplateConverter:
    def __init__(self, template: dict, *, version: str, triggers: list[dict], graphs: int) -> None:
        self.template = template
        self.name = _text(template["template"])
        self.version = version
        self.export_triggers = triggers
        self.graphs = graphs
        self.skipped: list[str] = []
        self.macros = _Macros(template.get("macros") or [])
        self.valuemaps = {_text(v.get("name")): v.get("mappings") or [] for v in template.get("valuemaps") or []}
        self.zabbix_items = {_text(item.get("key")): item for item in template.get("items") or []}
        self.drafts: list[_Draft] = []
        self.refs: dict[str, _Draft | str] = {}  # Zabbix item key -> our item, or why it was not imported
        self.walks = [key for key, item in self.zabbix_items.items()  # imported through the items that read them
                      if _text(item.get("type")) == "SNMP_AGENT" and _text(item.get("snmp_oid")).startswith("walk[")]
        self.used_walks: set[str] = set()
        self.skipped_rules: set[str] = set()

    def convert(self) -> ZabbixImport:
        for item in self.template.get("items") or []:
            self._item(item)
        for rule in self.template.get("discovery_rules") or []:
            self._rule(rule)
        for key in self.walks:
            if key not in self.used_walks:
                self.skipped.append(f"item {key}: walk[] item that no imported item reads")
        _assign_metrics(self.drafts)
        triggers = self._triggers()
        self._note_presentation()
        return ZabbixImport(self.name, self._document(triggers), self.skipped,
                            {draft.zabbix_key: draft.metric for draft in self.drafts})

    def _document(self, triggers: list[dict]) -> dict:
        description = _text(self.template.get("description")).replace("\r\n", "\n").strip()
        origin = f'Imported from the Zabbix template "{self.name}" (export format {self.version}).'
        doc: dict[str, Any] = {
            "format": FORMAT, "key": document_key(self.name),
            "name": (_text(self.template.get("name")) or self.name)[:200], "version": 1,
        }
        vendor = self.template.get("vendor")
        if isinstance(vendor, dict) and _text(vendor.get("name")):
            doc["vendor"] = _text(vendor["name"])[:100]
        doc["description"] = f"{description[:9_800]}\n\n{origin}" if description else origin
        includes = [document_key(_text(link.get("name"))) for link in self.template.get("templates") or []]
        if includes:
            doc["includes"] = includes
        doc["items"] = [draft.document() for draft in self.drafts]
        if triggers:
            doc["triggers"] = triggers
        return doc

    # --- items ---

    def _item(self, item: dict) -> None:
        key = _text(item.get("key"))
        what = f"item {key}"
        if key in self.walks:
            self.refs[key] = "a walk[] item, read through the items that depend on it"
            return
        try:
            oid, interval_source, steps = self._item_source(item)
            draft = self._draft(item, what, oid=oid, interval_source=interval_source, steps=steps)
        except _Skip as skip:
            self._skip_item(key, what, str(skip))
            return
        self._add(draft, what)

    def _item_source(self, item: dict) -> tuple[str, dict, list[dict]]:
        """(OID, the item whose delay applies, preprocessing left to translate) of a scalar SNMP item."""
        steps = item.get("preprocessing") or []
        kind = _text(item.get("type")) or "ZABBIX_PASSIVE"
        if kind == "SNMP_AGENT":
            raw = self.macros.resolve(_text(item.get("snmp_oid")).strip())
            if raw.startswith("discovery["):
                raise _Skip("discovery[] as an item (its value is the discovery's JSON) has no equivalent")
            return self._plain_oid(raw), item, steps
        if kind == "DEPENDENT":
            master, oid = self._walk_value(item)
            if LLD_MACRO.search(oid):
                raise _Skip(f"reads {oid} outside an LLD rule")
            return _numeric_oid(oid), master, steps[1:]
        raise _Skip(f"not an SNMP item (type {kind})")

    def _plain_oid(self, raw: str) -> str:
        match = re.fullmatch(r"get\[\s*([^,\]]+?)\s*\]", raw)
        if match:
            raw = match[1]
        if "[" in raw:
            raise _Skip(f"SNMP OID {raw} (dynamic index or several OIDs) has no equivalent")
        return _numeric_oid(raw)

    def _walk_value(self, item: dict) -> tuple[dict, str]:
        """(walk[] master item, OID) of a dependent item that reads one value of a walk."""
        master_key = _text((item.get("master_item") or {}).get("key"))
        master = self.zabbix_items.get(master_key)
        steps = item.get("preprocessing") or []
        if master is None or master_key not in self.walks or not steps or steps[0].get("type") != "SNMP_WALK_VALUE":
            raise _Skip(f"depends on item {master_key} without reading an SNMP walk value from it (no equivalent)")
        self.used_walks.add(master_key)
        parameters = steps[0].get("parameters") or []
        if len(parameters) > 1 and _text(parameters[1]) == "3":
            raise _Skip("the BITS-to-integer conversion of its walk value has no equivalent")
        return master, self.macros.resolve(_text(parameters[0] if parameters else ""))

    def _draft(self, item: dict, what: str, *, oid: str, interval_source: dict, steps: list[dict],
               rule: str | None = None, discovery: dict | None = None, enabled: bool = True) -> _Draft:
        zabbix_type = _text(item.get("value_type")) or "UNSIGNED"
        if zabbix_type not in VALUE_TYPES:
            raise _Skip(f"value type {zabbix_type} has no equivalent")
        notes: list[str] = []
        interval = self._interval(interval_source, what, notes)
        value_type, scale, row_scale = VALUE_TYPES[zabbix_type], None, ""
        for step in steps:
            step_type = _text(step.get("type"))
            if step_type == "CHANGE_PER_SECOND":
                value_type = "counter"
            elif step_type == "MULTIPLIER":
                factor = self._multiplier(step, per_row=rule is not None)
                if isinstance(factor, str):
                    row_scale = factor
                else:
                    scale = (scale or Decimal(1)) * factor
            elif step_type not in IGNORED_STEPS:
                raise _Skip(f"preprocessing {step_type} has no equivalent")
        units = _text(item.get("units")).lstrip("!")
        dropped = f', and without the units "{units}"' if units else ""
        if row_scale:
            notes.append(f"{what}: multiplier {row_scale} (per discovered row) has no equivalent: raw values "
                         f"are stored{dropped}; triggers on it are left out")
            units = ""
        elif scale is not None:
            notes.append(f"{what}: multiplier {_number_text(scale)} has no equivalent: raw values are stored"
                         f"{dropped}; trigger thresholds on it are divided by {_number_text(scale)}")
            units = ""
        elif len(units) > 20:
            notes.append(f"{what}: units {units!r} are longer than 20 characters and left out")
            units = ""
        value_map = self._value_map(item, notes)
        if value_map and value_type == "string":
            value_type = "float"
        name = _text(item.get("name")) or _text(item.get("key"))
        enabled = enabled and _text(item.get("status")) != "DISABLED" and _text(item.get("discover")) != "NO_DISCOVER"
        return _Draft(
            zabbix_key=_text(item.get("key")), name=(_without_row_prefix(name) if rule else name)[:255], oid=oid,
            interval=interval, value_type=value_type, units=units, value_map=value_map, enabled=enabled,
            discovery=discovery, rule=rule, scale=scale, row_scale=row_scale, notes=notes,
        )

    def _multiplier(self, step: dict, *, per_row: bool) -> Decimal | str:
        """The step's factor, or the LLD macro that gives it per row."""
        parameters = step.get("parameters") or [""]
        text = self.macros.resolve(_text(parameters[0])).strip()
        if per_row and LLD_MACRO.fullmatch(text):
            return text
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise _Skip(f"multiplier {text!r} is not a number") from None
        if not value:
            raise _Skip("multiplier 0 has no equivalent")
        return value

    def _interval(self, item: dict, what: str, notes: list[str]) -> int:
        text = self.macros.resolve(_text(item.get("delay")) or "1m")
        text, _, custom = text.partition(";")
        seconds = _seconds(text, "delay")
        if not seconds:
            raise _Skip("delay 0 (custom intervals only) has no equivalent")
        if custom:
            notes.append(f"{what}: custom intervals {custom!r} have no equivalent; polled every {text}")
        if seconds > MAX_INTERVAL:
            notes.append(f"{what}: delay {text} is longer than 1d; polled daily")
        return min(seconds, MAX_INTERVAL)

    def _value_map(self, item: dict, notes: list[str]) -> dict[str, float]:
        """A value map whose values are numbers; maps to names are display only (noted once per map)."""
        name = _text((item.get("valuemap") or {}).get("name"))
        if not name:
            return {}
        mappings = self.valuemaps.get(name, [])
        try:
            if not mappings or any(_text(m.get("type")) not in ("", "EQUAL") for m in mappings):
                raise InvalidOperation
            return {_text(m.get("value")): float(Decimal(_text(m.get("newvalue")))) for m in mappings}
        except InvalidOperation:
            notes.append(f'value map "{name}": maps raw values to names for display (no equivalent); '
                         "the raw values are stored")
            return {}

    def _add(self, draft: _Draft, what: str) -> None:
        for other in self.drafts:
            if other.oid == draft.oid and (other.discovery is None) == (draft.discovery is None):
                self._skip_item(draft.zabbix_key, what, f"polls the same OID {draft.oid} as item {other.zabbix_key}")
                return
        self.drafts.append(draft)
        self.refs[draft.zabbix_key] = draft
        self.skipped += [note for note in draft.notes if note not in self.skipped]

    def _skip_item(self, key: str, what: str, why: str) -> None:
        self.skipped.append(f"{what}: {why}")
        self.refs[key] = why

    # --- discovery ---

    def _rule(self, rule: dict) -> None:
        key = _text(rule.get("key"))
        what = f"LLD rule {key}"
        prototypes = rule.get("item_prototypes") or []
        try:
            table = self._table(rule)
        except _Skip as skip:
            triggers = sum(len(p.get("trigger_prototypes") or []) for p in prototypes)
            triggers += len(rule.get("trigger_prototypes") or [])
            self.skipped.append(f"{what}: {skip}; its {_count(len(prototypes), 'item prototype')} and "
                                f"{_count(triggers, 'trigger prototype')} are left out with it")
            self.skipped_rules.add(key)
            for prototype in prototypes:
                self.refs[_text(prototype.get("key"))] = f"its LLD rule {key} was not imported"
            return
        discovery = self._discovery(rule, table, prototypes, what)
        if rule.get("overrides"):
            self.skipped.append(f"{what}: {_count(len(rule['overrides']), 'override')} left out (no equivalent)")
        enabled = _text(rule.get("status")) != "DISABLED"
        for prototype in prototypes:
            self._prototype(prototype, key, discovery, enabled)

    def _table(self, rule: dict) -> _Table:
        kind = _text(rule.get("type")) or "ZABBIX_PASSIVE"
        steps = rule.get("preprocessing") or []
        if kind == "SNMP_AGENT":
            raw = self.macros.resolve(_text(rule.get("snmp_oid")).strip())
            if raw.startswith("discovery["):
                columns = self._discovery_columns(raw)
            elif raw.startswith("walk["):
                columns = self._walk_columns(steps)
            else:
                raise _Skip(f"SNMP OID {raw} is not discovery[...] or walk[...]")
        elif kind == "DEPENDENT":
            master_key = _text((rule.get("master_item") or {}).get("key"))
            if master_key not in self.walks:
                raise _Skip(f"depends on item {master_key}, which is not an SNMP walk[] (no equivalent)")
            self.used_walks.add(master_key)
            columns = self._walk_columns(steps)
        else:
            raise _Skip(f"not an SNMP discovery (type {kind})")
        for step in steps:
            if _text(step.get("type")) not in ("SNMP_WALK_TO_JSON", *IGNORED_STEPS):
                self.skipped.append(f"LLD rule {_text(rule.get('key'))}: preprocessing {step.get('type')} has no "
                                    "equivalent (rows and macros are taken as walked)")
        return _Table(columns)

    def _discovery_columns(self, raw: str) -> dict[str, str]:
        parts = [part.strip() for part in raw[len("discovery["):].rstrip("]").split(",")]
        if len(parts) % 2 or not parts[0]:
            raise _Skip(f"cannot read {raw}")
        return self._columns(parts, raw)

    def _walk_columns(self, steps: list[dict]) -> dict[str, str]:
        for step in steps:
            if step.get("type") == "SNMP_WALK_TO_JSON":
                parameters = [self.macros.resolve(_text(p)).strip() for p in step.get("parameters") or []]
                if len(parameters) % 3 or not parameters:
                    raise _Skip("cannot read its SNMP_WALK_TO_JSON parameters")
                triples = [parameters[i:i + 3] for i in range(0, len(parameters), 3)]
                return self._columns([p for macro, oid, _ in triples for p in (macro, oid)], "SNMP_WALK_TO_JSON")
        raise _Skip("a walk[] discovery without SNMP_WALK_TO_JSON preprocessing")

    def _columns(self, pairs: list[str], source: str) -> dict[str, str]:
        columns = {}
        for macro, oid in zip(pairs[::2], pairs[1::2]):
            if not LLD_MACRO.fullmatch(macro):
                raise _Skip(f"{macro!r} in {source} is not an LLD macro")
            columns[macro] = _numeric_oid(oid)
        return columns

    def _discovery(self, rule: dict, table: _Table, prototypes: list[dict], what: str) -> dict:
        discovery: dict[str, Any] = {"interfaces": True}
        if not table.interfaces:
            discovery = {"table": table.oid, "label": _label_name(_text(rule.get("key")))}
            names = [_text(p.get("name")) for p in prototypes]
            naming = [m for name in names for m in LLD_MACRO.findall(name) if m in table.columns]
            if naming:
                discovery["label_oid"] = table.columns[naming[0]]
        filters = self._filters(rule.get("filter") or {}, table, what)
        if filters:
            discovery["filters"] = filters
        return discovery

    def _filters(self, data: dict, table: _Table, what: str) -> list[dict]:
        conditions = data.get("conditions") or []
        evaltype = _text(data.get("evaltype")) or "AND_OR"
        if evaltype == "AND" or (evaltype == "FORMULA" and not re.search(r"\b(or|not)\b", _text(data.get("formula")))):
            clauses = [[condition] for condition in conditions]
        elif evaltype == "AND_OR":  # conditions on the same macro are or-ed, the groups and-ed
            groups: dict[str, list[dict]] = {}
            for condition in conditions:
                groups.setdefault(_text(condition.get("macro")), []).append(condition)
            clauses = list(groups.values())
        elif evaltype == "OR" and conditions:
            clauses = [conditions]
        else:
            self.skipped.append(f"{what}: filter formula {data.get('formula')!r} has no equivalent; rows are kept")
            return []
        filters = []
        for clause in clauses:
            try:
                translated = self._filter(clause, table)
            except _Skip as skip:
                self.skipped.append(f"{what}: filter {_clause_text(clause)}: {skip}; rows are not filtered on it")
                continue
            if translated:
                filters.append(translated)
        return filters

    def _filter(self, clause: list[dict], table: _Table) -> dict | None:
        """One filter for conditions or-ed together; None when it keeps every row."""
        macros = {_text(c.get("macro")) for c in clause}
        operators = {_text(c.get("operator")) or "MATCHES_REGEX" for c in clause}
        if len(clause) > 1 and (len(macros) > 1 or operators != {"MATCHES_REGEX"}):
            raise _Skip("or-ed conditions other than matches on one macro have no equivalent")
        operator = operators.pop()
        if operator not in ("MATCHES_REGEX", "NOT_MATCHES_REGEX"):
            raise _Skip(f"operator {operator} has no equivalent")
        patterns = [self.macros.resolve(_text(c.get("value"))) for c in clause]
        for pattern in patterns:
            if pattern.startswith("@"):
                raise _Skip(f"global regular expression {pattern} has no equivalent")
            try:
                re.compile(pattern)
            except re.error as exc:
                raise _Skip(f"{pattern!r} is not a Python regular expression ({exc})") from None
        op = "matches" if operator == "MATCHES_REGEX" else "not_matches"
        pattern = patterns[0] if len(patterns) == 1 else "|".join(f"(?:{p})" for p in patterns)
        if (op, pattern) in NO_OP_FILTERS:
            return None
        macro = macros.pop()
        if macro not in table.columns:
            raise _Skip(f"{macro} is not a discovered column")
        oid = table.columns[macro]
        if not table.interfaces:
            return {"oid": oid, op: pattern}
        if oid not in IF_FIELDS:
            raise _Skip(f"{macro} ({oid}) is not one of the interface fields {', '.join(IF_FIELDS.values())}")
        return {"field": IF_FIELDS[oid], op: pattern}

    def _prototype(self, prototype: dict, rule: str, discovery: dict, enabled: bool) -> None:
        key = _text(prototype.get("key"))
        what = f"item prototype {key}"
        try:
            column, interval_source, steps = self._prototype_source(prototype)
            draft = self._draft(prototype, what, oid=column, interval_source=interval_source, steps=steps, rule=rule,
                                discovery=copy.deepcopy(discovery), enabled=enabled)
        except _Skip as skip:
            self._skip_item(key, what, str(skip))
            return
        self._add(draft, what)

    def _prototype_source(self, prototype: dict) -> tuple[str, dict, list[dict]]:
        """(column OID, the item whose delay applies, preprocessing left to translate) of an item prototype."""
        steps = prototype.get("preprocessing") or []
        kind = _text(prototype.get("type")) or "ZABBIX_PASSIVE"
        if kind == "SNMP_AGENT":
            raw, source = self.macros.resolve(_text(prototype.get("snmp_oid")).strip()), prototype
            match = re.fullmatch(r"get\[\s*([^,\]]+?)\s*\]", raw)
            raw = match[1] if match else raw
        elif kind == "DEPENDENT":
            source, raw = self._walk_value(prototype)
            steps = steps[1:]
        else:
            raise _Skip(f"not an SNMP item (type {kind})")
        match = re.fullmatch(r"(.+)\.\{#SNMPINDEX\}", raw)
        if not match:
            raise _Skip(f"SNMP OID {raw} is not <column>.{{#SNMPINDEX}} (no equivalent)")
        return _numeric_oid(match[1]), source, steps

    # --- triggers ---

    def _triggers(self) -> list[dict]:
        found: list[tuple[dict, str]] = []
        for item in self.template.get("items") or []:
            found += [(trigger, "trigger") for trigger in item.get("triggers") or []]
        for rule in self.template.get("discovery_rules") or []:
            if _text(rule.get("key")) in self.skipped_rules:
                continue  # noted with the rule
            for prototype in rule.get("item_prototypes") or []:
                found += [(trigger, "trigger prototype") for trigger in prototype.get("trigger_prototypes") or []]
            found += [(trigger, "trigger prototype") for trigger in rule.get("trigger_prototypes") or []]
        found += [(trigger, "trigger") for trigger in self.export_triggers]
        triggers = [t for t in (self._trigger(trigger, kind) for trigger, kind in found) if t is not None]
        names = Counter()
        for trigger in triggers:  # names must be unique in a document; prototypes lost their row prefix
            names[trigger["name"]] += 1
            if names[trigger["name"]] > 1:
                trigger["name"] = f"{trigger['name']} ({names[trigger['name']]})"
        return triggers

    def _trigger(self, trigger: dict, kind: str) -> dict | None:
        name = _text(trigger.get("name"))
        what = f'{kind} "{name}"'
        mode = _text(trigger.get("recovery_mode")) or "EXPRESSION"
        try:
            if _text(trigger.get("status")) == "DISABLED":
                raise _Skip("disabled in Zabbix")
            if mode == "NONE":
                raise _Skip("recovery mode NONE (problems never recover by themselves) has no equivalent")
            translator = _Translator(self)
            problem = translator.condition(_text(trigger.get("expression")))
            recovery = None
            if mode == "RECOVERY_EXPRESSION":
                recovery = translator.condition(_text(trigger.get("recovery_expression")))
            if kind == "trigger prototype" and len(translator.rules - {None}) > 1:
                raise _Skip("refers to items of different LLD rules")
        except _Skip as skip:
            self.skipped.append(f"{what}: {skip}")
            return None
        doc: dict[str, Any] = {"name": (_without_row_prefix(name) if kind == "trigger prototype" else name)[:200]}
        doc["expression"] = problem.for_text or problem.text
        if problem.for_text:
            doc["for"] = problem.for_window
        if recovery is not None:
            doc["recovery_expression"] = recovery.text
        doc["severity"] = SEVERITIES.get(_text(trigger.get("priority")) or "NOT_CLASSIFIED", "info")
        description = _text(trigger.get("description")).replace("\r\n", "\n").strip()
        if description:
            doc["description"] = description[:10_000]
        for dependency in trigger.get("dependencies") or []:
            self.skipped.append(f'{what}: its dependency on "{_text(dependency.get("name"))}" has no equivalent')
        return doc

    def _note_presentation(self) -> None:
        counts = Counter()
        counts["graph"] += self.graphs
        counts["dashboard"] += len(self.template.get("dashboards") or [])
        for rule in self.template.get("discovery_rules") or []:
            counts["graph prototype"] += len(rule.get("graph_prototypes") or [])
            counts["host prototype"] += len(rule.get("host_prototypes") or [])
        for scenario in self.template.get("httptests") or []:
            self.skipped.append(f'web scenario "{_text(scenario.get("name"))}": not an SNMP check')
        shown = [_count(n, kind) for kind, n in counts.items() if n]
        if shown:
            self.skipped.append(f"{', '.join(shown)}: presentation in Zabbix, not imported")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _label_name(rule_key: str) -> str:
    """The label naming a table row, from the LLD rule's key: 'vfs.fs.discovery[snmp]' -> 'vfs_fs'."""
    name = _snake(re.sub(r"\.?discovery$", "", rule_key.split("[", 1)[0]))
    if not name or name[0].isdigit() or name == "index":
        name = f"row_{name}".rstrip("_")
    return name[:50]


def _clause_text(clause: list[dict]) -> str:
    return " or ".join(f"{_text(c.get('macro'))} {(_text(c.get('operator')) or 'MATCHES_REGEX').lower()} "
                       f"{_text(c.get('value'))!r}" for c in clause)


def _assign_metrics(drafts: list[_Draft]) -> None:
    """Metric keys from Zabbix keys: the key's name part, plus its parameters where names alone would clash."""
    bases = [_snake(d.zabbix_key.split("[", 1)[0]) for d in drafts]
    counts = Counter(bases)
    used: set[str] = set()
    for draft, base in zip(drafts, bases):
        name = base if counts[base] == 1 else _snake(draft.zabbix_key)
        if not name or name[0].isdigit() or name.startswith(RESERVED_PREFIXES) or name in RESERVED_METRICS:
            name = f"zbx_{name}".rstrip("_")
        name = name[:96]
        candidate, n = name, 2
        while candidate in used:
            candidate, n = f"{name}_{n}", n + 1
        used.add(candidate)
        draft.metric = candidate


# --- trigger expressions --------------------------------------------------------------------------------------------

FUNCTIONS = {"last", "avg", "min", "max", "sum", "count", "nodata", "rate"}
LINEAR = {"last", "avg", "min", "max", "sum", "rate"}  # scale with the item's value: thresholds follow a multiplier
OURS = {"=": "==", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
FLIPPED = {"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
OPERATIONS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "=": operator.eq,
              "<>": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


class _Parser:
    """Zabbix 6.0+ expressions to a tree: ('num', Decimal) ('macro', text) ('str', text) ('lld', text)
    ('call', name, (host, key) or None, args) ('neg', x) ('not', x) (operator, left, right)."""

    def __init__(self, text: str) -> None:
        self.text, self.pos = text, 0

    def parse(self) -> tuple:
        node = self._or()
        self._space()
        if self.pos < len(self.text):
            raise _Skip(f"cannot read the expression at {self.text[self.pos:self.pos + 30]!r}")
        return node

    def _binary(self, operators: tuple[str, ...], operand) -> tuple:
        node = operand()
        while op := self._operator(operators):
            node = (op, node, operand())
        return node

    def _or(self) -> tuple:
        return self._binary(("or",), self._and)

    def _and(self) -> tuple:
        return self._binary(("and",), self._not)

    def _not(self) -> tuple:
        return ("not", self._not()) if self._operator(("not",)) else self._binary(("=", "<>"), self._relational)

    def _relational(self) -> tuple:
        return self._binary(("<=", ">=", "<", ">"), self._additive)

    def _additive(self) -> tuple:
        return self._binary(("+", "-"), self._multiplicative)

    def _multiplicative(self) -> tuple:
        return self._binary(("*", "/"), self._unary)

    def _unary(self) -> tuple:
        return ("neg", self._unary()) if self._operator(("-",)) else self._primary()

    def _operator(self, operators: tuple[str, ...]) -> str | None:
        self._space()
        for op in operators:
            end = self.pos + len(op)
            if not self.text.startswith(op, self.pos):
                continue
            following = self.text[end:end + 1]
            if op.isalpha() and (following.isalnum() or following == "_"):
                continue
            if op == "<" and following == ">":
                continue
            self.pos = end
            return op
        return None

    def _primary(self) -> tuple:
        self._space()
        if self._take("("):
            node = self._or()
            self._expect(")")
            return node
        for kind, pattern in (("num", NUMBER), ("macro", USER_MACRO), ("str", re.compile(r'"((?:[^"\\]|\\.)*)"')),
                              ("lld", LLD_MACRO)):
            match = pattern.match(self.text, self.pos)
            if match:
                self.pos = match.end()
                if kind == "num":
                    return (kind, _zabbix_number(match[0]))
                return (kind, _unescape(match[1]) if kind == "str" else match[0])
        match = re.compile(r"([a-z_][a-z0-9_]*)\s*\(").match(self.text, self.pos)
        if not match:
            raise _Skip(f"cannot read the expression at {self.text[self.pos:self.pos + 30]!r}")
        self.pos = match.end()
        return self._call(match[1])

    def _call(self, name: str) -> tuple:
        self._space()
        if self.text.startswith("/", self.pos):  # a history function: /host/key, then plain arguments
            query = self._raw_argument().strip()
            slash = query.find("/", 1)
            if slash < 0:
                raise _Skip(f"cannot read the item {query!r}")
            args = []
            while self._take(","):
                args.append(self._raw_argument().strip())
            self._expect(")")
            return ("call", name, (query[1:slash], query[slash + 1:]), args)
        args = []
        if not self._take(")"):
            args.append(self._or())
            while self._take(","):
                args.append(self._or())
            self._expect(")")
        return ("call", name, None, args)

    def _raw_argument(self) -> str:
        """Text up to the next ',' or ')' outside brackets and quotes."""
        start, depth, quoted = self.pos, 0, False
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if quoted:
                if char == "\\":
                    self.pos += 1
                elif char == '"':
                    quoted = False
            elif char == '"':
                quoted = True
            elif char in "[(":
                depth += 1
            elif char in "])" and depth:
                depth -= 1
            elif char in ",)" and not depth:
                break
            self.pos += 1
        return self.text[start:self.pos]

    def _space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def _take(self, token: str) -> bool:
        self._space()
        if self.text.startswith(token, self.pos):
            self.pos += len(token)
            return True
        return False

    def _expect(self, token: str) -> None:
        if not self._take(token):
            raise _Skip(f"cannot read the expression: expected {token!r} at {self.text[self.pos:self.pos + 30]!r}")


@dataclass
class _Value:
    """A history function of one item: `avg(metric, 5m)`."""

    function: str
    item: _Draft
    window: str | None = None

    @property
    def text(self) -> str:
        return f"{self.function}({self.item.metric}{f', {self.window}' if self.window else ''})"


@dataclass
class _Condition:
    """A translated condition; `for_text` is the same with min/max over a window as `last` held `for_window`."""

    text: str
    precedence: str = "atom"  # atom | and | or
    for_text: str | None = None
    for_window: str | None = None


class _Translator:
    """Zabbix trigger expressions -> our trigger subset (docs/templates.md "Trigger expressions"), or _Skip why not."""

    def __init__(self, template: _TemplateConverter) -> None:
        self.template = template
        self.rules: set[str | None] = set()  # LLD rules of the items referred to (None: scalar items)

    def condition(self, expression: str) -> _Condition:
        result = self._as_condition(self._node(_Parser(expression).parse()))
        if isinstance(result, bool):
            raise _Skip(f"always {'true' if result else 'false'} once macros are resolved")
        return result

    def _node(self, node: tuple) -> Decimal | bool | _Value | _Condition:
        kind = node[0]
        if kind == "num":
            return node[1]
        if kind == "macro":
            return _zabbix_number(self.template.macros.value(node[1]), node[1])
        if kind == "str":
            raise _Skip(f'compares with the text "{node[1]}" (only numbers are compared)')
        if kind == "lld":
            raise _Skip(f"uses {node[1]} outside an item key")
        if kind == "call":
            return self._call(node[1], node[2], node[3])
        if kind in ("neg", "not"):
            operand = self._node(node[1])
            if kind == "neg" and isinstance(operand, Decimal):
                return -operand
            if kind == "not" and isinstance(operand, bool):
                return not operand
            raise _Skip("negates an item value" if kind == "neg" else "not(...) has no equivalent")
        op, left, right = node[0], self._node(node[1]), self._node(node[2])
        if op in ("and", "or"):
            return self._logical(op, self._as_condition(left), self._as_condition(right))
        if op in ("+", "-", "*", "/"):
            return self._arithmetic(op, left, right)
        return self._compare(op, left, right)

    def _call(self, name: str, query: tuple[str, str] | None, args: list) -> _Value:
        if query is None or name not in FUNCTIONS:
            raise _Skip(f"function {name}() has no equivalent")
        item = self._item(*query)
        if name == "last":
            if args and args[0] not in ("", "#1"):
                raise _Skip(f"last() of an older value ({args[0]}) has no equivalent")
            return _Value("last", item)
        if not args or not args[0]:
            raise _Skip(f"{name}() without a time window")
        if name == "count" and any(args[1:]):
            raise _Skip("count() with an operator or pattern has no equivalent")
        if name == "nodata" and any(a.strip('"') for a in args[1:]):
            raise _Skip(f"nodata() mode {args[1]} has no equivalent")
        return _Value(name, item, self._window(args[0]))

    def _item(self, host: str, key: str) -> _Draft:
        if host and host != self.template.name:
            raise _Skip(f"refers to item {key} of another template ({host})")
        ref = self.template.refs.get(key)
        if ref is None:
            raise _Skip(f"refers to item {key}, which the template does not have")
        if isinstance(ref, str):
            raise _Skip(f"refers to item {key}, which was not imported: {ref}")
        self.rules.add(ref.rule)
        return ref

    def _window(self, text: str) -> str:
        resolved = self.template.macros.resolve(text)
        if resolved.startswith("#"):
            raise _Skip(f"a window of the last {resolved[1:]} values ({text}) has no equivalent")
        if ":" in resolved:
            raise _Skip(f"the time shift in {text} has no equivalent")
        return _duration_text(_seconds(resolved, "window"))

    def _as_condition(self, value: Any) -> bool | _Condition:
        if isinstance(value, (bool, _Condition)):
            return value
        if isinstance(value, _Value) and value.function == "nodata":
            return _Condition(value.text)
        raise _Skip(f"uses {value.text if isinstance(value, _Value) else value} as a condition (no equivalent)")

    def _logical(self, op: str, left: bool | _Condition, right: bool | _Condition) -> bool | _Condition:
        for constant, other in ((left, right), (right, left)):
            if isinstance(constant, bool):
                if op == "and":
                    return other if constant else False
                return True if constant else other
        if op == "or":  # parentheses where and/or mix, though and binds tighter: easier to read
            return _Condition(" or ".join(f"({c.text})" if c.precedence == "and" else c.text for c in (left, right)),
                              "or")
        text = " and ".join(f"({c.text})" if c.precedence == "or" else c.text for c in (left, right))
        both_for = left.for_text and right.for_text and left.for_window == right.for_window
        return _Condition(text, "and", f"{left.for_text} and {right.for_text}" if both_for else None,
                          left.for_window if both_for else None)

    def _arithmetic(self, op: str, left: Any, right: Any) -> Decimal:
        if not (isinstance(left, Decimal) and isinstance(right, Decimal)):
            raise _Skip("arithmetic on item values has no equivalent")
        try:
            return OPERATIONS[op](left, right)
        except (DivisionByZero, InvalidOperation):
            raise _Skip("divides by zero") from None

    def _compare(self, op: str, left: Any, right: Any) -> bool | _Condition:
        if isinstance(left, Decimal) and isinstance(right, Decimal):
            return OPERATIONS[op](left, right)
        if isinstance(left, Decimal) and isinstance(right, _Value):
            left, right, op = right, left, FLIPPED[op]
        if not (isinstance(left, _Value) and isinstance(right, Decimal)):
            raise _Skip("compares two item values" if isinstance(right, _Value) else "compares conditions")
        if left.function == "nodata":
            if (op, right) in (("=", 1), ("<>", 0)):
                return _Condition(left.text)
            raise _Skip("nodata() is translated only as nodata(...)=1")
        if left.item.row_scale and left.function in LINEAR:
            raise _Skip(f"{left.item.zabbix_key} is stored without its per-row multiplier {left.item.row_scale}")
        scale = left.item.scale if left.function in LINEAR else None
        if scale is not None:
            right = right / scale
            op = FLIPPED[op] if scale < 0 else op
        text = f"{OURS[op]} {_number_text(right)}"
        held = (left.function, op) in (("min", ">"), ("min", ">="), ("max", "<"), ("max", "<="))
        return _Condition(f"{left.text} {text}", "atom", f"last({left.item.metric}) {text}" if held else None,
                          left.window if held else None)

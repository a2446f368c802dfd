"""One Zabbix template -> our document: items, LLD rules, value maps and triggers, with what was skipped."""
from __future__ import annotations

import copy
import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from snmp.validators import RESERVED_METRICS, RESERVED_PREFIXES
from templates_app.document import FORMAT, MAX_INTERVAL
from templates_app.zabbix.common import (
    IF_COLUMNS, IF_FIELDS, IGNORED_STEPS, LLD_MACRO, NO_OP_FILTERS, SEVERITIES, VALUE_TYPES, ZabbixImport,
    ZabbixImportError, _Macros, _Skip, _graph_host, _number_text, _numeric_oid, _seconds, _snake, _text,
    _without_row_prefix, document_key, read_export)
from templates_app.zabbix.triggers import _Translator


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

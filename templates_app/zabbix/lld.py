"""A Zabbix template's LLD rules over SNMP tables -> our discovery specs and the item prototypes under them."""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from templates_app.zabbix.common import (
    IF_COLUMNS, IF_FIELDS, IGNORED_STEPS, LLD_MACRO, NO_OP_FILTERS, _numeric_oid, _Skip, _snake, _text)
from templates_app.zabbix.items import _ItemConverter
from wardsite.text import quote


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


class _RuleConverter:
    """LLD rules -> item drafts with a `discovery`, through the template's `_ItemConverter`."""

    def __init__(self, items: _ItemConverter) -> None:
        self.items = items
        self.macros = items.macros
        self.skipped = items.skipped
        self.skipped_rules: set[str] = set()  # their trigger prototypes are noted with them, not one by one

    def rule(self, rule: dict) -> None:
        """Draft the rule's item prototypes, or note why the rule is left out with everything under it."""
        key = _text(rule.get("key"))
        what = f"LLD rule {key}"
        prototypes = rule.get("item_prototypes") or []
        try:
            table = self._table(rule)
        except _Skip as skip:
            self._skip_rule(rule, what, str(skip))
            return
        discovery = self._discovery(rule, table, prototypes, what)
        if rule.get("overrides"):
            self.skipped.append(f"{what}: {_count(len(rule['overrides']), 'override')} left out (no equivalent)")
        enabled = _text(rule.get("status")) != "DISABLED"
        for prototype in prototypes:
            self._prototype(prototype, key, discovery, enabled)

    def _skip_rule(self, rule: dict, what: str, why: str) -> None:
        key = _text(rule.get("key"))
        prototypes = rule.get("item_prototypes") or []
        triggers = sum(len(p.get("trigger_prototypes") or []) for p in prototypes)
        triggers += len(rule.get("trigger_prototypes") or [])
        self.skipped.append(f"{what}: {why}; its {_count(len(prototypes), 'item prototype')} and "
                            f"{_count(triggers, 'trigger prototype')} are left out with it")
        self.skipped_rules.add(key)
        for prototype in prototypes:
            self.items.refs[_text(prototype.get("key"))] = f"its LLD rule {key} was not imported"

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
            if master_key not in self.items.walks:
                raise _Skip(f"depends on item {master_key}, which is not an SNMP walk[] (no equivalent)")
            self.items.used_walks.add(master_key)
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
                raise _Skip(f"{quote(macro)} in {source} is not an LLD macro")
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
        clauses = self._filter_clauses(data)
        if clauses is None:
            self.skipped.append(f"{what}: filter formula {quote(data.get('formula'))} has no equivalent; rows are kept")
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

    @staticmethod
    def _filter_clauses(data: dict) -> list[list[dict]] | None:
        """The filter's conditions as clauses and-ed together, each its conditions or-ed; None if it cannot be."""
        conditions = data.get("conditions") or []
        evaltype = _text(data.get("evaltype")) or "AND_OR"
        if evaltype == "AND" or (evaltype == "FORMULA" and not re.search(r"\b(or|not)\b", _text(data.get("formula")))):
            return [[condition] for condition in conditions]
        if evaltype == "AND_OR":  # conditions on the same macro are or-ed, the groups and-ed
            groups: dict[str, list[dict]] = {}
            for condition in conditions:
                groups.setdefault(_text(condition.get("macro")), []).append(condition)
            return list(groups.values())
        if evaltype == "OR" and conditions:
            return [conditions]
        return None

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
                raise _Skip(f"{quote(pattern)} is not a Python regular expression ({exc})") from None
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
            draft = self.items.draft(prototype, what, oid=column, interval_source=interval_source, steps=steps,
                                     rule=rule, discovery=copy.deepcopy(discovery), enabled=enabled)
        except _Skip as skip:
            self.items.skip_item(key, what, str(skip))
            return
        self.items.add(draft, what)

    def _prototype_source(self, prototype: dict) -> tuple[str, dict, list[dict]]:
        """(column OID, the item whose delay applies, preprocessing left to translate) of an item prototype."""
        steps = prototype.get("preprocessing") or []
        kind = _text(prototype.get("type")) or "ZABBIX_PASSIVE"
        if kind == "SNMP_AGENT":
            raw, source = self.macros.resolve(_text(prototype.get("snmp_oid")).strip()), prototype
            match = re.fullmatch(r"get\[\s*([^,\]]+?)\s*\]", raw)
            raw = match[1] if match else raw
        elif kind == "DEPENDENT":
            source, raw = self.items.walk_value(prototype)
            steps = steps[1:]
        else:
            raise _Skip(f"not an SNMP item (type {kind})")
        match = re.fullmatch(r"(.+)\.\{#SNMPINDEX\}", raw)
        if not match:
            raise _Skip(f"SNMP OID {raw} is not <column>.{{#SNMPINDEX}} (no equivalent)")
        return _numeric_oid(match[1]), source, steps


def _count(n: int, noun: str) -> str:
    """'1 graph', '3 graphs'."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _label_name(rule_key: str) -> str:
    """The label naming a table row, from the LLD rule's key: 'vfs.fs.discovery[snmp]' -> 'vfs_fs'."""
    name = _snake(re.sub(r"\.?discovery$", "", rule_key.split("[", 1)[0]))
    if not name or name[0].isdigit() or name == "index":
        name = f"row_{name}".rstrip("_")
    return name[:50]


def _clause_text(clause: list[dict]) -> str:
    return " or ".join(f"{_text(c.get('macro'))} {(_text(c.get('operator')) or 'MATCHES_REGEX').lower()} "
                       f"{quote(_text(c.get('value')))}" for c in clause)

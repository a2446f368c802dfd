"""A Zabbix export -> our documents: per template, its items (items.py), LLD rules (lld.py) and triggers."""
from __future__ import annotations

import re
from collections import Counter
from typing import Any

from templates_app.document import FORMAT
from templates_app.zabbix.common import (
    SEVERITIES, ZabbixImport, ZabbixImportError, _graph_host, _Skip, _text, _without_row_prefix, document_key,
    read_export)
from templates_app.zabbix.drafts import _assign_metrics
from templates_app.zabbix.items import _ItemConverter
from templates_app.zabbix.lld import _count, _RuleConverter
from templates_app.zabbix.triggers import _Translator


class _TemplateConverter:
    """One Zabbix template -> our document and what was skipped."""

    def __init__(self, template: dict, *, version: str, triggers: list[dict], graphs: int) -> None:
        self.template = template
        self.name = _text(template["template"])
        self.version = version
        self.export_triggers = triggers
        self.graphs = graphs
        self.skipped: list[str] = []
        self.items = _ItemConverter(template, self.skipped)
        self.rules = _RuleConverter(self.items)

    def convert(self) -> ZabbixImport:
        for item in self.template.get("items") or []:
            self.items.item(item)
        for rule in self.template.get("discovery_rules") or []:
            self.rules.rule(rule)
        self.items.note_unused_walks()
        _assign_metrics(self.items.drafts)
        triggers = self._triggers()
        self._note_presentation()
        return ZabbixImport(self.name, self._document(triggers), self.skipped,
                            {draft.zabbix_key: draft.metric for draft in self.items.drafts})

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
        doc["items"] = [draft.document() for draft in self.items.drafts]
        if triggers:
            doc["triggers"] = triggers
        return doc

    def _triggers(self) -> list[dict]:
        found: list[tuple[dict, str]] = []
        for item in self.template.get("items") or []:
            found += [(trigger, "trigger") for trigger in item.get("triggers") or []]
        for rule in self.template.get("discovery_rules") or []:
            if _text(rule.get("key")) in self.rules.skipped_rules:
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
            translator = _Translator(self.name, self.items.macros, self.items.refs)
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

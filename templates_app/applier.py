"""Applying templates to devices: auto-selection, expanding discovery items, idempotent sync of the device's items.

Applying computes the items a device should have from the template and what it includes (one per scalar item,
one per interface or table row for discovery items) and makes the device's template-made items exactly that:
new rows are created, changed ones updated (except fields the operator overrode on the device), vanished ones
removed. Re-applying with nothing changed writes nothing.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from devices.models import Device
from snmp import services as snmp_services
from snmp.client import SNMPError, Value
from snmp.models import Interface, MonitoringItem, SNMPStatus
from snmp.oids import parse_oid
from templates_app.document import DiscoverySpec
from templates_app.library import discovery_spec
from templates_app.models import MonitoringTemplate, TemplateAssignment, TemplateItem

# Fields a template sets on the items it makes.
TEMPLATE_FIELDS = ("name", "metric", "oid", "labels", "interval_seconds", "value_type", "units", "value_map", "enabled")


@dataclass
class ApplyReport:
    """What applying a template to one device did."""

    device: str
    template: str
    created: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    problems: list[str] = field(default_factory=list)  # conflicts and discovery failures; the rest was applied

    def __str__(self) -> str:
        text = (f"{self.template} on {self.device}: {self.created} created, {self.updated} updated, "
                f"{self.removed} removed, {self.unchanged} unchanged")
        return text + "".join(f"; {problem}" for problem in self.problems)


# --- which template ---------------------------------------------------------------------------------------------

def closure(template: MonitoringTemplate) -> list[MonitoringTemplate]:
    """The template and everything it includes, transitively, the template first; each once."""
    found: dict[str, MonitoringTemplate] = {}
    pending = [template]
    while pending:
        current = pending.pop(0)
        if current.key in found:
            continue
        found[current.key] = current
        pending.extend(MonitoringTemplate.objects.filter(key__in=current.includes))
    return list(found.values())


def match_score(template: MonitoringTemplate, sys_object_id: str, sys_descr: str) -> tuple[int, int] | None:
    """(priority, matched prefix length) if the template's match rules select this device, else None."""
    prefixes, patterns = template.match_sys_object_ids, template.match_sys_descr
    if not prefixes and not patterns:
        return None
    length = 0
    if prefixes:
        try:
            arcs = parse_oid(sys_object_id)
        except ValueError:
            return None
        lengths = [len(p) for p in map(parse_oid, prefixes) if arcs[:len(p)] == p]
        if not lengths:
            return None
        length = max(lengths)
    if patterns and not any(re.search(p, sys_descr or "", re.IGNORECASE) for p in patterns):
        return None
    return template.priority, length


def select_template(sys_object_id: str, sys_descr: str) -> MonitoringTemplate | None:
    """The template auto-selection picks for a device with these facts: highest priority, then longest prefix."""
    scored = [(score, template.name, template) for template in MonitoringTemplate.objects.all()
              if (score := match_score(template, sys_object_id, sys_descr)) is not None]
    return max(scored, key=lambda entry: (entry[0], entry[1]))[2] if scored else None


def device_facts(device: Device) -> tuple[str, str]:
    """The device's sysObjectID and sysDescr: as last polled, else read now (and kept)."""
    status = SNMPStatus.objects.filter(device=device).first()
    if status is not None and status.sys_object_id:
        return status.sys_object_id, status.sys_descr
    facts = snmp_services.test_connection(snmp_services.target_for(device))
    snmp_services.record_system(device, facts)
    return str(facts["sys_object_id"]), str(facts["sys_descr"])


def auto_apply(device: Device) -> tuple[MonitoringTemplate | None, ApplyReport | None]:
    """Pick the device's template by its sysObjectID/sysDescr and apply it; (None, None) if none matches.

    SNMPError/SNMPConfigError when the facts are unknown and the device cannot be asked.
    """
    template = select_template(*device_facts(device))
    if template is None:
        return None, None
    return template, apply(template, device, auto=True)


# --- applying ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Draft:
    """An item a template wants on the device."""

    template_item: TemplateItem
    values: dict  # TEMPLATE_FIELDS -> value

    @property
    def identity(self) -> tuple[int, tuple]:
        return self.template_item.pk, tuple(sorted(self.values["labels"].items()))


def apply(template: MonitoringTemplate, device: Device, *, auto: bool = False) -> ApplyReport:
    """Apply a template (and what it includes) to a device; idempotent."""
    report = ApplyReport(str(device), str(template))
    templates = closure(template)
    items = list(TemplateItem.objects.filter(template__in=templates).select_related("template"))
    order = {t.pk: i for i, t in enumerate(templates)}
    items.sort(key=lambda item: (order[item.template_id], item.key))
    drafts, expanded = _drafts(device, items, report)
    with transaction.atomic():
        _sync(device, drafts, [item.pk for item in items], expanded, report)
        assignment, _ = TemplateAssignment.objects.get_or_create(device=device, template=template,
                                                                 defaults={"auto": auto})
        assignment.applied_version, assignment.applied_at = template.version, timezone.now()
        assignment.error = "; ".join(report.problems)[:500]
        assignment.save()
    return report


def _drafts(device: Device, items: list[TemplateItem], report: ApplyReport) -> tuple[list[_Draft], set[int]]:
    """The items the device should have, and the template items whose expansion is complete (safe to prune)."""
    drafts, complete = [], set()
    tables: dict[str, dict[str, Value]] = {}
    discoveries = {item.pk: discovery_spec(item.discovery) for item in items}
    columns = {c for d in discoveries.values() if d and not d.interfaces for c in _columns(d)}
    if columns:
        try:
            tables = snmp_services.walk_columns(device, sorted(columns))
        except (SNMPError, snmp_services.SNMPConfigError) as exc:
            report.problems.append(f"table discovery failed, table items left as they were: {exc}")
    interfaces = list(Interface.objects.filter(device=device))
    for item in items:
        discovery = discoveries[item.pk]
        if discovery is None:
            drafts.append(_draft(item, item.oid, {}, item.key))
            complete.add(item.pk)
        elif discovery.interfaces:
            rows = {str(i.if_index): i.name or i.descr or str(i.if_index) for i in interfaces
                    if all(f.keeps(_interface_value(i, f.field)) for f in discovery.filters)}
            drafts.extend(_draft(item, f"{item.oid}.{index}", {"ifIndex": index, "ifName": name}, key)
                          for index, name, key in _row_names(item, rows))
            complete.add(item.pk)
        elif all(column in tables for column in _columns(discovery)):
            drafts.extend(_table_drafts(item, discovery, tables))
            complete.add(item.pk)
    return drafts, complete


def _columns(discovery: DiscoverySpec) -> list[str]:
    return [c for c in (discovery.table, discovery.label_oid, *(f.oid for f in discovery.filters)) if c]


def _table_drafts(item: TemplateItem, discovery: DiscoverySpec, tables: dict[str, dict[str, Value]]) -> list[_Draft]:
    rows = {}
    for index, value in tables[discovery.table].items():
        if not all(f.keeps(_text(tables[f.oid].get(index))) for f in discovery.filters):
            continue
        rows[index] = index
        if discovery.label_oid:
            row = _text(value) if discovery.label_from_value else index
            rows[index] = _text(tables[discovery.label_oid].get(row)) or index
    return [_draft(item, f"{item.oid}.{index}", {"index": index, discovery.label: label}, name)
            for index, label, name in _row_names(item, rows)]


def _row_names(item: TemplateItem, rows: dict[str, str]) -> list[tuple[str, str, str]]:
    """(index, label, item name) per row; a label that several rows share (two "Fan" sensors) gets the index too."""
    seen = Counter(rows.values())
    return [(index, label, f"{item.key}[{label}]" if seen[label] == 1 else f"{item.key}[{label} #{index}]")
            for index, label in rows.items()]


def _draft(item: TemplateItem, oid: str, labels: dict[str, str], name: str) -> _Draft:
    return _Draft(item, {
        "name": name[:255], "metric": item.key, "oid": oid, "labels": labels, "interval_seconds": item.interval_seconds,
        "value_type": item.value_type, "units": item.units, "value_map": item.value_map, "enabled": item.enabled,
    })


def _text(value: Value | None) -> str:
    return "" if value is None or value.missing else value.text


def _interface_value(interface: Interface, name: str) -> str:
    value = getattr(interface, name)
    return "" if value is None else str(value)


def _sync(device: Device, drafts: list[_Draft], item_ids: list[int], complete: set[int], report: ApplyReport) -> None:
    """Make the device's items made from these template items match the drafts (pruning only complete ones)."""
    current = {(item.template_item_id, tuple(sorted(item.labels.items()))): item
               for item in MonitoringItem.objects.filter(device=device, template_item__in=item_ids)}
    by_oid = {item.oid: item for item in MonitoringItem.objects.filter(device=device)}
    names = set(by_oid[oid].name for oid in by_oid)
    wanted = set()
    for draft in drafts:
        item = current.get(draft.identity)
        if item is None:
            item = by_oid.get(draft.values["oid"])
            if item is not None and item.template_item_id is not None:
                report.problems.append(f"{draft.values['name']}: OID {draft.values['oid']} is already polled by "
                                       f"another template's item {item.name!r}")
                continue
        if item is None:
            if draft.values["name"] in names:
                report.problems.append(f"{draft.values['name']}: the device has another item of that name")
                continue
            item = MonitoringItem(device=device, template_item=draft.template_item, **draft.values)
            item.save()
            by_oid[item.oid] = item
            names.add(item.name)
            report.created += 1
        elif _update(item, draft):
            report.updated += 1
        else:
            report.unchanged += 1
        wanted.add(item.pk)
    stale = [item.pk for key, item in current.items() if item.pk not in wanted and key[0] in complete]
    report.removed = MonitoringItem.objects.filter(pk__in=stale).delete()[0]


def _update(item: MonitoringItem, draft: _Draft) -> bool:
    """Bring an item in line with its template (adopting a local item with the same OID); False if nothing changed."""
    changed = [name for name, value in draft.values.items()
               if name not in item.overrides and getattr(item, name) != value]
    if item.template_item_id != draft.template_item.pk:
        item.template_item = draft.template_item
        changed.append("template_item")
    for name in changed:
        if name != "template_item":
            setattr(item, name, draft.values[name])
    if changed:
        item.save(update_fields=changed)
    return bool(changed)


def unlink(template: MonitoringTemplate, device: Device, *, remove_items: bool) -> int:
    """Take a template off a device; its items are removed, or kept as the device's own. Returns how many."""
    with transaction.atomic():
        TemplateAssignment.objects.filter(device=device, template=template).delete()
        still = {t.pk for a in TemplateAssignment.objects.filter(device=device).select_related("template")
                 for t in closure(a.template)}
        gone = [t.pk for t in closure(template) if t.pk not in still]
        items = MonitoringItem.objects.filter(device=device, template_item__template__in=gone)
        if remove_items:
            return items.delete()[0]
        return items.update(template_item=None, overrides=[])


def reapply_all() -> int:
    """Apply every assignment again (new table rows, interfaces, template changes); returns how many."""
    count = 0
    for assignment in TemplateAssignment.objects.select_related("template", "device", "device__snmp_credential"):
        apply(assignment.template, assignment.device, auto=assignment.auto)
        count += 1
    return count

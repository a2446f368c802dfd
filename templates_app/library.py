"""The template library: documents in and out of the database, and the shipped defaults with their upgrades."""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field, replace
from pathlib import Path

from django.db import transaction

from templates_app import zabbix
from templates_app.choices import TemplateOrigin
from templates_app.document import (
    DiscoverySpec, DocumentError, ItemSpec, TemplateSpec, TriggerSpec, discovery_document, load_text, parse_discovery,
    parse_document, to_document,
)
from templates_app.models import MonitoringTemplate, TemplateItem, TemplateTrigger
from wardsite.text import quote

logger = logging.getLogger(__name__)

DEFAULTS_DIR = Path(__file__).parent / "defaults"


def save_spec(spec: TemplateSpec, *, origin: str = TemplateOrigin.LOCAL) -> MonitoringTemplate:
    """Create the template, or replace the one with the same key, items and triggers included (all or nothing).

    DocumentError if an included template does not exist or the name belongs to another template. Items keep
    their rows (and so their devices' links) where the key stays; items whose key is gone are deleted.
    """
    missing = [f"includes[{i}]: no template with key {quote(key)}" for i, key in enumerate(spec.includes)
               if not MonitoringTemplate.objects.filter(key=key).exists()]
    if MonitoringTemplate.objects.filter(name=spec.name).exclude(key=spec.key).exists():
        missing.append(f"name: {quote(spec.name)} is the name of another template")
    if missing:
        raise DocumentError(missing)
    with transaction.atomic():
        template, _ = MonitoringTemplate.objects.update_or_create(key=spec.key, defaults={
            "name": spec.name, "version": spec.version, "vendor": spec.vendor, "description": spec.description,
            "device_types": list(spec.device_types), "includes": list(spec.includes), "priority": spec.priority,
            "match_sys_object_ids": list(spec.sys_object_ids), "match_sys_descr": list(spec.sys_descr),
            "origin": origin,
        })
        existing = {item.key: item for item in template.items.all()}
        for item in spec.items:
            row = existing.pop(item.key, None) or TemplateItem(template=template, key=item.key)
            row.name, row.oid, row.interval_seconds, row.value_type = item.name, item.oid, item.interval, item.value_type
            row.units, row.value_map, row.enabled = item.units, item.value_map, item.enabled
            row.discovery = discovery_document(item.discovery) if item.discovery else None
            row.save()
        TemplateItem.objects.filter(pk__in=[row.pk for row in existing.values()]).delete()
        triggers = {trigger.name: trigger for trigger in template.triggers.all()}
        for t in spec.triggers:  # rows kept by name: the alert rules made from them (and their overrides) stay
            row = triggers.pop(t.name, None) or TemplateTrigger(template=template, name=t.name)
            row.expression, row.recovery_expression, row.for_seconds = t.expression, t.recovery_expression, t.for_seconds
            row.severity, row.description = t.severity, t.description
            row.save()
        for gone in triggers.values():
            gone.delete()
    return template


def spec_of(template: MonitoringTemplate) -> TemplateSpec:
    """The template as it is in the database, as a spec (what export writes)."""
    return TemplateSpec(
        key=template.key, name=template.name, version=template.version, vendor=template.vendor,
        description=template.description, device_types=tuple(template.device_types),
        includes=tuple(template.includes), priority=template.priority,
        sys_object_ids=tuple(template.match_sys_object_ids), sys_descr=tuple(template.match_sys_descr),
        items=tuple(item_spec(item) for item in template.items.all()),
        triggers=tuple(TriggerSpec(name=t.name, expression=t.expression, recovery_expression=t.recovery_expression,
                                   for_seconds=t.for_seconds, severity=t.severity, description=t.description)
                       for t in template.triggers.all()),
    )


def item_spec(item: TemplateItem) -> ItemSpec:
    return ItemSpec(key=item.key, oid=item.oid, name=item.name, interval=item.interval_seconds,
                    value_type=item.value_type, units=item.units, value_map=dict(item.value_map),
                    enabled=item.enabled, discovery=discovery_spec(item.discovery))


def discovery_spec(data: dict | None) -> DiscoverySpec | None:
    """A stored discovery mapping as a spec (it was validated when saved)."""
    return parse_discovery(data) if data else None


def export_document(template: MonitoringTemplate) -> dict:
    return to_document(spec_of(template))


def canonical(spec: TemplateSpec) -> TemplateSpec:
    """The spec with items and triggers in the order the database keeps them (by key, by name)."""
    return replace(spec, items=tuple(sorted(spec.items, key=lambda item: item.key)),
                   triggers=tuple(sorted(spec.triggers, key=lambda trigger: trigger.name)))


def document_hash(spec: TemplateSpec) -> str:
    """Equal for equal templates, whatever order the document lists items and triggers in."""
    return hashlib.sha256(json.dumps(to_document(canonical(spec)), sort_keys=True).encode()).hexdigest()


@dataclass
class ImportResult:
    templates: list[MonitoringTemplate]
    skipped: list[str] = field(default_factory=list)  # what a Zabbix export had that was not translated, and why


def import_text(text: str, *, filename: str = "") -> ImportResult:
    """Save the template(s) of a document (JSON/YAML) or a Zabbix 6.0/7.0 export (YAML/XML/JSON), all or nothing.

    DocumentError with every problem otherwise.
    """
    data = None if text.lstrip("\ufeff \t\r\n").startswith("<") else load_text(text)
    if data is not None and not (isinstance(data, dict) and "zabbix_export" in data):
        return ImportResult([save_spec(parse_document(data))])
    try:
        imports = zabbix.convert(text, filename=filename)
    except zabbix.ZabbixImportError as exc:
        raise DocumentError([str(exc)]) from None
    specs, errors, skipped = [], [], []
    for found in imports:
        try:
            specs.append(parse_document(found.document))
        except DocumentError as exc:
            errors += [f"{found.template}: {error}" for error in exc.errors]
        skipped += [f"{found.template}: {line}" for line in found.skipped]
    if errors:
        raise DocumentError(errors)
    keys = {spec.key for spec in specs}
    templates = []
    with transaction.atomic():
        for spec in _in_include_order(specs):
            known = [key for key in spec.includes if key in keys or MonitoringTemplate.objects.filter(key=key).exists()]
            skipped += [f"{spec.name}: includes {key}: not imported yet; import that template, then this one again"
                        for key in spec.includes if key not in known]
            templates.append(save_spec(replace(spec, includes=tuple(known)), origin=TemplateOrigin.ZABBIX))
    return ImportResult(templates, skipped)


def _in_include_order(specs: list[TemplateSpec]) -> list[TemplateSpec]:
    """Included templates before those that include them (a cycle is left in the order given)."""
    pending, ordered = {spec.key: spec for spec in specs}, []
    while pending:
        ready = [s for s in pending.values() if not any(key in pending for key in s.includes)] or list(pending.values())
        for spec in ready:
            ordered.append(pending.pop(spec.key))
    return ordered


# --- the default library ------------------------------------------------------------------------------------

@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    upgraded: list[str] = field(default_factory=list)
    kept_local_edits: list[str] = field(default_factory=list)  # a newer version exists; see available_version
    unchanged: list[str] = field(default_factory=list)


def default_specs(directory: Path = DEFAULTS_DIR) -> list[TemplateSpec]:
    """The shipped documents, included templates before those that include them."""
    specs = {}
    for path in sorted(directory.glob("*.yaml")):
        try:
            spec = parse_document(load_text(path.read_text()))
        except DocumentError as exc:
            raise DocumentError([f"{path.name}: {error}" for error in exc.errors]) from None
        specs[spec.key] = spec
    return _in_include_order(list(specs.values()))


def load_defaults(directory: Path = DEFAULTS_DIR) -> LoadReport:
    """Create missing default templates and upgrade unedited ones; never overwrite local edits."""
    report = LoadReport()
    for spec in default_specs(directory):
        shipped = document_hash(spec)
        current = MonitoringTemplate.objects.filter(key=spec.key).first()
        if current is None:
            _save_default(spec, shipped)
            report.created.append(spec.key)
        elif current.origin != TemplateOrigin.BUILTIN:
            report.kept_local_edits.append(spec.key)  # a local template took the key: it is the operator's
        elif document_hash(spec_of(current)) != current.shipped_hash:
            if spec.version > current.version and current.available_version != spec.version:
                current.available_version = spec.version
                current.save(update_fields=["available_version"])
            report.kept_local_edits.append(spec.key)
        elif shipped != current.shipped_hash:
            _save_default(spec, shipped)
            report.upgraded.append(spec.key)
        else:
            report.unchanged.append(spec.key)
    if report.created or report.upgraded:
        logger.info("default templates: created %s, upgraded %s", report.created, report.upgraded)
    return report


def _save_default(spec: TemplateSpec, shipped: str) -> None:
    template = save_spec(spec, origin=TemplateOrigin.BUILTIN)
    MonitoringTemplate.objects.filter(pk=template.pk).update(shipped_hash=shipped, available_version=None)

"""Zabbix templates -> ours: the shipped map (zabbix_bridge/data/template_map.yaml), auto-selection by sysObjectID
for SNMP templates it does not know, and applying them once the devices have answered a first poll."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

import yaml

from devices.models import Device
from snmp import services as snmp_services
from snmp.client import SNMPError
from templates_app import applier
from templates_app.models import MonitoringTemplate

MAP_FILE = Path(__file__).resolve().parent.parent / "data" / "template_map.yaml"
# How a template that is not an SNMP one collects, from the suffix of Zabbix's standard names
COLLECTED_BY = re.compile(r" by (Zabbix agent(?: 2)?(?: active)?|HTTP|JMX|ODBC|IPMI|Prom|NETCONF)$")


@dataclass(frozen=True)
class TemplateMap:
    """Zabbix template name patterns -> our template keys, and the templates our ICMP engine replaces."""

    snmp: tuple[tuple[str, str], ...]
    icmp: tuple[str, ...]

    def ours(self, name: str) -> str | None:
        return next((key for pattern, key in self.snmp if fnmatchcase(name, pattern)), None)

    def is_icmp(self, name: str) -> bool:
        return any(fnmatchcase(name, pattern) for pattern in self.icmp)


@functools.cache
def template_map(path: Path = MAP_FILE) -> TemplateMap:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return TemplateMap(tuple((row["zabbix"], row["ours"]) for row in data["snmp"]), tuple(data["icmp"]))


@dataclass
class TemplatePlan:
    """What becomes of a host's Zabbix templates: our templates to apply, or auto-selection, and why."""

    keys: list[str] = field(default_factory=list)
    auto: bool = False  # no mapped template: auto-selection by sysObjectID/sysDescr after the first poll
    pending: bool = False  # not applied yet (a second import finds them applied)
    mapped: list[str] = field(default_factory=list)  # "Cisco IOS by SNMP → cisco-ios"
    not_migrated: list[str] = field(default_factory=list)  # "Linux by Zabbix agent (collected by Zabbix agent)"
    results: list[str] = field(default_factory=list)  # after the import: what applying did

    def describe(self) -> str:
        """One phrase for the host's line."""
        done = "" if self.pending else " (applied)"
        if self.keys:
            return "templates " + ", ".join(self.mapped) + done
        if self.auto:
            instead = [m.split(" → ")[0] for m in self.mapped if m.endswith("sysObjectID")]
            return ("template: auto-selection by sysObjectID after the first poll" if self.pending else
                    "template auto-selected (applied)") + (f" (for {', '.join(instead)})" if instead else "")
        return ", ".join(self.mapped)

    def as_dict(self) -> dict:
        return {"apply": self.keys, "auto_select": self.auto, "pending": self.pending, "mapped": self.mapped,
                "not_migrated": self.not_migrated, "results": self.results}


class TemplatePlanner:
    """Plans the templates of each host against our library (read once)."""

    def __init__(self) -> None:
        self.map = template_map()
        self.library = {t.key: t for t in MonitoringTemplate.objects.all()}

    def plan(self, names: tuple[str, ...], snmp: bool, assigned: set[str]) -> TemplatePlan:
        """`names`: the host's Zabbix templates; `snmp`: whether the device will be polled by SNMP; `assigned`:
        keys of the templates the device has already."""
        plan = TemplatePlan()
        for name in sorted(names):
            self._classify(name, snmp, plan)
        if snmp:  # auto-selection also covers a host with an SNMP interface and no SNMP template
            plan.keys = self._without_included(plan.keys)
            plan.auto = not plan.keys
            plan.pending = not assigned if plan.auto else not set(plan.keys) <= assigned
        return plan

    def _classify(self, name: str, snmp: bool, plan: TemplatePlan) -> None:
        key = self.map.ours(name)
        if self.map.is_icmp(name):
            plan.mapped.append(f"{name} → our ICMP engine")
        elif key is None and "SNMP" not in name:
            plan.not_migrated.append(f"{name} ({_why_not(name)})")
        elif not snmp:
            plan.not_migrated.append(f"{name} (no SNMP credential: ICMP only)")
        elif key is None:
            plan.mapped.append(f"{name} → auto-selection by sysObjectID")
        elif key not in self.library:
            plan.not_migrated.append(f"{name} (our template {key} is missing: run load_templates)")
        else:
            plan.keys.append(key)
            plan.mapped.append(f"{name} → {key}")

    def _without_included(self, keys: list[str]) -> list[str]:
        """The keys, each once, without those another of them includes (applying it applies them)."""
        keys = list(dict.fromkeys(keys))
        included = {k for key in keys for k in self._closure(key) if k != key}
        return [key for key in keys if key not in included]

    def _closure(self, key: str) -> set[str]:
        found, pending = set(), [key]
        while pending:
            current = pending.pop()
            if current not in found and current in self.library:
                found.add(current)
                pending.extend(self.library[current].includes)
        return found


def _why_not(name: str) -> str:
    match = COLLECTED_BY.search(name)
    kind = f"collected by {match.group(1)}" if match else "not an SNMP template"
    return f"{kind}: we collect by SNMP and ICMP only"


def apply_templates(devices: list[tuple[Device, TemplatePlan]]) -> None:
    """Poll the devices once, all together (their facts and interfaces, as the scheduler would), then apply each
    one's templates, or the one auto-selection picks; what happened goes to each plan's `results`."""
    if not devices:
        return
    library = {t.key: t for t in MonitoringTemplate.objects.all()}
    polls = {r.device_id: r for r in snmp_services.run_batch([d.pk for d, _ in devices], force=True)}
    for device, plan in devices:
        error = polls[device.pk].error if device.pk in polls else "not polled"
        if plan.keys:
            plan.results += [str(applier.apply(library[key], device)) for key in plan.keys]
        elif error:
            plan.results.append(f"no template chosen: SNMP did not answer ({error}); pick one later with "
                                "'Pick and apply the matching template'")
        else:
            plan.results.append(_auto_apply(device))


def _auto_apply(device: Device) -> str:
    try:
        template, report = applier.auto_apply(device)
    except (SNMPError, snmp_services.SNMPConfigError) as exc:
        return f"no template chosen: {exc}"
    if template is None:
        return "no template matches its sysObjectID/sysDescr"
    return f"auto-selected: {report}"

"""An import plan (or its result) for people, one line per host and per credential, and as JSON for the API."""
from __future__ import annotations

from zabbix_bridge.migration.plan import CONVERT, CREATE, SKIP, UNCHANGED, UPDATE, HostPlan, Plan

VERBS = {CREATE: ("would create", "created"), CONVERT: ("would convert", "converted"),
         UPDATE: ("would update", "updated"), UNCHANGED: ("unchanged", "unchanged"), SKIP: ("would skip", "skipped")}
FIELD_WORDS = {"vendor": "vendor", "model": "model", "serial_number": "serial", "os_version": "OS",
               "location": "location", "latitude": "latitude", "longitude": "longitude"}


def changes(hp: HostPlan) -> list[str]:
    """What the host's device gets, in words."""
    said = []
    if hp.fields.get("icmp_enabled"):
        said.append("ICMP on")
    if hp.credential is not None and "snmp_credential" in hp.fields:
        new = ", new" if hp.credential.new else ""
        port = f" port {hp.fields['snmp_port']}" if hp.fields.get("snmp_port", 161) != 161 else ""
        said.append(f"{hp.credential.access.describe()}{port} with credential {hp.credential.name!r}{new}"
                    + (f" ({'; '.join(hp.snmp.sources)})" if hp.snmp and hp.snmp.sources else ""))
    if hp.fields.get("group"):
        said.append(f"group {hp.fields['group']!r}")
    inventory = [word for name, word in FIELD_WORDS.items() if name in hp.fields]
    if inventory:
        said.append(f"inventory {', '.join(inventory)}")
    if hp.tags:
        said.append(f"tags {', '.join(hp.tags)}")
    if hp.source_both:
        said.append(f"source {hp.device.source} → both" if hp.device else "source both")
    return said


def host_line(hp: HostPlan, dry_run: bool) -> str:
    """`verb name (address): what happens; why` for one host."""
    verb = VERBS[hp.action][0 if dry_run else 1]
    device = f" as {hp.device_name!r}" if hp.device_name and hp.device_name != hp.host else ""
    where = f" ({hp.address})" if hp.address else ""
    parts = changes(hp) if hp.action != UNCHANGED else []
    if hp.action != SKIP:
        if hp.credential is None and not hp.snmp_polled:
            parts.append("not polled by SNMP")
        parts.append(hp.templates.describe())
    if hp.needs_credential:
        parts.append(f"needs a credential: {hp.needs_credential}")
    parts += hp.notes + hp.templates.results
    return f"{verb:<13} {hp.host}{device}{where}: " + "; ".join(p for p in parts if p)


def lines(plan: Plan) -> list[str]:
    """The plan (or what was done) as text: hosts, credentials, groups, what needs attention, totals."""
    out = [f"Zabbix server {plan.server.name}, host groups: {', '.join(plan.group_filter or []) or 'all'}"]
    out += ["", "Hosts:"] + [f"  {host_line(hp, plan.dry_run)}" for hp in plan.hosts]
    out += ["", "SNMP credentials:"]
    for choice in plan.credentials:
        verb = ("would create" if plan.dry_run else "created") if choice.new else "unchanged"
        out.append(f"  {verb:<13} {choice.name!r} ({choice.access.describe()}): "
                   f"{len(choice.hosts)} host{'s' if len(choice.hosts) != 1 else ''}")
    out += ["  (none)"] if not plan.credentials else []
    if plan.new_groups:
        out += ["", f"Device groups {'to create' if plan.dry_run else 'created'}: {', '.join(plan.new_groups)}"]
    needs = [hp for hp in plan.hosts if hp.needs_credential]
    if needs:
        out += ["", "Needs a credential (imported with ICMP only; set one on the device):"]
        out += [f"  {hp.host}: {hp.needs_credential}" for hp in needs]
    not_migrated = [(hp.host, name) for hp in plan.hosts for name in hp.templates.not_migrated]
    if not_migrated:
        out += ["", "Zabbix templates not migrated:"] + [f"  {host}: {name}" for host, name in not_migrated]
    counts = plan.count()
    out += ["", "Totals: " + ", ".join(f"{n} {VERBS[action][0 if plan.dry_run else 1]}"
                                        for action, n in counts.items() if n)]
    if plan.monitoring:
        out.append(f"Monitoring: {plan.monitoring}")
    out.append(f"Read {len(plan.hosts)} hosts in {plan.calls} API calls; {plan.seconds:.1f} s.")
    out.append("Dry run: nothing was changed." if plan.dry_run else "Imported.")
    return out


def as_dict(plan: Plan) -> dict:
    """The plan or result for the API."""
    return {
        "server": plan.server.name, "groups": plan.group_filter or [], "dry_run": plan.dry_run,
        "hosts": [_host_dict(hp, plan.dry_run) for hp in plan.hosts],
        "credentials": [choice.as_dict() for choice in plan.credentials],
        "new_groups": plan.new_groups, "counts": plan.count(),
        "needs_credential": [{"host": hp.host, "reason": hp.needs_credential} for hp in plan.hosts
                             if hp.needs_credential],
        "monitoring": plan.monitoring, "api_calls": plan.calls, "seconds": round(plan.seconds, 2),
    }


def _host_dict(hp: HostPlan, dry_run: bool) -> dict:
    return {"hostid": hp.hostid, "host": hp.host, "action": hp.action, "address": hp.address,
            "device": hp.device_name or None, "changes": changes(hp),
            "credential": hp.credential.name if hp.credential else None, "needs_credential": hp.needs_credential,
            "templates": hp.templates.as_dict(), "notes": hp.notes, "line": host_line(hp, dry_run)}

"""Zabbix problems -> our alerts (source zabbix): opened, kept in step (severity, acknowledgements,
suppression), resolved when Zabbix no longer has them open."""
from __future__ import annotations

from datetime import datetime, timezone as tz

from alerts.choices import AlertSource, AlertStatus, Suppression
from alerts.models import Alert
from templates_app.choices import Severity
from zabbix_bridge.client import Ack, Problem
from zabbix_bridge.models import ZabbixProblem, ZabbixServer

# Zabbix severity (0 not classified ... 5 disaster) -> ours
SEVERITIES = {0: Severity.INFO, 1: Severity.INFO, 2: Severity.LOW, 3: Severity.MEDIUM, 4: Severity.HIGH,
              5: Severity.CRITICAL}
ACKNOWLEDGED = 2  # event.acknowledge's "acknowledge" bit, the same in every version
ALERT_FIELDS = ["name", "detail", "severity", "suppression", "suppression_detail", "acknowledged_at",
                "acknowledged_by", "acknowledgement", "last_seen_at", "device", "labels", "status", "resolved_at"]
COMPARED = [Alert._meta.get_field(f).attname for f in ALERT_FIELDS if f != "last_seen_at"]  # ids, not objects


def apply(server: ZabbixServer, problems: list[Problem], links: dict[str, int], summary, now: datetime) -> None:
    """Open, update and resolve the server's alerts after its open problems; a problem of no synced host is
    left out (its host is outside the groups we take)."""
    ours = {zp.eventid: zp for zp in ZabbixProblem.objects.filter(
        server=server, eventid__in=[p.eventid for p in problems]).select_related("alert")}
    open_ids, new, changed = set(), [], []
    for problem in problems:
        device_id = next((links[h] for h in problem.hostids if h in links), None)
        if device_id is None:
            continue
        open_ids.add(problem.eventid)
        zp = ours.get(problem.eventid)
        if zp is None:
            new.append((problem, _new_alert(server, problem, device_id, now)))
        elif _update(zp.alert, problem, device_id, now) | _acks_changed(zp, problem):
            changed.append(zp)
    _create(server, new)
    Alert.objects.bulk_update([zp.alert for zp in changed], ALERT_FIELDS, batch_size=500)
    ZabbixProblem.objects.bulk_update(changed, ["acknowledges"], batch_size=500)
    summary.opened, summary.problems = len(new), len(open_ids)
    summary.resolved = resolve_missing(server, open_ids, now)


def _new_alert(server: ZabbixServer, problem: Problem, device_id: int, now: datetime) -> Alert:
    alert = Alert(source=AlertSource.ZABBIX, fingerprint=f"zabbix:{server.pk}:{problem.eventid}",
                  status=AlertStatus.FIRING, pending_since=problem.started, triggered_at=problem.started,
                  external_url=server.problem_link(problem.eventid, problem.triggerid)[:500])
    _update(alert, problem, device_id, now)
    return alert


def _update(alert: Alert, problem: Problem, device_id: int, now: datetime) -> bool:
    """Bring the alert in line with the problem; whether anything but last_seen_at changed."""
    before = [getattr(alert, f) for f in COMPARED]
    alert.name, alert.detail = problem.name[:255] or f"Zabbix trigger {problem.triggerid}", problem.opdata[:255]
    alert.severity = SEVERITIES.get(problem.severity, Severity.INFO)
    alert.device_id = device_id
    alert.labels = {"device_id": str(device_id), "zabbix_eventid": problem.eventid,
                    "zabbix_triggerid": problem.triggerid}
    alert.suppression = Suppression.AT_SOURCE if problem.suppressed else ""
    alert.suppression_detail = "suppressed in Zabbix (maintenance or by hand)" if problem.suppressed else ""
    ack = _last_acknowledgement(problem.acknowledges) if problem.acknowledged else None
    if ack is None:
        alert.acknowledged_at, alert.acknowledged_by_id, alert.acknowledgement = None, None, ""
    elif alert.acknowledged_at is None:  # acknowledged in Zabbix (ours arrive with acknowledged_by set)
        alert.acknowledged_at = datetime.fromtimestamp(ack.clock, tz.utc)
        alert.acknowledgement = f"{ack.username}: {ack.message}".strip().rstrip(":")
    alert.status, alert.resolved_at = AlertStatus.FIRING, None  # open in Zabbix (again, if its host was out)
    alert.last_seen_at = now
    return before != [getattr(alert, f) for f in COMPARED]


def _last_acknowledgement(acks: list[Ack]) -> Ack | None:
    """The latest acknowledgement among the problem's actions (messages alone do not acknowledge)."""
    found = [a for a in acks if a.action & ACKNOWLEDGED]
    return max(found, key=lambda a: a.clock) if found else None


def _acks_changed(zp: ZabbixProblem, problem: Problem) -> bool:
    acks = [{"user": a.username, "clock": a.clock, "message": a.message, "action": a.action}
            for a in problem.acknowledges]
    if acks == zp.acknowledges:
        return False
    zp.acknowledges = acks
    return True


def _create(server: ZabbixServer, new: list[tuple[Problem, Alert]]) -> None:
    alerts = Alert.objects.bulk_create([alert for _, alert in new], batch_size=500)
    rows = [ZabbixProblem(server=server, eventid=p.eventid, triggerid=p.triggerid, alert=alert)
            for (p, _), alert in zip(new, alerts)]
    for row, (problem, _) in zip(rows, new):
        _acks_changed(row, problem)
    ZabbixProblem.objects.bulk_create(rows, batch_size=500)


def resolve_missing(server: ZabbixServer, open_ids: set[str], now: datetime) -> int:
    """Alerts of problems Zabbix no longer has open are resolved; returns how many."""
    gone = Alert.objects.filter(zabbix_problem__server=server, status=AlertStatus.FIRING).exclude(
        zabbix_problem__eventid__in=open_ids)
    return gone.update(status=AlertStatus.RESOLVED, resolved_at=now)

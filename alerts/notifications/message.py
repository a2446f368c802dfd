"""What a notification says, built once per event and rendered by each channel."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from alerts.models import Alert
from wardsite.numbers import readable


@dataclass(frozen=True)
class Message:
    """One event of one alert (or a test): the facts every channel renders its own way."""

    event: str  # firing, resolved, repeat, escalation, test
    state: str  # firing or resolved
    rule: str
    severity: str
    subject: str
    value: float | None = None
    alert_id: int | None = None
    device: dict[str, Any] | None = None
    labels: dict[str, str] = field(default_factory=dict)
    since: str = ""
    resolved_at: str = ""
    description: str = ""
    runbook_url: str = ""

    @property
    def title(self) -> str:
        prefix = {"test": "TEST", "repeat": "STILL FIRING", "escalation": "ESCALATED", "flapping": "FLAPPING"}.get(
            self.event, self.state.upper())
        return f"[{prefix}] {self.rule} on {self.subject} ({self.severity})"

    @property
    def text(self) -> str:
        lines = [self.title, f"value: {readable(self.value)}" if self.value is not None else "",
                 f"since: {self.since}" if self.since else "", f"resolved: {self.resolved_at}" if self.resolved_at else "",
                 self.description, f"runbook: {self.runbook_url}" if self.runbook_url else ""]
        return "\n".join(line for line in lines if line)

    def as_json(self) -> dict[str, Any]:
        """The default webhook body."""
        return {"event": self.event, "state": self.state, "rule": self.rule, "severity": self.severity,
                "subject": self.subject, "value": self.value, "alert_id": self.alert_id, "device": self.device,
                "labels": self.labels, "since": self.since, "resolved_at": self.resolved_at,
                "description": self.description, "runbook_url": self.runbook_url, "title": self.title}

    @classmethod
    def of(cls, alert: Alert, event: str) -> Message:
        rule, device = alert.rule, alert.device
        return cls(
            event=event, state="resolved" if alert.resolved_at else "firing", rule=rule.name,
            severity=alert.severity, subject=alert.subject, value=alert.value, alert_id=alert.pk,
            device={"id": device.pk, "name": device.name, "address": device.address} if device else None,
            labels=alert.labels, since=_iso(alert.triggered_at or alert.pending_since),
            resolved_at=_iso(alert.resolved_at), description=rule.description, runbook_url=rule.runbook_url)

    @classmethod
    def test(cls, channel_name: str) -> Message:
        return cls(event="test", state="firing", rule="Test notification", severity="info",
                   subject=f"channel {channel_name}", description="Sent from WARD FLUX to check this channel.")


def _iso(moment) -> str:
    return moment.isoformat() if moment else ""

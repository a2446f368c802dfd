"""The audit trail: who changed which configuration, when, from where, and each field's value before and after.

django-auditlog records the changes (model signals: create, update, delete, many-to-many). This module decides
which models are configuration (what a person configures is audited, what the monitor observes is not), redacts
secrets by field type, and says who made a change: the user of a web or API request (after DRF authenticated
it, whatever the token class) and its client address, a management command ("command import_config", and the
OS user), or a Celery task. docs/audit.md says the same for operators.
"""
from __future__ import annotations

import functools
import getpass
import ipaddress
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import datetime, timedelta

from auditlog.models import LogEntry
from auditlog.registry import auditlog
from auditlog.signals import pre_log
from celery.signals import task_postrun, task_prerun
from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db.models import Model
from django.db.models.signals import pre_save
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from encrypted_fields.fields import EncryptedFieldMixin
from rest_framework.throttling import BaseThrottle

# Every model of these apps is audited, except those named in OBSERVED_MODELS.
AUDITED_APPS = ("devices", "snmp", "icmp", "alerts", "discovery", "templates_app", "zabbix_bridge")
# ...and these models of other apps: accounts, roles and schedules.
AUDITED_MODELS = ("auth.User", "auth.Group", "django_celery_beat.PeriodicTask",
                  "django_celery_beat.IntervalSchedule", "django_celery_beat.CrontabSchedule")
# What the monitor observes, writes or syncs by itself: state, history, alerts, scan results, Zabbix's copies.
OBSERVED_MODELS = frozenset({
    "devices.DeviceStateChange", "snmp.SNMPStatus", "icmp.PingStatus", "alerts.Alert", "alerts.Delivery",
    "discovery.DiscoveryRun", "discovery.DiscoveryResult", "discovery.DeviceIdentity",
    "zabbix_bridge.ZabbixHost", "zabbix_bridge.ZabbixProblem",
})
# Rows the monitor finds by itself but with a switch a person sets: only changes of those fields are audited,
# never the rows' coming and going.
SWITCHES_ONLY = {"snmp.Interface": ("enabled",)}
# Fields the monitor or bookkeeping writes on configuration models: left out of the before/after.
RUNTIME_FIELDS = {
    "devices.Device": ("state", "state_since", "last_seen", "updated"),
    "snmp.MonitoringItem": ("next_due_at", "last_polled_at", "last_value", "last_error"),
    "alerts.AlertRule": ("updated_at",),
    "discovery.DiscoveryRule": ("last_run_at", "updated"),
    "templates_app.MonitoringTemplate": ("available_version", "updated"),
    "templates_app.TemplateAssignment": ("applied_at", "error"),
    "zabbix_bridge.ZabbixServer": ("version", "last_sync_at", "last_attempt_at", "last_error", "last_sync_summary"),
    "auth.User": ("last_login",),
    "django_celery_beat.PeriodicTask": ("last_run_at", "total_run_count", "date_changed"),
}
# Secrets that are not encrypted fields (those are found by type): password hashes.
HASHED_FIELDS = {"auth.User": ("password",)}
REDACTED = "********"


def redact(value: str) -> str:
    """A secret as the audit trail shows it: whether one is set, never any part of it."""
    return value if value in ("", "None") else REDACTED


# --- which models, which fields ----------------------------------------------------------------------------------

def audited_models() -> list[type[Model]]:
    """The configuration models: every model of AUDITED_APPS and AUDITED_MODELS, less OBSERVED_MODELS."""
    found = [model for label in AUDITED_APPS for model in apps.get_app_config(label).get_models()]
    found += [apps.get_model(label) for label in AUDITED_MODELS]
    return [model for model in found if model._meta.label not in OBSERVED_MODELS]


def secret_fields(model: type[Model]) -> list[str]:
    """Fields whose values the trail never shows: every encrypted field (SecretField included), password hashes."""
    encrypted = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedFieldMixin)]
    return encrypted + list(HASHED_FIELDS.get(model._meta.label, ()))


def register_audited_models() -> None:
    """Register the configuration models with django-auditlog and say who makes changes (AppConfig.ready)."""
    for model in audited_models():
        label = model._meta.label
        auditlog.register(
            model,
            include_fields=list(SWITCHES_ONLY.get(label, ())),  # empty: every field
            exclude_fields=[*RUNTIME_FIELDS.get(label, ()), *_reverse_relations(model)],
            mask_fields=secret_fields(model),
            m2m_fields={field.name for field in model._meta.many_to_many},
        )
    pre_log.connect(_skip_found_rows, dispatch_uid="wardsite.audit.switches_only")
    pre_save.connect(_record_source, sender=LogEntry, dispatch_uid="wardsite.audit.source")
    task_prerun.connect(_task_started, dispatch_uid="wardsite.audit.task_started", weak=False)
    task_postrun.connect(_task_finished, dispatch_uid="wardsite.audit.task_finished", weak=False)
    _audit_commands()


def _reverse_relations(model: type[Model]) -> list[str]:
    """Other models' keys to this one (a template's items): they are those models' entries, not this one's."""
    return [field.name for field in model._meta.get_fields() if field.auto_created and not field.concrete]


def _skip_found_rows(sender: type[Model], instance: Model, action: int, **kwargs) -> bool:
    """pre_log: False (no entry) when the monitor adds or removes a row it found, e.g. an interface."""
    return not (sender._meta.label in SWITCHES_ONLY and action != LogEntry.Action.UPDATE)


# --- who: a request, a command or a task ---------------------------------------------------------------------

@dataclass(frozen=True)
class Source:
    """Where the changes of the running code come from: a request, or a command or task by name."""

    via: str  # "request", "command" or "task"
    name: str = ""
    request: HttpRequest | None = None


_source: ContextVar[Source | None] = ContextVar("wardflux_audit_source", default=None)


@contextmanager
def changes_from(source: Source, *, outermost: bool = False) -> Iterator[None]:
    """Attribute the changes made inside to `source`; with `outermost`, keep a source already set (a command
    calling another, a task run eagerly inside a request)."""
    if outermost and _source.get() is not None:
        yield
        return
    token = _source.set(source)
    try:
        yield
    finally:
        _source.reset(token)


class AuditMiddleware:
    """Changes made while handling a request are the request user's, from the client's address.

    The user is read when an entry is written, not when the request comes in: by then DRF has authenticated a
    token (and set the request's user), which the session middleware could not see.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with changes_from(Source("request", request=request)):
            return self.get_response(request)


def client_address(request: HttpRequest) -> str:
    """The client's address, the way the API's throttling sees it (API_NUM_PROXIES decides X-Forwarded-For)."""
    return BaseThrottle().get_ident(request) or ""


def _request_details(entry: LogEntry, request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and entry.actor_id is None:
        entry.actor, entry.actor_email = user, user.email or None
    address = client_address(request)
    try:
        entry.remote_addr = str(ipaddress.ip_address(address))
    except ValueError:
        entry.remote_addr = None
    via = "admin" if request.path.startswith("/admin/") else "api" if request.path.startswith("/api/") else "web"
    details = {"via": via, "request": f"{request.method} {request.path}"[:300]}
    if entry.remote_addr is None and address:
        details["client"] = address[:100]
    return details


def _record_source(sender: type[LogEntry], instance: LogEntry, **kwargs) -> None:
    """pre_save of a new log entry: who made the change, from where."""
    source = _source.get()
    if source is None or instance.pk is not None:
        return
    if source.request is not None:
        details = _request_details(instance, source.request)
    else:
        details = {"via": source.via, source.via: source.name, "os_user": _os_user()}
    if instance.actor is not None:
        details["user"] = instance.actor.get_username()  # kept when the user is deleted later
    instance.additional_data = {**(instance.additional_data or {}), **details}


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry for the uid (containers)
        return str(os.getuid())


def actor_label(entry: LogEntry) -> str:
    """Who, in words: the user's name, 'command import_config', 'task discovery.scan', or 'system'."""
    data = entry.additional_data or {}
    if entry.actor_id is not None:
        return entry.actor.get_username()
    if data.get("user"):
        return f"{data['user']} (deleted)"
    if data.get("via") in ("command", "task"):
        return f"{data['via']} {data.get(data['via'], '')}".strip()
    return "system"


_task_tokens: dict[str, Token] = {}


def _task_started(task_id: str, task, **kwargs) -> None:
    if _source.get() is None:  # run eagerly inside a request or command: theirs
        _task_tokens[task_id] = _source.set(Source("task", task.name))


def _task_finished(task_id: str, **kwargs) -> None:
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        _source.reset(token)


def _audit_commands() -> None:
    """Every management command's changes are "command <name>": Django sends no signal when a command runs, so
    BaseCommand.execute (manage.py and call_command alike) is wrapped once."""
    execute = BaseCommand.execute
    if getattr(execute, "audited", False):
        return

    @functools.wraps(execute)
    def audited_execute(self: BaseCommand, *args, **options):
        name = type(self).__module__.rpartition(".")[2]
        with changes_from(Source("command", name), outermost=True):
            return execute(self, *args, **options)

    audited_execute.audited = True
    BaseCommand.execute = audited_execute


# --- retention -------------------------------------------------------------------------------------------------

def delete_expired_entries(now: datetime | None = None) -> int:
    """Delete entries older than AUDIT_RETENTION_DAYS (0 keeps everything); how many went."""
    days = settings.AUDIT_RETENTION_DAYS
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    return LogEntry.objects.filter(timestamp__lt=cutoff).delete()[0]

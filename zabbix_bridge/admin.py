"""The Zabbix servers in the admin, and the Zabbix side of the device page (a column and an inline)."""
from __future__ import annotations

from datetime import UTC, datetime

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from devices.admin_extensions import device_page
from devices.models import Device
from wardsite.admin_inlines import StackedInline
from wardsite.forms import WriteOnlySecretsForm
from zabbix_bridge import migration, services
from zabbix_bridge.client import ZabbixError
from zabbix_bridge.migration import report
from zabbix_bridge.models import ZabbixHost, ZabbixProblem, ZabbixServer
from zabbix_bridge.sync import SyncFailed


class ZabbixServerForm(WriteOnlySecretsForm):
    secret_fields = ("api_token", "password")

    class Meta:
        model = ZabbixServer
        fields = "__all__"
        formfield_callback = staticmethod(lambda field, **kwargs: field.formfield(
            **({"assume_scheme": "https"} if isinstance(field, models.URLField) else {}), **kwargs))


@admin.register(ZabbixServer)
class ZabbixServerAdmin(admin.ModelAdmin):
    form = ZabbixServerForm
    list_display = ("name", "url", "enabled", "version", "last_sync_at", "last_error", "schedule")
    list_filter = ("enabled",)
    # the schedule column names the periodic task and its schedule (any of its four kinds)
    list_select_related = tuple(f"schedule__{kind}" for kind in ("interval", "crontab", "solar", "clocked"))
    search_fields = ("name", "url")
    readonly_fields = ("version", "last_sync_at", "last_attempt_at", "last_error", "last_sync_summary", "schedule")
    actions = ("test_connection", "sync_now", "import_hosts")
    fieldsets = (
        (None, {"fields": ("name", "url", "enabled", "host_groups")}),
        ("Authentication (a token, or a user and password)", {"fields": ("api_token", "username", "password")}),
        ("Connection", {"fields": ("verify_tls", "ca_file", "timeout_seconds")}),
        ("Last sync (the schedule is edited in Periodic tasks)",
         {"fields": ("schedule", "version", "last_sync_at", "last_attempt_at", "last_error", "last_sync_summary")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).defer("api_token", "password")  # the list shows neither

    @admin.action(description="Test the connection", permissions=["change"])
    def test_connection(self, request: HttpRequest, queryset: QuerySet) -> None:
        for server in ZabbixServer.objects.filter(pk__in=queryset.values("pk")):
            try:
                version = services.test_connection(server)
            except ZabbixError as exc:
                self.message_user(request, f"{server.name}: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"{server.name}: connected, Zabbix {version}.", messages.SUCCESS)

    @admin.action(description="Sync now", permissions=["change"])
    def sync_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        for server in ZabbixServer.objects.filter(pk__in=queryset.values("pk")):
            try:
                summary = services.sync_server(server.pk)
            except SyncFailed as exc:
                self.message_user(request, f"{server.name}: sync failed, the last good sync is kept: {exc}",
                                  messages.ERROR)
                continue
            if summary is None:
                self.message_user(request, f"{server.name}: not synced (disabled, or standalone mode).",
                                  messages.WARNING)
            else:
                self.message_user(request, f"{server.name}: {summary.hosts} hosts ({summary.created} new, "
                                           f"{summary.linked} linked, {summary.retired} retired), {summary.problems} "
                                           f"open problems, {summary.calls} API calls in {summary.seconds:.1f} s.",
                                  messages.SUCCESS)

    @admin.action(description="Import hosts as our own devices…", permissions=["change"])
    def import_hosts(self, request: HttpRequest, queryset: QuerySet) -> TemplateResponse | None:
        """First a dry run on a page of its own, then, once confirmed there, the import (docs/zabbix.md)."""
        servers = list(queryset[:2])
        if len(servers) != 1:
            self.message_user(request, "Choose one Zabbix server to import from.", messages.ERROR)
            return None
        confirmed = request.POST.get("confirm") == "yes"
        try:
            plan = migration.run_import(servers[0], dry_run=not confirmed,
                                        activate_standalone_mode=bool(request.POST.get("activate_standalone")))
        except (migration.BadRequest, ZabbixError) as exc:
            self.message_user(request, f"{servers[0].name}: nothing was imported: {exc}", messages.ERROR)
            return None
        title = f"Import the hosts of {servers[0].name}" + ("" if plan.dry_run else ": done")
        return TemplateResponse(request, "admin/zabbix_bridge/zabbixserver/import.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "title": title,
            "server": servers[0], "dry_run": plan.dry_run, "plan_text": "\n".join(report.lines(plan)),
            "action_checkbox_name": ACTION_CHECKBOX_NAME})


@admin.register(ZabbixHost)
class ZabbixHostAdmin(admin.ModelAdmin):
    list_display = ("visible_name", "host", "server", "device", "enabled", "in_maintenance", "available",
                    "removed_at", "zabbix_link")
    list_filter = ("server", "enabled", "in_maintenance", "available", ("removed_at", admin.EmptyFieldListFilter))
    search_fields = ("host", "visible_name", "device__name")
    list_select_related = ("server", "device")
    autocomplete_fields = ("device",)
    readonly_fields = [f.name for f in ZabbixHost._meta.fields if f.name not in ("id", "device")]
    fields = ("device", *readonly_fields)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # hosts come from Zabbix

    def save_model(self, request: HttpRequest, obj: ZabbixHost, form, change: bool) -> None:
        """Only the device can be changed here: linking the host by hand to one of ours."""
        if "device" in form.changed_data:
            services.link_by_hand(ZabbixHost.objects.get(pk=obj.pk), form.cleaned_data["device"])

    @admin.display(description="in Zabbix")
    def zabbix_link(self, obj: ZabbixHost) -> str:
        return format_html('<a href="{}" target="_blank" rel="noopener">open ↗</a>', obj.link)


@admin.register(ZabbixProblem)
class ZabbixProblemAdmin(admin.ModelAdmin):
    """The Zabbix events behind alerts, with the acknowledgements and messages made in Zabbix."""

    list_display = ("alert", "server", "eventid", "conversation", "zabbix_link")
    list_filter = ("server",)
    search_fields = ("eventid", "alert__name", "alert__device__name")
    list_select_related = ("server", "alert__device", "alert__rule")
    readonly_fields = ("server", "eventid", "triggerid", "alert", "conversation", "zabbix_link")
    exclude = ("acknowledges",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="acknowledgements and messages")
    def conversation(self, obj: ZabbixProblem) -> str:
        return format_html_join(mark_safe("<br>"), "{} {}: {}", (
            (datetime.fromtimestamp(a["clock"], UTC).strftime("%Y-%m-%d %H:%M"), a["user"] or "?", a["message"])
            for a in obj.acknowledges))

    @admin.display(description="in Zabbix")
    def zabbix_link(self, obj: ZabbixProblem) -> str:
        return format_html('<a href="{}" target="_blank" rel="noopener">open ↗</a>', obj.link)


class ZabbixHostInline(StackedInline):
    model = ZabbixHost
    fk_name = "device"
    verbose_name = verbose_name_plural = "Zabbix host"
    readonly_fields = ("server", "zabbix_link", "host", "visible_name", "enabled", "in_maintenance", "available",
                       "groups", "templates", "interfaces", "inventory", "tags", "proxy", "synced_at", "removed_at")
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # what Zabbix says: changed in Zabbix

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        """Shown only on the page of a device that is a Zabbix host."""
        return hasattr(obj, "zabbix_host") and super().has_view_permission(request, obj)

    @admin.display(description="in Zabbix")
    def zabbix_link(self, obj: ZabbixHost) -> str:
        return format_html('<a href="{}" target="_blank" rel="noopener">{} ↗</a>', obj.link, obj.hostid)


@admin.display(description="Source", ordering="source")
def source(obj: Device) -> str:
    """Local, Zabbix or both; a Zabbix host links to it in Zabbix's frontend."""
    zh = getattr(obj, "zabbix_host", None)
    if zh is None:
        return obj.get_source_display()
    return format_html('{} <a href="{}" target="_blank" rel="noopener" title="{} on {}">↗</a>',
                       obj.get_source_display(), zh.link, zh.host, zh.server.name)


device_page.add_inlines(ZabbixHostInline, order=50)
device_page.add_columns(source, after="group", select_related=("zabbix_host__server",))

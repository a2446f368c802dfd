import json

from django.contrib import admin, messages
from django.db import models
from django.db.models import Count, OuterRef, Subquery
from django.utils import timezone
from django.utils.html import format_html

from alerts import services
from alerts.choices import AlertStatus
from alerts.engine.suppression import Maintenance
from alerts.models import Alert, AlertRule, Delivery, MaintenanceWindow, NotificationChannel, RuleOverride
from alerts.services import most_severe_first
from devices.admin_extensions import device_page
from devices.models import Device
from wardsite.admin_display import rounded_column
from wardsite.admin_inlines import TabularInline
from wardsite.forms import WriteOnlySecretsForm


class NotificationChannelForm(WriteOnlySecretsForm):
    secret_fields = ("secret",)

    class Meta:
        model = NotificationChannel
        exclude = ("secret_settings",)  # written through `settings`, shown masked (stored_secrets)


@admin.register(NotificationChannel)
class NotificationChannelAdmin(admin.ModelAdmin):
    form = NotificationChannelForm
    list_display = ("name", "kind", "enabled")
    list_filter = ("kind", "enabled")
    search_fields = ("name",)
    readonly_fields = ("stored_secrets",)

    actions = ("send_test",)

    def get_queryset(self, request):
        return super().get_queryset(request).defer("secret", "secret_settings")  # the list never shows them

    @admin.display(description="Stored secret settings")
    def stored_secrets(self, channel: NotificationChannel) -> str:
        """The encrypted settings as far as they may be shown: a URL's scheme and host, header names."""
        return json.dumps(channel.secrets_shown(), ensure_ascii=False) if channel.pk else "-"

    @admin.action(description="Send a test notification", permissions=["change"])
    def send_test(self, request, queryset) -> None:
        for channel in NotificationChannel.objects.filter(pk__in=queryset.values("pk")):  # with the secret
            record = services.send_test(channel)
            level = messages.SUCCESS if record.status == "sent" else messages.ERROR
            self.message_user(request, f"{channel.name}: {record.get_status_display()} {record.error}".strip(), level)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "channel", "event", "alert", "attempt", "status", "duration_ms", "error")
    list_filter = ("status", "event", "channel")
    list_select_related = ("channel", "alert__rule", "alert__device")
    readonly_fields = [f.name for f in Delivery._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False  # deliveries are records of what happened


class RuleOverrideInline(TabularInline):
    model = RuleOverride
    extra = 0
    autocomplete_fields = ("device",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("device")  # in each row's title and its field


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    inlines = (RuleOverrideInline,)
    readonly_fields = ("template_trigger",)
    list_display = ("name", "severity", "expression", "enabled")
    list_filter = ("severity", "enabled", ("template_trigger", admin.EmptyFieldListFilter), "channels")
    search_fields = ("name", "expression", "description")
    filter_horizontal = ("devices", "groups", "tags", "templates", "channels", "escalation_channels")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = (
        (None, {"fields": ("name", "severity", "enabled", "description", "runbook_url", "template_trigger")}),
        ("Condition", {"fields": ("expression", "recovery_expression", "for_seconds")}),
        ("Scope (none: every device)", {"fields": ("devices", "groups", "tags", "templates")}),
        ("Notifications", {"fields": ("channels", "repeat_minutes", "escalate_after_minutes",
                                      "escalation_channels")}),
    )


SEVERITY_COLOURS = {"critical": "#b00020", "high": "#e65100", "medium": "#f9a825", "low": "#1565c0", "info": "#607d8b"}


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ("subject", "title_link", "source", "coloured_severity", "status", rounded_column("value", "value"),
                    "triggered_at", "suppression_detail", "acknowledged", "resolved_at")
    list_filter = ("status", "severity", "source", "suppression", "rule",
                   ("acknowledged_at", admin.EmptyFieldListFilter))
    search_fields = ("rule__name", "name", "device__name", "labels")
    list_select_related = ("rule", "device", "acknowledged_by")
    date_hierarchy = "pending_since"
    actions = ("acknowledge_alerts", "resolve_alerts")
    # every field read-only; the values rounded as a person reads them (the stored ones stay raw)
    readonly_fields = [rounded_column(f.name, f.verbose_name) if isinstance(f, models.FloatField) else f.name
                       for f in Alert._meta.fields]
    exclude = [f.name for f in Alert._meta.fields if isinstance(f, models.FloatField)]

    def has_add_permission(self, request) -> bool:
        return False  # alerts come from the engine

    @admin.display(description="severity", ordering="severity")
    def coloured_severity(self, alert: Alert) -> str:
        return format_html('<b style="color: {}">{}</b>', SEVERITY_COLOURS[alert.severity],
                           alert.get_severity_display())

    @admin.display(description="alert", ordering="rule__name")
    def title_link(self, alert: Alert) -> str:
        """The rule's name, or the Zabbix problem's name linking to it in Zabbix's frontend."""
        if alert.external_url:
            return format_html('{} <a href="{}" target="_blank" rel="noopener">↗</a>', alert.title, alert.external_url)
        return alert.title

    @admin.display(description="acknowledged", ordering="acknowledged_at")
    def acknowledged(self, alert: Alert) -> str:
        """Who acknowledged: our user, or as the source said (a Zabbix user's acknowledgement)."""
        if alert.acknowledged_at is None:
            return ""
        return str(alert.acknowledged_by or alert.acknowledgement.partition(":")[0] or "yes")

    @admin.action(description="Acknowledge the selected alerts", permissions=["change"])
    def acknowledge_alerts(self, request, queryset) -> None:
        self._act(request, "acknowledged", lambda: services.acknowledge(queryset, request.user))

    @admin.action(description="Resolve the selected alerts", permissions=["change"])
    def resolve_alerts(self, request, queryset) -> None:
        self._act(request, "resolved", lambda: services.resolve(queryset, request.user))

    def _act(self, request, what: str, act) -> None:
        try:
            count = act()
        except services.RemoteRefused as exc:
            self.message_user(request, f"Nothing {what}: {exc}", messages.ERROR)
        else:
            self.message_user(request, f"{count} alerts {what}.")


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(admin.ModelAdmin):
    list_display = ("name", "starts_at", "ends_at", "recurrence", "duration_minutes", "suppress_evaluation")
    list_filter = ("suppress_evaluation",)
    search_fields = ("name", "comment")
    filter_horizontal = ("devices", "groups", "tags")


# The device list: each device's firing alerts (how many, the worst severity), and who is in maintenance now.
_FIRING = Alert.objects.filter(device=OuterRef("pk"), status=AlertStatus.FIRING)


@admin.display(description="alerts", ordering="open_alerts", empty_value="")
def open_alerts(device: Device) -> str:
    if not device.open_alerts:
        return ""
    return format_html('<span style="background:{};color:#fff;border-radius:4px;padding:1px 6px" title="{} firing, '
                       'the worst {}">{} {}</span>', SEVERITY_COLOURS[device.worst_severity], device.open_alerts,
                       device.worst_severity, device.open_alerts, device.worst_severity)


class MaintenanceFilter(admin.SimpleListFilter):
    title = "maintenance"
    parameter_name = "maintenance"

    def lookups(self, request, model_admin) -> list[tuple[str, str]]:
        return [("now", "In maintenance now"), ("no", "Not in maintenance")]

    def queryset(self, request, queryset):
        if self.value() not in ("now", "no"):
            return queryset
        windows = Maintenance.at(timezone.now()).windows
        if any(cover.device_ids is None for cover in windows):  # a window without scope covers every device
            return queryset if self.value() == "now" else queryset.none()
        covered = set().union(*(cover.device_ids for cover in windows))
        return queryset.filter(pk__in=covered) if self.value() == "now" else queryset.exclude(pk__in=covered)


device_page.add_columns(open_alerts, after="state_badge", annotations={
    "open_alerts": Subquery(_FIRING.values("device").annotate(n=Count("pk")).values("n")[:1]),
    "worst_severity": Subquery(most_severe_first(_FIRING).values("severity")[:1])})
device_page.add_filters(MaintenanceFilter)

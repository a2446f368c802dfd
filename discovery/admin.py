from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html

from discovery import inventory, scanner, schedules, targets, tasks
from discovery.models import AllowedNetwork, DeviceIdentity, DiscoveryResult, DiscoveryRule, DiscoveryRun, RuleCredential
from wardsite.admin_inlines import TabularInline


@admin.register(AllowedNetwork)
class AllowedNetworkAdmin(admin.ModelAdmin):
    list_display = ("network", "description")
    search_fields = ("network", "description")


class RuleCredentialInline(TabularInline):
    model = RuleCredential
    extra = 1
    autocomplete_fields = ("credential",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("credential")  # in each row's title and its field


class DiscoveryRuleForm(forms.ModelForm):
    schedule_cron = forms.CharField(
        label="Schedule", required=False,
        help_text="daily (03:00), weekly (Sundays 03:00), a cron expression in TIME_ZONE such as '0 */6 * * *', or "
                  "blank for none. It is a Periodic task, also editable there.")

    class Meta:
        model = DiscoveryRule
        fields = "__all__"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["schedule_cron"].initial = schedules.current_cron(self.instance)

    def clean_schedule_cron(self) -> str:
        try:
            return schedules.cron_of(self.cleaned_data["schedule_cron"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None


@admin.register(DiscoveryRule)
class DiscoveryRuleAdmin(admin.ModelAdmin):
    form = DiscoveryRuleForm
    inlines = (RuleCredentialInline,)
    list_display = ("name", "targets", "enabled", "auto_add", "device_group", "last_run_at")
    list_filter = ("enabled", "auto_add")
    list_select_related = ("device_group",)
    search_fields = ("name", "targets")
    autocomplete_fields = ("device_group",)
    actions = ("scan_now",)

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        schedules.set_schedule(obj, form.cleaned_data["schedule_cron"])

    @admin.action(description="Scan now", permissions=["scan"])
    def scan_now(self, request, queryset) -> None:
        for rule in queryset:
            try:
                run = scanner.start(rule, user=request.user)
            except (targets.TargetError, targets.ScanRefused) as exc:
                self.message_user(request, f"{rule}: {exc}", messages.ERROR)
                continue
            tasks.run.delay(run.pk)
            self.message_user(request, f"{rule}: run #{run.pk} queued; follow it under Discovery runs.")

    def has_scan_permission(self, request) -> bool:
        return request.user.has_perm("discovery.add_discoveryrun")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Written by scans only."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(DiscoveryRun)
class DiscoveryRunAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "state", "progress_bar", "addresses", "alive", "snmp", "new", "updated", "started_at",
                    "duration_seconds", "errors")
    list_filter = ("state", "rule")
    list_select_related = ("rule",)  # each run is named by its rule

    @admin.display(description="progress", ordering="progress")
    def progress_bar(self, run: DiscoveryRun) -> str:
        return format_html('<progress value="{}" max="100"></progress> {}%', run.progress, run.progress)


@admin.register(DiscoveryResult)
class DiscoveryResultAdmin(ReadOnlyAdmin):
    list_display = ("ip", "hostname", "sys_name", "vendor", "device_type", "os", "os_version", "snmp_reachable",
                    "matched_device", "added_to_monitoring", "run")
    list_filter = ("snmp_reachable", "device_type", "vendor", "added_to_monitoring", "run__rule")
    search_fields = ("ip", "hostname", "sys_name", "sys_descr", "serial")
    list_select_related = ("run__rule", "matched_device")
    actions = ("add_to_monitoring",)

    @admin.action(description="Add to monitoring (with the credential that worked and the auto-selected template)",
                  permissions=["add_device"])
    def add_to_monitoring(self, request, queryset) -> None:
        devices, skipped = inventory.add_results(list(queryset.select_related("run__rule")))
        self.message_user(request, f"{len(devices)} device(s): {', '.join(sorted({d.name for d in devices}))}")
        for address, why in skipped.items():
            self.message_user(request, f"{address} not added: {why}", messages.WARNING)

    def has_add_device_permission(self, request) -> bool:
        return request.user.has_perm("devices.add_device")


@admin.register(DeviceIdentity)
class DeviceIdentityAdmin(ReadOnlyAdmin):
    list_display = ("device", "sys_name", "engine_id", "serial", "last_discovered_at")
    search_fields = ("device__name", "sys_name", "engine_id", "serial")

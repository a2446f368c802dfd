from django import forms
from django.contrib import admin

from snmp import services
from snmp.models import SECRET_FIELDS, Interface, MonitoringItem, SNMPCredential
from wardsite.forms import WriteOnlySecretsForm


class SNMPCredentialForm(WriteOnlySecretsForm):
    secret_fields = SECRET_FIELDS

    class Meta:
        model = SNMPCredential
        fields = "__all__"


@admin.register(SNMPCredential)
class SNMPCredentialAdmin(admin.ModelAdmin):
    form = SNMPCredentialForm
    list_display = ("name", "version", "security_name", "auth_protocol", "priv_protocol")
    list_filter = ("version",)
    search_fields = ("name", "security_name")

    def get_queryset(self, request):
        # the list never needs the secrets: don't decrypt them
        return super().get_queryset(request).defer(*SECRET_FIELDS)


def save_item_form(form: forms.ModelForm) -> None:
    """Save an item form; what the operator changed on a template-made item is kept as an override."""
    item = form.save(commit=False)
    if item.pk is None:
        item.save()
    else:
        services.record_overrides(item, {name: form.cleaned_data[name] for name in form.changed_data})


@admin.register(MonitoringItem)
class MonitoringItemAdmin(admin.ModelAdmin):
    list_display = ("name", "device", "metric", "oid", "interval_seconds", "value_type", "enabled", "last_value",
                    "template_item")
    list_filter = ("enabled", "value_type", "template_item__template")
    list_select_related = ("device", "template_item__template")
    search_fields = ("name", "metric", "oid", "device__name")
    autocomplete_fields = ("device",)
    readonly_fields = ("template_item", "overrides", "last_value", "last_error", "last_polled_at")
    actions = ("reset_overrides",)

    def save_model(self, request, obj, form, change) -> None:
        save_item_form(form)

    @admin.action(description="Forget overrides (the template's values apply at its next application)",
                  permissions=["change"])
    def reset_overrides(self, request, queryset) -> None:
        self.message_user(request, f"Overrides forgotten on {queryset.update(overrides=[])} items.")


@admin.register(Interface)
class InterfaceAdmin(admin.ModelAdmin):
    list_display = ("device", "if_index", "name", "alias", "speed_bps", "admin_status", "oper_status", "enabled")
    list_filter = ("enabled", "oper_status", "admin_status")
    list_select_related = ("device",)
    search_fields = ("name", "descr", "alias", "device__name")
    list_editable = ("enabled",)
    readonly_fields = ("updated",)

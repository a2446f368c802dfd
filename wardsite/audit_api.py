"""`/api/v1/audit/`: the audit trail, read-only (list and retrieve), for users with `auditlog.view_logentry`."""
from __future__ import annotations

from datetime import UTC, datetime

import django_filters
from auditlog.models import LogEntry
from django.db.models import Q, QuerySet
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.viewsets import ReadOnlyModelViewSet

from wardsite.api import OptionalSlashRouter
from wardsite.audit import actor_label, audited_models
from wardsite.permissions import ModelPermissions

ACTIONS = {"create": LogEntry.Action.CREATE, "update": LogEntry.Action.UPDATE, "delete": LogEntry.Action.DELETE}
ACTION_NAMES = {number: name for name, number in ACTIONS.items()}


def _model_choices() -> list[tuple[str, str]]:
    return sorted((model._meta.label_lower, model._meta.label) for model in audited_models())


class AuditEntryFilterSet(django_filters.FilterSet):
    model = django_filters.ChoiceFilter(
        choices=_model_choices, method="filter_model", help_text="app_label.model, e.g. snmp.snmpcredential.")
    object = django_filters.CharFilter(field_name="object_pk", help_text="The changed object's id.")
    actor = django_filters.CharFilter(
        method="filter_actor", help_text="A user name, or 'command <name>' / 'task <name>' for changes made by "
                                         "a management command or a Celery task.")
    action = django_filters.ChoiceFilter(choices=[(name, name) for name in ACTIONS], method="filter_action")
    since = django_filters.IsoDateTimeFilter(method="filter_instant", lookup_expr="gte",
                                             help_text="Entries at or after this time (ISO 8601).")
    until = django_filters.IsoDateTimeFilter(method="filter_instant", lookup_expr="lt",
                                             help_text="Entries before this time (ISO 8601).")

    class Meta:
        model = LogEntry
        fields = ["model", "object", "actor", "action", "since", "until"]

    def filter_instant(self, queryset: QuerySet, name: str, value: datetime) -> QuerySet:
        """`since`/`until`, compared in UTC: Python takes UTC offsets up to ±23:59, PostgreSQL only ±15:59."""
        try:
            instant = value.astimezone(UTC)
        except OverflowError:
            raise ValidationError({name: ["out of the range of dates"]}) from None
        return queryset.filter(**{f"timestamp__{self.filters[name].lookup_expr}": instant})

    def filter_model(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        app_label, _, model = value.partition(".")
        return queryset.filter(content_type__app_label=app_label, content_type__model=model)

    def filter_actor(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        via, _, what = value.partition(" ")
        if via in ("command", "task") and what:
            return queryset.filter(additional_data__via=via, **{f"additional_data__{via}": what})
        return queryset.filter(Q(actor__username=value) | Q(additional_data__user=value))

    def filter_action(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(action=ACTIONS[value])


class AuditEntrySerializer(serializers.ModelSerializer):
    """One change: who, when, from where, what, and each field's [before, after] (secrets redacted)."""

    action = serializers.SerializerMethodField()
    model = serializers.SerializerMethodField()
    object = serializers.CharField(source="object_pk")
    changes = serializers.JSONField(source="changes_dict")
    actor = serializers.SerializerMethodField()
    details = serializers.JSONField(source="additional_data")

    class Meta:
        model = LogEntry
        fields = ["id", "timestamp", "action", "model", "object", "object_repr", "changes", "actor", "actor_id",
                  "remote_addr", "details"]
        read_only_fields = fields

    def get_action(self, entry: LogEntry) -> str:
        return ACTION_NAMES.get(entry.action, str(entry.action))

    def get_model(self, entry: LogEntry) -> str:
        return f"{entry.content_type.app_label}.{entry.content_type.model}"

    def get_actor(self, entry: LogEntry) -> str:
        """The user's name, 'command <name>', 'task <name>' or 'system'."""
        return actor_label(entry)


class AuditEntryViewSet(ReadOnlyModelViewSet):
    """The audit trail, newest first: every change of configuration through the admin, the API or a command."""

    queryset = LogEntry.objects.select_related("content_type", "actor").order_by("-timestamp", "-id")
    serializer_class = AuditEntrySerializer
    filterset_class = AuditEntryFilterSet
    permission_classes = [ModelPermissions]  # reading needs auditlog.view_logentry
    search_fields = ["object_repr"]
    ordering_fields = ["timestamp"]


app_name = "audit-api"
router = OptionalSlashRouter()
router.register("audit", AuditEntryViewSet)
urlpatterns = router.urls

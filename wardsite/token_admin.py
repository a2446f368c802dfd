"""API tokens in the admin: who has which (by their first characters), until when; revoking is deleting.

Replaces knox's own admin, which lists digests and makes tokens from a form: here a token is made only by
`manage.py create_api_token` or `/api/v1/auth/login`, which show its key once.
"""
from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from knox.models import AuthToken

from wardsite.api_tokens import shown_prefix


class ExpiredFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("live", "Live"), ("expired", "Expired")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        now = timezone.now()
        if self.value() == "expired":
            return queryset.filter(expiry__lte=now)
        if self.value() == "live":
            return queryset.exclude(expiry__lte=now)
        return queryset


class APITokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "created", "expiry", "expired")
    list_filter = (ExpiredFilter,)
    list_select_related = ("user",)
    search_fields = ("token_key", "user__username")
    ordering = ("-created",)
    fields = readonly_fields = ("prefix", "user", "created", "expiry")

    @admin.display(description="token")
    def prefix(self, obj: AuthToken) -> str:
        return f"{shown_prefix(obj)}…"

    @admin.display(boolean=True)
    def expired(self, obj: AuthToken) -> bool:
        return obj.expiry is not None and obj.expiry <= timezone.now()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the key must be shown once to its owner: create_api_token or /api/v1/auth/login

    def has_change_permission(self, request: HttpRequest, obj: AuthToken | None = None) -> bool:
        return False  # a token is revoked (deleted), never edited


def register() -> None:
    """Put ours in place of knox's admin (imported by the admin's autodiscovery before our app is ready)."""
    if admin.site.is_registered(AuthToken):
        admin.site.unregister(AuthToken)
    admin.site.register(AuthToken, APITokenAdmin)

"""django-celery-beat's schedule admin, with its actions offered only to who may change schedules."""
from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin
from django_celery_beat.admin import PeriodicTaskAdmin
from django_celery_beat.models import PeriodicTask


def _change_only(name: str) -> Callable:
    """PeriodicTaskAdmin's action `name`, declaring the change permission (upstream declares none, so a view-only
    user could run or disable every collection schedule)."""
    original = getattr(PeriodicTaskAdmin, name)

    @admin.action(permissions=["change"], description=original.short_description)
    def action(model_admin: PeriodicTaskAdmin, request, queryset) -> None:
        return original(model_admin, request, queryset)

    action.__name__ = name
    return action


class ScheduleAdmin(PeriodicTaskAdmin):
    enable_tasks = _change_only("enable_tasks")
    disable_tasks = _change_only("disable_tasks")
    toggle_tasks = _change_only("toggle_tasks")
    run_tasks = _change_only("run_tasks")


admin.site.unregister(PeriodicTask)
admin.site.register(PeriodicTask, ScheduleAdmin)


from wardsite import audit_admin  # noqa: E402,F401  the audit trail's screens (log entries)

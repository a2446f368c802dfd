"""The setup checklist on the admin index: what a new install still lacks (no device, an alert that would tell
nobody...), each with a link to fix it. It disappears once nothing is missing.

wardsite knows none of the apps: each registers its checks in its AppConfig.ready().
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.db import models
from django.http import HttpRequest
from django.urls import reverse


@dataclass(frozen=True)
class Pending:
    """One thing missing: what and why, and where to fix it (only the links the user may follow)."""

    text: str
    links: tuple[tuple[str, str], ...] = ()  # (label, URL)


Check = Callable[[HttpRequest], Pending | None]
_checks: list[Check] = []


def register(check: Check) -> Check:
    """Add a check to the list (from an AppConfig.ready()); it returns a Pending when something is missing."""
    _checks.append(check)
    return check


def pending(request: HttpRequest) -> list[Pending]:
    """What is still missing, in the order the checks were registered (the apps' order)."""
    return [item for check in _checks if (item := check(request)) is not None]


def add_link(request: HttpRequest, model: type[models.Model], label: str) -> tuple[tuple[str, str], ...]:
    """A link to the admin's add form of `model` if the user may add one, else none."""
    return _link(request, label, model._meta, "add")


def change_link(request: HttpRequest, obj: models.Model, label: str) -> tuple[tuple[str, str], ...]:
    """A link to the admin's change form of `obj` if the user may change it, else none."""
    return _link(request, label, obj._meta, "change", obj.pk)


def _link(request: HttpRequest, label: str, meta, action: str, *args) -> tuple[tuple[str, str], ...]:
    if not request.user.has_perm(f"{meta.app_label}.{action}_{meta.model_name}"):
        return ()
    return ((label, reverse(f"admin:{meta.app_label}_{meta.model_name}_{action}", args=args)),)


def needs_one(model_label: str, text: str, link_label: str) -> Check:
    """A check pending while no `model_label` ("app.Model") exists, linking to its add form."""

    def check(request: HttpRequest) -> Pending | None:
        model = apps.get_model(model_label)
        return None if model.objects.exists() else Pending(text, add_link(request, model, link_label))

    return check

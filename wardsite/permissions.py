"""Who may call what in the API: every view names its permissions (docs/permissions.md).

- `ModelPermissions` (the default for every view): reading a model's objects needs `view_<model>`, creating `add_`,
  changing `change_`, deleting `delete_`. A view without a model (no queryset) is refused to everyone until it
  names its permissions, so a new endpoint is never open by accident.
- `needs(...)`: a view or custom action that acts (acknowledge, poll, scan, sync, import…) names the permissions
  it takes, e.g. `@action(..., permission_classes=[needs("alerts.change_alert")])`.
"""
from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from rest_framework.permissions import BasePermission, DjangoModelPermissions

if TYPE_CHECKING:  # rest_framework.views reads DEFAULT_PERMISSION_CLASSES, i.e. this module, as it loads
    from rest_framework.request import Request
    from rest_framework.views import APIView


class ModelPermissions(DjangoModelPermissions):
    """Django's model permissions for every method, reads included (`view_<model>`)."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request: Request, view: APIView) -> bool:
        if getattr(view, "queryset", None) is None and not hasattr(view, "get_queryset"):
            return False  # no model to take permissions from: the view must name them (needs())
        return super().has_permission(request, view)


class _Needs(BasePermission):
    perms: tuple[str, ...] = ()

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_perms(self.perms))


@cache
def needs(*perms: str) -> type[BasePermission]:
    """A permission class granting a logged-in user who has every one of `perms` ("app_label.codename")."""
    return type(f"Needs({', '.join(perms)})", (_Needs,), {"perms": perms})


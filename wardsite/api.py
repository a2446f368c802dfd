"""What every app's API shares."""
from __future__ import annotations

import copy

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler


class ModelValidationMixin:
    """Run the model's own validation (clean(), constraints) on the would-be instance.

    One set of rules for the admin and the API: a bad request gets HTTP 400 naming the field
    instead of an IntegrityError.
    """

    def validate(self, attrs: dict) -> dict:
        attrs = super().validate(attrs)
        model = self.Meta.model
        candidate = copy.copy(self.instance) if self.instance is not None else model()
        many_to_many = [f.name for f in model._meta.many_to_many]
        for name, value in attrs.items():
            if name not in many_to_many:
                setattr(candidate, name, value)
        try:
            candidate.full_clean(exclude=many_to_many)
        except DjangoValidationError as exc:
            errors = exc.message_dict
            if NON_FIELD_ERRORS in errors:
                errors[api_settings.NON_FIELD_ERRORS_KEY] = errors.pop(NON_FIELD_ERRORS)
            raise serializers.ValidationError(errors) from None
        return attrs


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's handler, plus HTTP 409 naming what still uses an object someone tries to delete."""
    if isinstance(exc, ProtectedError):
        users = ", ".join(sorted({str(obj) for obj in exc.protected_objects})[:10])
        return Response({"detail": f"Still in use by: {users}"}, status=status.HTTP_409_CONFLICT)
    return drf_exception_handler(exc, context)


class OptionalSlashRouter(DefaultRouter):
    """Routes with or without the trailing slash (`/api/v1/templates/import` and `.../import/`): scripts that
    POST without it would otherwise get a redirect their client may not follow with the body."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.trailing_slash = "/?"

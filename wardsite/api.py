"""What every app's API shares."""
from __future__ import annotations

import copy

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.settings import api_settings


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

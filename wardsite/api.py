"""What every app's API shares."""
from __future__ import annotations

import copy
from collections.abc import Callable
from operator import attrgetter
from types import SimpleNamespace

import django_filters
from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model, Prefetch, ProtectedError, QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers, status
from rest_framework.fields import SkipField
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.relations import PKOnlyObject
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from wardsite.paging import Pages
from wardsite.secrets import unreadable_fields, unreadable_message
from wardsite.text import quote


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


class NoBodySerializer(serializers.Serializer):
    """The request of an action that takes no body (named, so the schema has a valid component for it)."""


class ReasonSerializer(serializers.Serializer):
    """An answer that is only its reason: {"detail": "..."}."""

    detail = serializers.CharField()


def unavailable(*codes: int) -> dict[int, OpenApiResponse]:
    """The schema of an endpoint's answers when the source of its data cannot be read: 503 when it is ours
    (VictoriaMetrics), 502 when it is another system (Zabbix), each with the reason."""
    said = {502: "another system holding the data (e.g. Zabbix) could not be read",
            503: "the data could not be read (VictoriaMetrics, or the app owning them)"}
    return {code: OpenApiResponse(ReasonSerializer, description=said[code]) for code in codes}


class Pagination(LimitOffsetPagination):
    """`?limit=` (PAGE_SIZE by default) from `?offset=`; a page never holds more than `max_limit` objects."""

    max_limit = 1000

    def paginate_queryset(self, queryset: QuerySet, request: Request, view: object = None) -> list | None:
        return super().paginate_queryset(Pages(queryset) if isinstance(queryset, QuerySet) else queryset,
                                         request, view)


class PageSerializer(serializers.ListSerializer):
    """A page of objects with each field's getter and formatter looked up once for the page, not once per object
    and field as DRF's Serializer.to_representation does (a generator of readable fields per object, a
    try/except chain per attribute, the current time zone per datetime: two thirds of a device page's CPU).
    The output is the same: each field's own `to_representation` formats its value.
    Use it as `Meta.list_serializer_class` of a ModelSerializer with no `to_representation` of its own."""

    def to_representation(self, data: object) -> list[dict]:
        columns = {"pk", *(field.name for field in self.child.Meta.model._meta.concrete_fields)}
        plan = [(field.field_name, _getter(field, columns), field.to_representation)
                for field in self.child._readable_fields]

        def represent(obj: object) -> dict:
            shown = {}
            for name, get, show in plan:
                value = get(obj)
                if value is None:
                    shown[name] = None
                elif value is not SkipField:
                    shown[name] = show(value)
            return shown

        return [represent(obj) for obj in (data.all() if hasattr(data, "all") else data)]


def _getter(field: serializers.Field, columns: set[str]) -> Callable[[object], object]:
    """obj -> the field's value (SkipField when DRF would leave it out): a plain attribute read for a column of
    the model shown by a non-relational field, DRF's own lookup otherwise."""
    if isinstance(field, serializers.DateTimeField) and not hasattr(field, "timezone"):
        field.timezone = field.default_timezone()  # what enforce_timezone would look up for every value
    if field.source in columns and (_related_object_shown(field) or not isinstance(
            field, (serializers.RelatedField, serializers.ManyRelatedField, serializers.BaseSerializer))):
        return attrgetter(field.source)

    def value(obj: object) -> object:
        try:
            got = field.get_attribute(obj)
        except SkipField:
            return SkipField
        return None if isinstance(got, PKOnlyObject) and got.pk is None else got

    if isinstance(field, serializers.ManyRelatedField):
        listed = LISTED.format(field.source)

        def prefetched(obj: object) -> object:
            got = obj.__dict__.get(listed)
            return value(obj) if got is None else got

        return prefetched
    return value


LISTED = "prefetched_{}"  # where ListPrefetchMixin puts a many-to-many field's objects


class ListPrefetchMixin:
    """A viewset whose list prefetches the many-to-many fields named in `list_prefetch` into plain lists
    (`prefetched_<name>`, which PageSerializer reads); its other actions prefetch them as Django does.

    Django's own prefetch keeps each object's list in a manager and a queryset of their own, and reading it back
    makes another manager: a third of the CPU of a page of 100 devices with their tags."""

    list_prefetch: tuple[str, ...] = ()

    def get_queryset(self) -> QuerySet:
        queryset = super().get_queryset()
        if getattr(self, "action", None) == "list":
            return queryset.prefetch_related(*(Prefetch(name, to_attr=LISTED.format(name))
                                               for name in self.list_prefetch))
        return queryset.prefetch_related(*self.list_prefetch)


def _related_object_shown(field: serializers.Field) -> bool:
    """A relation field that formats the related object itself (by name, say), not a stand-in for its key."""
    return isinstance(field, serializers.RelatedField) and not field.use_pk_only_optimization()


class OptionalSlashRouter(DefaultRouter):
    """Routes with or without the trailing slash (`/api/v1/templates/import` and `.../import/`): scripts that
    POST without it would otherwise get a redirect their client may not follow with the body.

    No root view of its own: `/api/v1/` is one root listing every app's routes (wardsite/api_root.py).
    """

    include_root_view = False

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.trailing_slash = "/?"


# --- foreign keys a person types: a name or an id ---------------------------------------------------------------

NAME_OR_ID_SCHEMA = {"type": "string", "description": "A name, or an id (see docs/api.md)."}  # shown by name

def get_by_name_or_id(queryset: QuerySet, value: object, name_field: str = "name") -> Model:
    """The object whose `name_field` is `value` (a string), or whose id is `value` (an integer, or a string of
    digits that names nothing). Raises the model's DoesNotExist, or TypeError for a value of another type."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"expected a {name_field} or an id, not {type(value).__name__}")
    if isinstance(value, str):
        if "\x00" in value:  # PostgreSQL text cannot hold NUL: no name has one, and a query with one fails
            raise queryset.model.DoesNotExist
        try:
            return queryset.get(**{name_field: value})
        except queryset.model.DoesNotExist:
            if not value.isdecimal():
                raise
    return queryset.get(pk=int(value))


def _no_such(queryset: QuerySet, name_field: str, value: object) -> str:
    return f"No {queryset.model._meta.verbose_name} has the {name_field} or id {quote(value)}."


class ObjectURLField(serializers.HyperlinkedIdentityField):
    """An object's own URL (the `url` of a ModelSerializer), reversed once per serializer rather than once per
    object: reversing took ~30 us, a third of a device's serialization in a page of 100."""

    _STAND_IN = 2_147_483_646  # a pk no object has: its URL, with the real pk in its place, is any object's

    def get_url(self, obj: Model, view_name: str, request: Request | None, format: str | None) -> str | None:
        if self.lookup_field != "pk" or getattr(obj, "pk", None) in (None, ""):
            return super().get_url(obj, view_name, request, format)
        key = (view_name, request, format)
        if getattr(self, "_template", (None,))[0] != key:
            stand_in = super().get_url(SimpleNamespace(pk=self._STAND_IN), view_name, request, format)
            self._template = (key, stand_in.split(str(self._STAND_IN)))
        parts = self._template[1]
        return str(obj.pk).join(parts) if len(parts) == 2 else super().get_url(obj, view_name, request, format)


@extend_schema_field(NAME_OR_ID_SCHEMA)
class NameOrIdRelatedField(serializers.SlugRelatedField):
    """A related object given by name or id (see get_by_name_or_id); shown by name.

    `slug_field` is the model's human key: "name", or e.g. "key" for templates.
    """

    default_error_messages = {"invalid": "Give a {name_field} (a string) or an id (an integer), not {value}."}

    def __init__(self, slug_field: str = "name", **kwargs) -> None:
        super().__init__(slug_field=slug_field, **kwargs)

    def to_internal_value(self, data: object) -> Model:
        queryset = self.get_queryset()
        try:
            return get_by_name_or_id(queryset, data, self.slug_field)
        except ObjectDoesNotExist:
            message = _no_such(queryset, self.slug_field, data)
            raise serializers.ValidationError(message, code="does_not_exist") from None
        except TypeError:
            self.fail("invalid", name_field=self.slug_field, value=quote(data))


class NameOrIdChoiceField(forms.ModelChoiceField):
    """The form field of NameOrIdFilter: a text box taking a name (`to_field_name`) or an id."""

    widget = forms.TextInput  # not a <select> of every device in the browsable API's filter form

    def __init__(self, *args, to_field_name: str = "name", **kwargs) -> None:
        super().__init__(*args, to_field_name=to_field_name, **kwargs)

    def to_python(self, value: str | None) -> Model | None:
        if value in self.empty_values:
            return None
        try:
            return get_by_name_or_id(self.queryset, value, self.to_field_name)
        except ObjectDoesNotExist:
            message = _no_such(self.queryset, self.to_field_name, value)  # a parameter: may hold a "%"
            raise DjangoValidationError("%(message)s", code="invalid_choice", params={"message": message}) from None


@extend_schema_field(NAME_OR_ID_SCHEMA)
class NameOrIdFilter(django_filters.ModelChoiceFilter):
    """`?device=core-1` or `?device=42`; a name or id that matches nothing is a 400 naming the parameter."""

    field_class = NameOrIdChoiceField


class SecretErrorField(serializers.CharField):
    """Read-only: why the object's stored secrets cannot be used (no key in FERNET_KEYS decrypts them), or ""."""

    def __init__(self, **kwargs) -> None:
        kwargs.update(source="*", read_only=True)
        kwargs.setdefault("help_text", "Empty, or which stored secrets no key in FERNET_KEYS decrypts (the "
                                       "object cannot be used until they are entered again or the key is back).")
        super().__init__(**kwargs)

    def to_representation(self, obj: Model) -> str:
        names = unreadable_fields(obj)
        return unreadable_message(obj, names) if names else ""

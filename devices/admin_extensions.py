"""The device pages' extension point: what other apps add to the device (and group) admin, from their admin.py.

`devices` knows nothing of the apps above it. Django imports every app's admin module at start-up
(admin.autodiscover, after devices.admin), and each adds its parts to `device_page` or `group_page` then;
the pages read them on every request. docs/architecture.md "Extension points" has an example.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME, ActionForm
from django.contrib.admin.options import InlineModelAdmin
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Expression, Model, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext

from wardsite.paging import KeysFirstChangeList

# loads what a page of the list shows beyond SQL (e.g. from VictoriaMetrics) onto its objects
PageLoader = Callable[[admin.ModelAdmin, HttpRequest, list[Model]], None]
# saves an inline's formset instead of the admin's formset.save()
FormsetSaver = Callable[[BaseInlineFormSet], None]


class PageExtensions:
    """What other apps add to one admin page: inlines, list columns and the data they need, actions."""

    def __init__(self) -> None:
        self._inlines: list[tuple[int, type[InlineModelAdmin]]] = []
        self._columns: list[tuple[str, tuple[Callable, ...]]] = []
        self.select_related: list[str] = []
        self.annotations: dict[str, Expression] = {}
        self.page_loaders: list[PageLoader] = []
        self._actions: list[tuple[int, Callable]] = []
        self._action_fields: dict[str, forms.Field] = {}
        self._action_form: type[ActionForm] | None = None
        self._formset_savers: dict[type[Model], FormsetSaver] = {}
        self._filters: list[type[admin.ListFilter]] = []

    def add_inlines(self, *inlines: type[InlineModelAdmin], order: int) -> None:
        """Inlines on the change page; among other apps' ones, those of a smaller `order` come first."""
        self._inlines += [(order, inline) for inline in inlines]

    def add_columns(self, *columns: Callable, after: str, select_related: Sequence[str] = (),
                    annotations: Mapping[str, Expression] | None = None, loader: PageLoader | None = None) -> None:
        """List columns (callables taking the object, named as their cell's CSS class) placed after the column
        `after`, with what they read: `select_related` paths, queryset `annotations`, a per-page `loader`."""
        self._columns.append((after, columns))
        self.select_related += [path for path in select_related if path not in self.select_related]
        self.annotations.update(annotations or {})
        if loader is not None:
            self.page_loaders.append(loader)

    def add_actions(self, *actions: Callable, order: int, fields: Mapping[str, forms.Field] | None = None) -> None:
        """Actions (modeladmin, request, queryset) after the page's own, by `order`; `fields` join the action bar."""
        self._actions += [(order, action) for action in actions]
        self._action_fields.update(fields or {})
        self._action_form = None

    def add_filters(self, *filters: type[admin.ListFilter]) -> None:
        """List filters after the page's own."""
        self._filters += filters

    def add_formset_saver(self, model: type[Model], save: FormsetSaver) -> None:
        """Save the inline formsets of `model` with `save(formset)` instead of formset.save()."""
        self._formset_savers[model] = save

    def inlines(self) -> list[type[InlineModelAdmin]]:
        return [inline for _, inline in sorted(self._inlines, key=lambda entry: entry[0])]

    def list_display(self, own: Sequence[str | Callable]) -> list[str | Callable]:
        """The page's own columns with the added ones in their places."""
        columns = list(own)
        for after, added in self._columns:
            names = [getattr(column, "__name__", column) for column in columns]
            if after not in names:
                raise ImproperlyConfigured(f"no column {after!r} to put {[c.__name__ for c in added]} after")
            position = names.index(after) + 1
            columns[position:position] = added
        return columns

    def filters(self) -> list[type[admin.ListFilter]]:
        return list(self._filters)

    def actions(self) -> list[Callable]:
        return [action for _, action in sorted(self._actions, key=lambda entry: entry[0])]

    def action_form(self) -> type[ActionForm]:
        """The action bar: Django's, plus the fields the added actions read."""
        if self._action_form is None:
            self._action_form = type("ExtendedActionForm", (ActionForm,), dict(self._action_fields))
        return self._action_form

    def formset_saver(self, model: type[Model]) -> FormsetSaver | None:
        return self._formset_savers.get(model)


device_page = PageExtensions()
group_page = PageExtensions()


class ExtendedModelAdmin(admin.ModelAdmin):
    """A ModelAdmin that shows what other apps added to `extensions` after its own parts."""

    extensions: PageExtensions
    own_actions: Sequence[str | Callable] = ()

    @property
    def actions(self) -> list[str | Callable]:  # read by Django's action machinery and its checks
        return [*self.own_actions, *self.extensions.actions()]

    @property
    def action_form(self) -> type[ActionForm]:
        return self.extensions.action_form()

    def get_inlines(self, request: HttpRequest, obj: Model | None) -> list:
        return [*self.inlines, *self.extensions.inlines()]

    def get_list_display(self, request: HttpRequest) -> list:
        return self.extensions.list_display(self.list_display)

    def get_list_filter(self, request: HttpRequest) -> list:
        return [*self.list_filter, *self.extensions.filters()]

    def get_list_select_related(self, request: HttpRequest) -> bool | Sequence[str]:
        added = self.extensions.select_related
        return [*(self.list_select_related or ()), *added] if added else self.list_select_related

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        return queryset.annotate(**self.extensions.annotations) if self.extensions.annotations else queryset

    def get_changelist(self, request: HttpRequest, **kwargs) -> type[KeysFirstChangeList]:
        return KeysFirstChangeList

    def action_checkbox(self, obj: Model) -> str:
        """Django's row checkbox, formatted directly: rendering it as a form widget through the template engine
        took a third of a 100-row page."""
        label = format_html(gettext("Select this object for an action - {}"), str(obj))
        return format_html('<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
                           ACTION_CHECKBOX_NAME, obj.pk, label)

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        changelist = super().get_changelist_instance(request)
        if self.extensions.page_loaders:
            objects = list(changelist.result_list)  # evaluates the page once; the template reuses the cache
            for load in self.extensions.page_loaders:
                load(self, request, objects)
        return changelist

    def save_formset(self, request: HttpRequest, form: forms.ModelForm, formset: BaseInlineFormSet,
                     change: bool) -> None:
        save = self.extensions.formset_saver(formset.model)
        if save is None:
            super().save_formset(request, form, formset, change)
        else:
            save(formset)

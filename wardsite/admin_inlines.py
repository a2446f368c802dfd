"""Inlines of the admin's change pages: each row knows its parent, and rows that keep growing (state history,
interfaces, items) are capped to the first few with a link to the rest."""
from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.urls import reverse

SHOWN = 20


class ParentInlineFormSet(BaseInlineFormSet):
    """Rows read once, each given the page's object as its parent: a row's title (its __str__, which names the
    parent more often than not) costs no query per row."""

    def get_queryset(self) -> QuerySet:
        if not hasattr(self, "_rows"):
            self._rows = self.rows()
            for row in self._rows:  # evaluates them; the forms take theirs from this cache
                setattr(row, self.fk.name, self.instance)
        return self._rows

    def rows(self) -> QuerySet:
        """The rows shown, not yet read."""
        return super().get_queryset()


class CappedInlineFormSet(ParentInlineFormSet):
    """The first SHOWN rows in the inline's ordering; `total` and `changelist_url` lead to all of them."""

    shown = SHOWN

    def rows(self) -> QuerySet:
        rows = super().rows()
        capped = rows[:SHOWN]
        self.total = rows.count() if len(capped) == SHOWN else len(capped)
        return capped

    @property
    def capped(self) -> bool:
        """Whether rows were left out."""
        self.get_queryset()  # counts them
        return self.total > SHOWN

    @property
    def changelist_url(self) -> str:
        """The model's admin list, filtered on the object this inline belongs to."""
        opts = self.model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        return f"{url}?{self.fk.name}__{self.fk.target_field.name}__exact={self.instance.pk}"


class TabularInline(admin.TabularInline):
    """Django's tabular inline whose rows know their parent (ParentInlineFormSet)."""

    formset = ParentInlineFormSet


class StackedInline(admin.StackedInline):
    """Django's stacked inline whose rows know their parent (ParentInlineFormSet)."""

    formset = ParentInlineFormSet


class CappedTabularInline(TabularInline):
    """A tabular inline of at most SHOWN rows, with a link to the filtered list when there are more."""

    formset = CappedInlineFormSet
    template = "wardsite/capped_tabular.html"

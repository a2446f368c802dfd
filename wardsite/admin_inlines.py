"""Inlines for rows that keep growing (state history, interfaces, items): the first few, and a link to the rest."""
from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.urls import reverse

SHOWN = 20


class CappedInlineFormSet(BaseInlineFormSet):
    """The first SHOWN rows in the inline's ordering; `total` and `changelist_url` lead to all of them."""

    shown = SHOWN

    def get_queryset(self) -> QuerySet:
        if not hasattr(self, "_capped"):
            rows = super().get_queryset()
            self._capped = rows.select_related(self.fk.name)[:SHOWN]  # each row's str() names its parent
            self.total = rows.count() if len(self._capped) == SHOWN else len(self._capped)
        return self._capped

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


class CappedTabularInline(admin.TabularInline):
    """A tabular inline of at most SHOWN rows, with a link to the filtered list when there are more."""

    formset = CappedInlineFormSet
    template = "wardsite/capped_tabular.html"

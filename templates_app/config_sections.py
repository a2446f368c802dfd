"""Templates in the configuration document (wardsite/config_io.py): the local and imported ones with their items
and triggers, shipped ones edited here likewise, and which device has which template. Shipped templates as they
ship are in every instance's library: the document names them by key. When a template was applied is state."""
from django.db.models import QuerySet

from templates_app.choices import TemplateOrigin
from templates_app.library import document_hash, spec_of
from templates_app.models import MonitoringTemplate, TemplateAssignment, TemplateItem, TemplateTrigger
from wardsite.config_io import Section, register


def _own_templates() -> QuerySet:
    """Every template but the shipped ones nobody edited (their document is still the one shipped)."""
    shipped = MonitoringTemplate.objects.filter(origin=TemplateOrigin.BUILTIN).prefetch_related("items", "triggers")
    as_shipped = [template.pk for template in shipped if document_hash(spec_of(template)) == template.shipped_hash]
    return MonitoringTemplate.objects.exclude(pk__in=as_shipped)


register(
    Section("templates", MonitoringTemplate, key=("key",), objects=_own_templates, children=(
        Section("items", TemplateItem, key=("key",), parent="template"),
        Section("triggers", TemplateTrigger, parent="template"),
    )),
    Section("template_assignments", TemplateAssignment, key=("device", "template"),
            exclude=("applied_version", "applied_at", "error")),
)

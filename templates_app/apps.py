import logging

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class TemplatesAppConfig(AppConfig):
    name = "templates_app"
    verbose_name = "Monitoring templates"

    def ready(self) -> None:
        from templates_app.bulk_actions import APPLY, AUTO
        from wardsite import jobs

        post_migrate.connect(load_default_templates, sender=self)
        jobs.register(APPLY)  # the device list's template actions (templates_app/admin.py)
        jobs.register(AUTO)


def load_default_templates(**kwargs) -> None:
    """Load the shipped templates after every migrate; a broken document is logged, never blocks migrating."""

    from templates_app.document import DocumentError
    from templates_app.library import load_defaults

    try:
        load_defaults()
    except DocumentError as exc:
        logging.getLogger(__name__).error("default templates not loaded: %s", exc)

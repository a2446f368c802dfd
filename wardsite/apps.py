from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


class WardsiteConfig(AppConfig):
    name = "wardsite"
    verbose_name = "WARD FLUX"

    def ready(self) -> None:
        from django.contrib import admin

        from wardsite.schedules import ensure_default_schedules

        # the admin index with the setup checklist above the apps (wardsite.setup_checks); a template of its own
        # name, as django.contrib.admin's admin/index.html comes first in INSTALLED_APPS
        admin.site.index_template = "wardsite/admin_index.html"

        # sent once django-celery-beat's tables exist (this app has no models of its own)
        post_migrate.connect(ensure_default_schedules, sender=apps.get_app_config("django_celery_beat"))

from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


class WardsiteConfig(AppConfig):
    name = "wardsite"
    verbose_name = "WARD FLUX"

    def ready(self) -> None:
        from wardsite.schedules import ensure_default_schedules

        # sent once django-celery-beat's tables exist (this app has no models of its own)
        post_migrate.connect(ensure_default_schedules, sender=apps.get_app_config("django_celery_beat"))

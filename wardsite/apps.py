from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


class WardsiteConfig(AppConfig):
    name = "wardsite"
    verbose_name = "WARD FLUX"

    def ready(self) -> None:
        from django.contrib import admin

        from wardsite import checks  # noqa: F401 (registers them)
        from wardsite import dashboard_panels
        from wardsite import heartbeats, service_checks, task_metrics  # noqa: F401 (service_checks registers)
        from wardsite.audit import register_audited_models
        from wardsite.roles import sync_roles
        from wardsite.schedules import ensure_default_schedules
        from wardsite.token_admin import register as register_token_admin

        # the admin index with the setup checklist and the dashboard above the apps (wardsite.setup_checks,
        # wardsite.dashboard); a template of its own name, as django.contrib.admin's admin/index.html comes first
        admin.site.index_template = "wardsite/admin_index.html"
        register_token_admin()
        dashboard_panels.register_panels()  # the others come from the apps' ready()

        register_audited_models()  # the audit trail (docs/audit.md)
        task_metrics.connect()  # task runs, failures and durations for /metrics
        heartbeats.watch("beat", "beat tick", lambda: heartbeats.BEAT_SECONDS)

        # sent once django-celery-beat's tables exist (this app has no models of its own)
        post_migrate.connect(ensure_default_schedules, sender=apps.get_app_config("django_celery_beat"))
        # the roles gain the permissions of models added since (sync_roles creates every app's permissions first)
        post_migrate.connect(sync_roles, sender=apps.get_app_config("auth"))

from django.apps import AppConfig
from django.db.models.signals import post_delete


class DiscoveryConfig(AppConfig):
    name = "discovery"
    verbose_name = "Discovery"

    def ready(self) -> None:
        from discovery import checks  # noqa: F401 (registers them)

        post_delete.connect(_rule_deleted, sender="discovery.DiscoveryRule", dispatch_uid="discovery.rule_schedule")


def _rule_deleted(sender, instance, **kwargs) -> None:
    """A deleted rule's schedule goes with it."""
    if instance.schedule_id:
        from django_celery_beat.models import PeriodicTask

        PeriodicTask.objects.filter(pk=instance.schedule_id).delete()

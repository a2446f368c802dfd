from datetime import datetime

from django.apps import AppConfig
from django.db.models.signals import post_delete
from django.http import HttpRequest

from wardsite import retention
from wardsite.setup_checks import Pending, add_link, register


class DiscoveryConfig(AppConfig):
    name = "discovery"
    verbose_name = "Discovery"

    def ready(self) -> None:
        from discovery import checks  # noqa: F401 (registers them)
        from discovery import targets
        from wardsite import target_policy

        # the SNMP test of an address (below discovery) keeps to the allow-list scans keep to
        target_policy.set_allow_list(targets.allowed_networks, targets.ALLOW_LIST)

        post_delete.connect(_rule_deleted, sender="discovery.DiscoveryRule", dispatch_uid="discovery.rule_schedule")
        register(_no_allowed_network)
        retention.register("discovery runs", "RETENTION_DISCOVERY_DAYS", _prune_runs)


def _no_allowed_network(request: HttpRequest) -> Pending | None:
    """Setup checklist: nobody said which networks discovery may scan (no allowed network in the admin, the
    setting at its default), so scans are limited to the private ranges."""
    from django.conf import settings

    from discovery.models import AllowedNetwork

    if settings.DISCOVERY_ALLOWED_NETWORKS != settings.DISCOVERY_PRIVATE_NETWORKS or AllowedNetwork.objects.exists():
        return None
    ranges = settings.DISCOVERY_PRIVATE_NETWORKS.replace(",", ", ")
    return Pending(f"No allowed discovery network is configured: scans are limited to the default private ranges "
                   f"({ranges}).",
                   add_link(request, AllowedNetwork, "Add an allowed network"))


def _rule_deleted(sender, instance, **kwargs) -> None:
    """A deleted rule's schedule goes with it."""
    if instance.schedule_id:
        from django_celery_beat.models import PeriodicTask

        PeriodicTask.objects.filter(pk=instance.schedule_id).delete()


def _prune_runs(cutoff: datetime) -> int:
    """Runs that ended before `cutoff` (or started before it and never ended), with their results."""
    from django.db.models import Q

    from discovery.models import DiscoveryRun

    old = Q(finished_at__lt=cutoff) | Q(finished_at__isnull=True, created__lt=cutoff)
    return DiscoveryRun.objects.filter(old).delete()[1].get("discovery.DiscoveryRun", 0)

from django.apps import AppConfig
from django.db.models.signals import post_save, pre_delete
from django.http import HttpRequest

from wardsite.setup_checks import Pending, add_link, change_link, register


class ZabbixBridgeConfig(AppConfig):
    name = "zabbix_bridge"
    verbose_name = "Zabbix bridge"

    def ready(self) -> None:
        from alerts.choices import AlertSource
        from alerts.services import remote_sources
        from devices import graphs
        from icmp.history_sources import history_sources
        from zabbix_bridge.graphs import zabbix_graphs
        from zabbix_bridge.history import SOURCE, zabbix_history
        from zabbix_bridge.services import ZabbixProblems

        remote_sources[AlertSource.ZABBIX] = ZabbixProblems()
        history_sources[SOURCE] = zabbix_history
        graphs.claim(SOURCE, zabbix_graphs)  # the device page draws a Zabbix-watched device from Zabbix
        post_save.connect(_server_saved, sender="zabbix_bridge.ZabbixServer", dispatch_uid="zabbix.schedule")
        pre_delete.connect(_server_deleted, sender="zabbix_bridge.ZabbixServer", dispatch_uid="zabbix.retire")
        register(_zabbix_mode_without_server)
        register(_failing_sync)


def _zabbix_mode_without_server(request: HttpRequest) -> Pending | None:
    """Setup checklist: zabbix or hybrid mode, but no enabled Zabbix server to read."""
    from zabbix_bridge.models import ZabbixServer
    from zabbix_bridge.services import bridge_enabled

    if not bridge_enabled() or ZabbixServer.objects.filter(enabled=True).exists():
        return None
    return Pending("The monitoring mode reads Zabbix, but no Zabbix server is enabled.",
                   add_link(request, ZabbixServer, "Add a Zabbix server"))


def _failing_sync(request: HttpRequest) -> Pending | None:
    """Setup checklist: a Zabbix server whose last sync attempt failed (its last good sync is what is shown)."""
    from zabbix_bridge.models import ZabbixServer
    from zabbix_bridge.services import bridge_enabled

    server = ZabbixServer.objects.filter(enabled=True).exclude(last_error="").first()
    if server is None or not bridge_enabled():
        return None
    return Pending(f"Zabbix server {server.name} cannot be synced: {server.last_error}",
                   change_link(request, server, "Check its settings"))


def _server_saved(sender, instance, raw=False, **kwargs) -> None:
    """Every server has its sync schedule, enabled with it."""
    if not raw:
        from zabbix_bridge.services import ensure_schedule

        ensure_schedule(instance)


def _server_deleted(sender, instance, **kwargs) -> None:
    """A deleted server's devices stay (retired), its alerts resolve, its schedule goes."""
    from django_celery_beat.models import PeriodicTask

    from zabbix_bridge.sync import retire_all

    retire_all(instance)
    if instance.schedule_id:
        PeriodicTask.objects.filter(pk=instance.schedule_id).delete()

"""Thin Celery wrappers over zabbix_bridge.services."""
from celery import shared_task

from zabbix_bridge import services
from zabbix_bridge.sync import SyncFailed


@shared_task(name="zabbix.sync_server", ignore_result=True)
def sync_server(server_id: int) -> dict | None:
    """Sync one Zabbix server (skipped in standalone mode); a failure is recorded on the server and logged."""
    try:
        summary = services.sync_server(server_id)
    except SyncFailed as exc:
        return {"error": str(exc)}
    return summary.as_dict() if summary else None

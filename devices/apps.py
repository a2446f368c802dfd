from datetime import datetime

from django.apps import AppConfig

from wardsite import retention

from wardsite.setup_checks import needs_one, register


class DevicesConfig(AppConfig):
    name = "devices"
    verbose_name = "Devices"

    def ready(self) -> None:
        from devices import dashboard

        dashboard.register_panels()
        register(needs_one("devices.Device", "No device is monitored yet.", "Add a device (an address is enough)"))
        retention.register("device state changes", "RETENTION_STATE_CHANGES_DAYS", _prune_state_changes)


def _prune_state_changes(cutoff: datetime) -> int:
    from devices.models import DeviceStateChange

    return DeviceStateChange.objects.filter(at__lt=cutoff).delete()[0]

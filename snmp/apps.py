from django.apps import AppConfig

from wardsite.setup_checks import needs_one, register


class SnmpConfig(AppConfig):
    name = "snmp"
    verbose_name = "SNMP"

    def ready(self) -> None:
        from django.conf import settings

        from devices.signals import state_changed
        from devices import graphs
        from snmp import dashboard
        from snmp.bulk_actions import POLL, TEST
        from snmp.graphs import device_graphs, device_interfaces
        from wardsite import heartbeats, jobs

        state_changed.connect(_state_changed, dispatch_uid="snmp.poll_soon")
        jobs.register(TEST)  # the device list's SNMP actions (snmp/admin.py)
        jobs.register(POLL)
        # the device page's graphs: after reachability
        graphs.register(device_graphs, order=20, interfaces=device_interfaces)
        dashboard.register_panels()
        # snmp.dispatch ticks it (/healthz, the admin banner: docs/operations.md)
        heartbeats.watch("snmp", "SNMP cycle", lambda: settings.SNMP_DISPATCH_SECONDS)
        register(needs_one("snmp.SNMPCredential", "No SNMP credential: devices are only pinged, and discovery cannot "
                                                  "tell what they are.", "Add an SNMP credential"))


def _state_changed(sender, device_id: int, new: str, **kwargs) -> None:
    """A device that came back up is polled at once, not after the back-off its timeouts built up."""
    from devices.choices import DeviceState
    from snmp.services import poll_soon

    if new == DeviceState.UP:
        poll_soon(device_id)

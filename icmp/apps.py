from django.apps import AppConfig


class IcmpConfig(AppConfig):
    name = "icmp"
    verbose_name = "ICMP"

    def ready(self) -> None:
        from django.conf import settings

        from devices import graphs
        from icmp import dashboard
        from icmp.graphs import device_graphs
        from icmp.bulk_actions import PING_NOW
        from wardsite import heartbeats, jobs

        graphs.register(device_graphs, order=10)  # the device page's graphs: reachability first
        jobs.register(PING_NOW)  # the device list's "Ping now" (icmp/admin.py)
        dashboard.register_panels()
        # icmp.dispatch ticks it (/healthz, the admin banner: docs/operations.md)
        heartbeats.watch("icmp", "ICMP cycle", lambda: settings.ICMP_DISPATCH_SECONDS)

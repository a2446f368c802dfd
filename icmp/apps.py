from django.apps import AppConfig


class IcmpConfig(AppConfig):
    name = "icmp"
    verbose_name = "ICMP"

    def ready(self) -> None:
        from django.conf import settings

        from devices import graphs
        from icmp import dashboard
        from icmp.graphs import device_graphs
        from wardsite import heartbeats

        graphs.register(device_graphs, order=10)  # the device page's graphs: reachability first
        dashboard.register_panels()
        # icmp.dispatch ticks it (/healthz, the admin banner: docs/operations.md)
        heartbeats.watch("icmp", "ICMP cycle", lambda: settings.ICMP_DISPATCH_SECONDS)

from django.apps import AppConfig


class IcmpConfig(AppConfig):
    name = "icmp"
    verbose_name = "ICMP"

    def ready(self) -> None:
        from django.conf import settings

        from wardsite import heartbeats

        # icmp.dispatch ticks it (/healthz, the admin banner: docs/operations.md)
        heartbeats.watch("icmp", "ICMP cycle", lambda: settings.ICMP_DISPATCH_SECONDS)

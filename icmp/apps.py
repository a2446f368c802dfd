from django.apps import AppConfig


class IcmpConfig(AppConfig):
    name = "icmp"
    verbose_name = "ICMP"

from django.apps import AppConfig


class SnmpConfig(AppConfig):
    name = "snmp"
    verbose_name = "SNMP"

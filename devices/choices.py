from django.db import models


class DeviceType(models.TextChoices):
    ROUTER = "router", "Router"
    SWITCH = "switch", "Switch"
    FIREWALL = "firewall", "Firewall"
    SERVER = "server", "Server"
    ACCESS_POINT = "access_point", "Access point"
    UPS = "ups", "UPS"
    OTHER = "other", "Other"


class DeviceSource(models.TextChoices):
    """Who knows the device: our inventory, a Zabbix server, or both (one device, linked by address or by hand)."""

    LOCAL = "local", "Local"
    ZABBIX = "zabbix", "Zabbix"
    BOTH = "both", "Local and Zabbix"


class DeviceState(models.TextChoices):
    UP = "up", "Up"
    DOWN = "down", "Down"
    UNKNOWN = "unknown", "Unknown"


class MonitoringMode(models.TextChoices):
    ZABBIX = "zabbix", "Zabbix (read hosts and problems from Zabbix)"
    STANDALONE = "standalone", "Standalone (own SNMP/ICMP collection)"
    HYBRID = "hybrid", "Hybrid (both, one view)"

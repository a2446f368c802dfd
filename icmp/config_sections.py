"""Ping settings of devices and groups in the configuration document (wardsite/config_io.py); a device's latest
cycle and schedule (PingStatus) are state."""
from icmp.models import PingSettings
from wardsite.config_io import Section, register

register(Section("ping_settings", PingSettings, key=("device", "group")))

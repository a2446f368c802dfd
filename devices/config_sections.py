"""The inventory in the configuration document (wardsite/config_io.py): groups, tags, devices with their other
addresses, and the monitoring profile. A device's state, history and timestamps are not configuration."""
from devices.models import Device, DeviceAddress, DeviceGroup, MonitoringProfile, Tag
from wardsite.config_io import Section, register

register(
    Section("device_groups", DeviceGroup),
    Section("tags", Tag),
    Section("devices", Device, children=(Section("aliases", DeviceAddress, key=("address",), parent="device"),)),
    Section("monitoring_profiles", MonitoringProfile),
)

from django.apps import AppConfig

from wardsite.setup_checks import needs_one, register


class DevicesConfig(AppConfig):
    name = "devices"
    verbose_name = "Devices"

    def ready(self) -> None:
        register(needs_one("devices.Device", "No device is monitored yet.", "Add a device (an address is enough)"))

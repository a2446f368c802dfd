"""Zabbix servers we read, and what links their hosts and problems to our devices and alerts."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from wardsite.secrets import SecretField

API_PATH = "api_jsonrpc.php"


class ZabbixServer(models.Model):
    """A Zabbix server whose hosts, groups and problems the bridge reads (zabbix and hybrid modes)."""

    name = models.CharField(max_length=100, unique=True, help_text="e.g. 'zabbix-prod'.")
    url = models.URLField(
        "API URL", max_length=500,
        help_text="The frontend's API, e.g. https://zabbix.example.com/api_jsonrpc.php (the frontend's address alone "
                  "is completed).")
    api_token = SecretField("API token", max_length=500, blank=True,
                            help_text="An API token (Users → API tokens); stored encrypted, never shown.")
    username = models.CharField(max_length=100, blank=True, help_text="Instead of a token: a user with read access.")
    password = SecretField(max_length=500, blank=True, help_text="That user's password; stored encrypted.")
    verify_tls = models.BooleanField("verify TLS", default=True,
                                     help_text="Check the server's certificate (off only for a lab).")
    ca_file = models.CharField("CA file", max_length=500, blank=True,
                               help_text="PEM file of the CA that signed the server's certificate, if not a public one.")
    timeout_seconds = models.PositiveSmallIntegerField(
        default=10, validators=[MinValueValidator(1), MaxValueValidator(120)], help_text="Per API request.")
    host_groups = models.JSONField(default=list, blank=True,
                                   help_text='Host group names to take, e.g. ["Routers", "Linux servers"]; empty: all.')
    enabled = models.BooleanField(default=True, help_text="A disabled server is not synced.")
    schedule = models.OneToOneField(
        "django_celery_beat.PeriodicTask", null=True, blank=True, editable=False, on_delete=models.SET_NULL,
        related_name="zabbix_server", help_text="When it is synced (an interval, editable in Periodic tasks).")
    version = models.CharField(max_length=20, blank=True, editable=False, help_text="As the server last said.")
    last_sync_at = models.DateTimeField(null=True, blank=True, editable=False,
                                        help_text="When the last successful sync finished.")
    last_attempt_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False, help_text="Why the last attempt failed; blank if it "
                                                                        "worked.")
    last_sync_summary = models.JSONField(default=dict, blank=True, editable=False,
                                         help_text="Counts, API calls and seconds of the last successful sync.")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(timeout_seconds__gte=1, timeout_seconds__lte=120),
                                   name="%(app_label)s_%(class)s_timeout_range"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if self.url and not self.url.rstrip("/").endswith(API_PATH):  # the frontend's address: its API
            self.url = f"{self.url.rstrip('/')}/{API_PATH}"
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if not self.api_token and not (self.username and self.password):
            raise ValidationError({"api_token": "give an API token, or a username and password"})
        if self.api_token and self.username:
            raise ValidationError({"username": "give an API token or a username and password, not both"})
        if not isinstance(self.host_groups, list) or not all(isinstance(g, str) and g for g in self.host_groups):
            raise ValidationError({"host_groups": "a list of host group names"})

    @property
    def frontend_url(self) -> str:
        """The web frontend's base address (the API URL without api_jsonrpc.php)."""
        return self.url.rstrip("/").removesuffix(API_PATH)

    def host_link(self, hostid: str) -> str:
        return f"{self.frontend_url}zabbix.php?action=host.edit&hostid={hostid}"

    def problem_link(self, eventid: str, triggerid: str) -> str:
        return f"{self.frontend_url}tr_events.php?triggerid={triggerid}&eventid={eventid}"


class ZabbixHost(models.Model):
    """A Zabbix host as last synced, and the device it is (made for it, or one of ours linked by address or by
    hand)."""

    server = models.ForeignKey(ZabbixServer, on_delete=models.CASCADE, related_name="hosts")
    hostid = models.CharField(max_length=20)
    device = models.OneToOneField("devices.Device", on_delete=models.CASCADE, related_name="zabbix_host")
    host = models.CharField(max_length=128, help_text="Zabbix's technical host name.")
    visible_name = models.CharField(max_length=128)
    enabled = models.BooleanField(default=True, help_text="Monitored in Zabbix.")
    in_maintenance = models.BooleanField(default=False)
    available = models.BooleanField(null=True, help_text="Zabbix's view: ICMP ping, else the main interface.")
    groups = models.JSONField(default=list, blank=True, help_text="Names of its host groups (the device takes the "
                                                                  "first as its group).")
    interfaces = models.JSONField(default=list, blank=True, help_text="Kinds, addresses, ports and SNMP details.")
    templates = models.JSONField(default=list, blank=True, help_text="Names of the linked templates.")
    inventory = models.JSONField(default=dict, blank=True)
    tags = models.JSONField(default=list, blank=True, help_text="Its Zabbix tags, as our tag names ('tag:value').")
    proxy = models.CharField(max_length=128, blank=True)
    linked_by_hand = models.BooleanField(default=False, help_text="Linked to an existing device by an operator "
                                                                  "(kept when addresses change).")
    synced_at = models.DateTimeField()
    removed_at = models.DateTimeField(null=True, blank=True,
                                      help_text="When the host was gone from Zabbix: retired, the device is kept.")

    class Meta:
        ordering = ["server", "visible_name"]
        constraints = [models.UniqueConstraint(fields=["server", "hostid"], name="%(app_label)s_%(class)s_once")]

    def __str__(self) -> str:
        return f"{self.visible_name} on {self.server}"

    @property
    def link(self) -> str:
        return self.server.host_link(self.hostid)


class ZabbixProblem(models.Model):
    """The Zabbix event behind one of our alerts (source zabbix)."""

    server = models.ForeignKey(ZabbixServer, on_delete=models.CASCADE, related_name="problems")
    eventid = models.CharField(max_length=20)
    triggerid = models.CharField(max_length=20)
    alert = models.OneToOneField("alerts.Alert", on_delete=models.CASCADE, related_name="zabbix_problem")
    acknowledges = models.JSONField(default=list, blank=True,
                                    help_text="Who acknowledged or commented in Zabbix, when, and what they said.")

    class Meta:
        ordering = ["server", "-eventid"]
        constraints = [models.UniqueConstraint(fields=["server", "eventid"], name="%(app_label)s_%(class)s_once")]

    def __str__(self) -> str:
        return f"event {self.eventid} on {self.server}"

    @property
    def link(self) -> str:
        return self.server.problem_link(self.eventid, self.triggerid)

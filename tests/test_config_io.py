"""The configuration as one YAML document: export_config and import_config (docs/configuration.md).

A rich configuration is built through the models, exported, the database emptied to what a new install has, the
document imported and exported again: the two documents must be the same bytes. Bad documents are refused with
the section, the object and the field, and change nothing.
"""
from __future__ import annotations

import io
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.core.exceptions import ImproperlyConfigured
from django.core.management.sql import emit_post_migrate_signal
from django.db import DEFAULT_DB_ALIAS, connection

from alerts.models import Alert, AlertRule, MaintenanceWindow, NotificationChannel, RuleOverride
from devices.models import Device, DeviceAddress, DeviceGroup, MonitoringProfile, Tag
from discovery.models import AllowedNetwork, DiscoveryRule, RuleCredential
from discovery.schedules import current_cron, set_schedule
from icmp.models import PingSettings
from snmp.models import Interface, MonitoringItem, SNMPCredential
from templates_app.models import MonitoringTemplate, TemplateAssignment, TemplateItem, TemplateTrigger
from wardsite.config_io import FORMAT, Section, _dependency_order, section_names, sections
from wardsite.secrets import fernet
from zabbix_bridge.models import ZabbixServer

pytestmark = pytest.mark.django_db

# lowest layer last: a device holds on to its credential (PROTECT), so the apps above go first
CONFIG_APPS = ("zabbix_bridge", "discovery", "alerts", "templates_app", "icmp", "snmp", "devices")
SECRETS = {"community": "s3cret-community", "auth_key": "auth-pass-123", "priv_key": "priv-pass-123",
           "secret": "bearer-token-42", "api_token": "zabbix-token-7", "password": "zabbix-pass-8"}


def export(*args: str) -> str:
    out = io.StringIO()
    call_command("export_config", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def import_text(tmp_path: Path, text: str, *args: str) -> tuple[str, str]:
    """Import `text` from a file; (stdout, stderr)."""
    path = tmp_path / "config.yaml"
    path.write_text(text)
    out, err = io.StringIO(), io.StringIO()
    call_command("import_config", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def new_install() -> None:
    """The database as a new install has it: none of our objects but those migrate makes (the shipped templates,
    the built-in rule and the rules of shipped triggers)."""
    Device.objects.all().delete()
    for label in CONFIG_APPS:
        for model in apps.get_app_config(label).get_models():
            model._default_manager.all().delete()
    emit_post_migrate_signal(verbosity=0, interactive=False, db=DEFAULT_DB_ALIAS)


def build_configuration() -> None:
    """Several of each kind, referring to each other, with secrets and multi-line text."""
    lab = DeviceGroup.objects.create(name="lab", description="Test bench\nsecond floor", poller_queue="lab-poller")
    dc = DeviceGroup.objects.create(name="dc-1")
    core_tag, pci = Tag.objects.create(name="core"), Tag.objects.create(name="pci")
    v2 = SNMPCredential.objects.create(name="public-ro", community=SECRETS["community"], timeout_ms=1500)
    v3 = SNMPCredential.objects.create(name="v3-admin", version="v3", security_name="admin", auth_protocol="SHA",
                                       auth_key=SECRETS["auth_key"], priv_protocol="AES", priv_key=SECRETS["priv_key"])
    core = Device.objects.create(name="core-1", address="10.0.0.1", device_type="router", group=dc,
                                 snmp_enabled=True, snmp_credential=v2, vendor="Cisco", latitude="50.110922")
    edge = Device.objects.create(name="edge-1", address="10.0.1.1", parent=core, group=lab, snmp_credential=v3,
                                 snmp_enabled=True, snmp_port=1161)
    access = Device.objects.create(name="access-1", address="2001:db8::10", parent=edge, icmp_enabled=False)
    core.tags.set([core_tag, pci])
    edge.tags.set([core_tag])
    DeviceAddress.objects.create(device=core, address="10.0.9.1", note="loopback")
    DeviceAddress.objects.create(device=core, address="192.0.2.1")
    MonitoringProfile.objects.create(name="main", mode="hybrid")
    PingSettings.objects.create(device=edge, interval_seconds=5, packets=5, packet_interval_ms=100, timeout_ms=500,
                                down_after=2)
    PingSettings.objects.create(group=lab, interval_seconds=30, packets=3, packet_interval_ms=200, timeout_ms=900,
                                down_after=4)
    ups = _templates(core, edge)
    _items(core, edge)
    _alerting(core, edge, access, lab, pci, ups)
    AllowedNetwork.objects.create(network="198.51.100.0/24", description="lab range")
    rule = DiscoveryRule.objects.create(name="lab sweep", targets="198.51.100.0/28", exclusions="198.51.100.1",
                                        device_group=lab, tcp_ports="22, 443", auto_add="add")
    RuleCredential.objects.bulk_create([RuleCredential(rule=rule, credential=v3, position=0),
                                        RuleCredential(rule=rule, credential=v2, position=1)])
    set_schedule(rule, "weekly")
    ZabbixServer.objects.create(name="zabbix-prod", url="https://zabbix.example.com/api_jsonrpc.php",
                                api_token=SECRETS["api_token"], host_groups=["Routers"])
    ZabbixServer.objects.create(name="zabbix-lab", url="https://zabbix.lab.example.com/api_jsonrpc.php",
                                username="reader", password=SECRETS["password"], verify_tls=False)


def _templates(core: Device, edge: Device) -> MonitoringTemplate:
    ups = MonitoringTemplate.objects.create(key="my-ups", name="My UPS", vendor="ACME", device_types=["ups"],
                                            includes=["generic-snmp"], match_sys_object_ids=["1.3.6.1.4.1.99999"])
    TemplateItem.objects.create(template=ups, key="ups_load", oid="1.3.6.1.4.1.99999.1.1.0", units="%",
                                value_map={"on": 1, "off": 0})
    TemplateItem.objects.create(template=ups, key="ups_port_errors", oid="1.3.6.1.2.1.2.2.1.14",
                                discovery={"interfaces": True}, value_type="counter")
    TemplateTrigger.objects.create(template=ups, name="Overload", expression="avg(ups_load, 5m) > 90",
                                   for_seconds=300, severity="high")
    TemplateTrigger.objects.create(template=ups, name="Quiet", expression="nodata(ups_load, 10m)")
    shipped = MonitoringTemplate.objects.get(key="generic-snmp")
    shipped.description = "Edited here"
    shipped.save()
    TemplateAssignment.objects.create(device=core, template=MonitoringTemplate.objects.get(key="cisco-ios"),
                                      auto=True, applied_version=3, applied_at=datetime.now(timezone.utc))
    TemplateAssignment.objects.create(device=edge, template=ups)
    return ups


def _items(core: Device, edge: Device) -> None:
    cpu = TemplateItem.objects.get(template__key="cisco-ios", key="cpu_usage")
    MonitoringItem.objects.create(device=core, name="cpu_usage", oid=cpu.oid, template_item=cpu,
                                  interval_seconds=15, overrides=["interval_seconds"])
    memory = TemplateItem.objects.get(template__key="cisco-ios", key="memory_used_bytes")
    MonitoringItem.objects.create(device=core, name="memory_used_bytes", oid=memory.oid, template_item=memory)
    MonitoringItem.objects.create(device=edge, name="inlet_temp", oid="1.3.6.1.4.1.9.9.13.1.3.1.3.1", units="C",
                                  labels={"sensor": "inlet"}, value_map={"ok": 1})
    Interface.objects.create(device=core, if_index=3, name="Gi0/3", enabled=False, speed_bps=10**9)
    Interface.objects.create(device=core, if_index=1, name="Gi0/1")


def _alerting(core, edge, access, lab, pci, ups) -> None:
    hook = NotificationChannel.objects.create(name="noc-hook", kind="webhook", secret=SECRETS["secret"],
                                              settings={"url": "https://hooks.example.com/x"})
    mail = NotificationChannel.objects.create(name="noc-mail", kind="email", enabled=False,
                                              settings={"to": ["noc@example.com"], "host": "smtp.example.com"})
    rule = AlertRule.objects.create(name="Packet loss", expression="ping_packet_loss > 20 for 2m", severity="high",
                                    description="Loss\nover two minutes", repeat_minutes=30, escalate_after_minutes=15)
    rule.devices.set([core])
    rule.groups.set([lab])
    rule.tags.set([pci])
    rule.templates.set([ups])
    rule.channels.set([hook])
    rule.escalation_channels.set([mail])
    RuleOverride.objects.create(rule=rule, device=edge, enabled=False)
    RuleOverride.objects.create(rule=rule, device=access, expression="ping_packet_loss > 50 for 2m")
    AlertRule.objects.get(builtin="device-down").channels.add(mail)
    AlertRule.objects.get(template_trigger__template=ups, template_trigger__name="Overload").channels.add(hook)
    start = datetime(2026, 1, 10, 2, 0, tzinfo=timezone.utc)
    window = MaintenanceWindow.objects.create(name="core upgrade", starts_at=start, ends_at=start + timedelta(hours=4))
    window.devices.set([core])
    weekly = MaintenanceWindow.objects.create(name="lab saturdays", starts_at=start, recurrence="0 2 * * 6",
                                              duration_minutes=120, suppress_evaluation=True, comment="reboots")
    weekly.groups.set([lab])
    weekly.tags.set([pci])


@pytest.fixture
def configuration(db) -> str:
    """The rich configuration, exported with its secrets."""
    build_configuration()
    return export("--with-secrets")


def test_the_round_trip_is_exact(configuration, tmp_path):
    new_install()
    assert not Device.objects.exists() and MonitoringTemplate.objects.filter(key="cisco-ios").exists()
    out, err = import_text(tmp_path, configuration)
    assert "devices: 3 created, 0 updated" in out and "Imported." in out and not err
    assert export("--with-secrets") == configuration


def test_references_are_names_and_state_is_left_out(configuration):
    document = yaml.safe_load(configuration)
    assert document["format"] == FORMAT and list(document)[1:] == section_names()
    devices = {d["name"]: d for d in document["devices"]}
    assert devices["edge-1"]["parent"] == "core-1" and devices["edge-1"]["snmp_credential"] == "v3-admin"
    assert devices["core-1"]["tags"] == ["core", "pci"] and devices["core-1"]["latitude"] == "50.110922"
    assert [a["address"] for a in devices["core-1"]["aliases"]] == ["10.0.9.1", "192.0.2.1"]
    assert not {"id", "state", "state_since", "last_seen", "created", "updated", "source"} & set(devices["core-1"])
    items = {(i["device"], i["name"]): i for i in document["snmp_items"]}
    assert items[("core-1", "cpu_usage")]["template_item"] == ["cisco-ios", "cpu_usage"]
    assert ("core-1", "memory_used_bytes") not in items, "a template's item as the template makes it is not config"
    assert document["snmp_interfaces"] == [{"device": "core-1", "if_index": 3, "name": "Gi0/3", "enabled": False}]
    assert {t["key"] for t in document["templates"]} == {"my-ups", "generic-snmp"}, "shipped ones by reference"
    assert {"device": "core-1", "template": "cisco-ios", "auto": True} in document["template_assignments"]
    rules = {r["name"]: r for r in document["alert_rules"]}
    assert set(rules) == {"Packet loss", "Device down", "Collection stopped", "My UPS: Overload"}, \
        "untouched trigger rules are made again"
    assert rules["My UPS: Overload"]["template_trigger"] == ["my-ups", "Overload"]
    assert document["discovery_rules"][0]["credentials"] == ["v3-admin", "public-ro"]
    assert document["discovery_rules"][0]["schedule"] == "0 3 * * 0"


def test_a_dry_run_changes_nothing(configuration, tmp_path):
    new_install()
    before = export("--with-secrets")
    out, _ = import_text(tmp_path, configuration, "--dry-run")
    assert "devices: 3 to create, 0 to update" in out and "Dry run: nothing was changed." in out
    assert export("--with-secrets") == before


def test_importing_again_updates_by_name(configuration, tmp_path):
    edited = configuration.replace("poller_queue: lab-poller", "poller_queue: lab-2")
    out, _ = import_text(tmp_path, edited)
    assert "device_groups: 0 created, 2 updated" in out and "devices: 0 created, 3 updated" in out
    assert DeviceGroup.objects.get(name="lab").poller_queue == "lab-2" and DeviceGroup.objects.count() == 2
    assert export("--with-secrets") == edited


def test_secrets_travel_encrypted_at_rest_and_work_after_import(configuration, tmp_path):
    path = tmp_path / "with-secrets.yaml"
    err = io.StringIO()
    call_command("export_config", "--with-secrets", "--output", str(path), stdout=io.StringIO(), stderr=err)
    assert "clear text" in err.getvalue()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert SECRETS["community"] in path.read_text()
    new_install()
    call_command("import_config", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    credential = SNMPCredential.objects.get(name="v3-admin")
    assert (credential.auth_key, credential.priv_key) == (SECRETS["auth_key"], SECRETS["priv_key"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT community FROM snmp_snmpcredential WHERE name = 'public-ro'")
        stored = cursor.fetchone()[0]
    assert SECRETS["community"] not in stored and fernet().decrypt(stored.encode()).decode() == SECRETS["community"]
    assert NotificationChannel.objects.get(name="noc-hook").secret == SECRETS["secret"]
    assert ZabbixServer.objects.get(name="zabbix-prod").api_token == SECRETS["api_token"]
    assert ZabbixServer.objects.get(name="zabbix-lab").password == SECRETS["password"]


def test_without_secrets_they_are_left_out_and_existing_ones_are_kept(configuration, tmp_path):
    text = export()
    assert not any(secret in text for secret in SECRETS.values())
    document = yaml.safe_load(text)
    assert {c["name"]: c["secrets_left_out"] for c in document["snmp_credentials"]} == {
        "public-ro": ["community"], "v3-admin": ["auth_key", "priv_key"]}
    _, err = import_text(tmp_path, text)
    assert not err
    assert SNMPCredential.objects.get(name="public-ro").community == SECRETS["community"]
    assert NotificationChannel.objects.get(name="noc-hook").secret == SECRETS["secret"]
    assert export() == text


def test_without_secrets_a_new_install_is_told_which_objects_need_one(configuration, tmp_path):
    text = export()
    new_install()
    out, err = import_text(tmp_path, text)
    assert "Imported." in out
    for where in ("snmp_credentials 'public-ro': community", "snmp_credentials 'v3-admin': auth_key, priv_key",
                  "notification_channels 'noc-hook': secret", "zabbix_servers 'zabbix-prod': api_token",
                  "zabbix_servers 'zabbix-lab': password"):
        assert where in err
    assert SNMPCredential.objects.get(name="public-ro").community == ""


def test_chosen_sections_only(configuration):
    document = yaml.safe_load(export("--section", "tags", "device_groups"))
    assert list(document) == ["format", "device_groups", "tags"]
    with pytest.raises(CommandError, match="unknown section 'gadgets'"):
        export("--section", "gadgets")


VALID_GROUP = f"format: {FORMAT}\ndevice_groups:\n- name: new-group\n"
BAD_DOCUMENTS = {
    "unknown section": (VALID_GROUP + "gadgets: []\n", "unknown section 'gadgets' (known: device_groups,"),
    "missing group": (VALID_GROUP + "devices:\n- {name: r9, address: 10.9.9.9, group: nowhere}\n",
                      "devices 'r9': group: no device group 'nowhere'"),
    "invalid value": (VALID_GROUP + "devices:\n- {name: r9, address: 10.9.9.9, snmp_port: 70000}\n",
                      "devices 'r9': snmp_port: Ensure this value is less than or equal to 65535."),
    "not a number": (VALID_GROUP + "devices:\n- {name: r9, address: 10.9.9.9, snmp_port: many}\n",
                     "devices 'r9': snmp_port: “many” value must be an integer."),
    "unknown field": (VALID_GROUP + "tags:\n- {name: t1, colour: red}\n", "tags 't1': colour: not a field of tags"),
    "missing key": (VALID_GROUP + "tags:\n- {}\n", "tags #1: name: required (it names the object)"),
    "bad child": (VALID_GROUP + "devices:\n- {name: r9, address: 10.9.9.9, aliases: [{address: not-an-ip}]}\n",
                  "devices 'r9': aliases 'not-an-ip': address: Enter a valid IPv4 or IPv6 address."),
    "bad extra": (VALID_GROUP + "discovery_rules:\n- {name: d1, targets: 10.1.0.0/24, schedule: sometimes}\n",
                  "discovery_rules 'd1': schedule: 'sometimes' is not daily, weekly or a cron expression"),
    "model's own check": (VALID_GROUP + "snmp_credentials:\n- {name: c1, version: v2c, community: ''}\n",
                          "snmp_credentials 'c1': community: a community is required for SNMPv2c"),
    "malformed YAML": (VALID_GROUP + "tags: [t1\n", "not valid YAML: line 5, column 1:"),
    "another format": ("format: wardflux-template/1\n", "format: expected 'wardflux-config/1'"),
}


@pytest.mark.parametrize("case", BAD_DOCUMENTS)
def test_a_bad_document_is_refused_naming_where_and_nothing_changes(configuration, tmp_path, case):
    text, message = BAD_DOCUMENTS[case]
    with pytest.raises(CommandError) as refused:
        import_text(tmp_path, text)
    assert message in str(refused.value) and "nothing was imported" in str(refused.value)
    assert refused.value.returncode == 2
    assert export("--with-secrets") == configuration
    assert not DeviceGroup.objects.filter(name="new-group").exists()


def test_every_problem_is_reported_at_once(tmp_path):
    text = (f"format: {FORMAT}\ntags:\n- {{name: ok}}\n- {{name: t2, colour: red}}\n"
            "devices:\n- {name: r1, address: 10.9.9.1, group: g1, tags: [ok, missing]}\n")
    with pytest.raises(CommandError) as refused:
        import_text(tmp_path, text)
    assert "tags 't2': colour" in str(refused.value) and "devices 'r1': group: no device group 'g1'" in str(
        refused.value) and "devices 'r1': tags: no tag 'missing'" in str(refused.value)
    assert not Tag.objects.exists()


def test_a_discovery_rule_gets_its_schedule_and_credentials_in_order(configuration, tmp_path):
    new_install()
    import_text(tmp_path, configuration)
    rule = DiscoveryRule.objects.get(name="lab sweep")
    assert current_cron(rule) == "0 3 * * 0" and rule.schedule.enabled
    assert [link.credential.name for link in rule.rule_credentials.all()] == ["v3-admin", "public-ro"]
    assert Device.objects.get(name="access-1").parent.parent.name == "core-1"


def test_a_reference_to_a_model_no_section_declares_is_refused_naming_the_field():
    """A field added later that points at something the document cannot name fails loudly, not silently."""
    with pytest.raises(ImproperlyConfigured, match=r"alerts\.Alert\.acknowledged_by refers to auth\.User"):
        _dependency_order([*sections(), Section("alerts", Alert, key=("fingerprint",))])

"""Every foreign key a person types takes a name or an id, in bodies and query strings alike; it is shown by name; an
unknown one is a 400 naming the field and saying that nothing has that name or id."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.db.models import Model

from alerts.models import AlertRule, NotificationChannel
from devices.models import Device, DeviceGroup, Tag
from discovery.models import AllowedNetwork, DiscoveryRule
from snmp.models import SNMPCredential
from templates_app.models import MonitoringTemplate
from tests.snmp_agents import free_udp_port
from wardsite.api import get_by_name_or_id

pytestmark = pytest.mark.django_db

REF = object()  # where a case puts the name, the id, or the unknown value
NO_AGENT_PORT = free_udp_port()  # nothing answers SNMP here


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # under /api/v1/; "{template}" is the lab template's id
    data: dict  # the body of a POST, the query of a GET; REF (or [REF]) marks the field
    target: str  # which object of `lab` REF stands for
    ok: int  # the status when the object is found

    @property
    def field(self) -> str:
        return next(key for key, value in self.data.items() if value is REF or value == [REF])

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.field}"


NEW_DEVICE = {"name": "new-1", "address": "127.0.0.9"}
RULE = {"name": "Loss", "expression": "ping_packet_loss > 20"}
WINDOW = {"name": "Upgrade", "starts_at": "2026-12-01T22:00:00Z", "ends_at": "2026-12-02T02:00:00Z"}
CASES = [
    Case("post", "devices/", {**NEW_DEVICE, "group": REF}, "group", 201),
    Case("post", "devices/", {**NEW_DEVICE, "tags": [REF]}, "tag", 201),
    Case("post", "devices/", {**NEW_DEVICE, "parent": REF}, "uplink", 201),
    Case("post", "devices/", {**NEW_DEVICE, "snmp_credential": REF}, "credential", 201),
    Case("get", "devices/", {"group": REF}, "group", 200),
    Case("get", "devices/", {"tag": REF}, "tag", 200),
    Case("get", "devices/", {"parent": REF}, "uplink", 200),
    Case("get", "monitoring/icmp/status", {"group": REF}, "group", 200),
    Case("post", "monitoring/snmp/items/", {"device": REF, "name": "uptime", "oid": "1.3.6.1.2.1.1.3.0"}, "uplink", 201),
    Case("get", "monitoring/snmp/items/", {"device": REF}, "uplink", 200),
    Case("get", "monitoring/snmp/interfaces/", {"device": REF}, "uplink", 200),
    # no agent on that port: a 502 says the device or credential was found and asked
    Case("get", "monitoring/snmp/test", {"device": REF}, "agentless", 502),
    Case("get", "monitoring/snmp/test", {"address": "127.0.0.1", "port": NO_AGENT_PORT, "credential": REF},
         "credential", 502),
    Case("post", "monitoring/snmp/poll", {"device": REF}, "uplink", 400),  # found: "has no SNMP credential"
    Case("post", "templates/{template}/apply", {"devices": [REF]}, "uplink", 200),
    Case("post", "templates/{template}/unlink", {"devices": [REF]}, "uplink", 200),
    Case("post", "monitoring/alerts/rules", {**RULE, "devices": [REF]}, "uplink", 201),
    Case("post", "monitoring/alerts/rules", {**RULE, "groups": [REF]}, "group", 201),
    Case("post", "monitoring/alerts/rules", {**RULE, "tags": [REF]}, "tag", 201),
    Case("post", "monitoring/alerts/rules", {**RULE, "templates": [REF]}, "template", 201),
    Case("post", "monitoring/alerts/rules", {**RULE, "channels": [REF]}, "channel", 201),
    Case("post", "monitoring/alerts/rules", {**RULE, "escalation_channels": [REF]}, "channel", 201),
    Case("post", "monitoring/alerts/maintenance", {**WINDOW, "devices": [REF]}, "uplink", 201),
    Case("post", "monitoring/alerts/maintenance", {**WINDOW, "groups": [REF]}, "group", 201),
    Case("post", "monitoring/alerts/maintenance", {**WINDOW, "tags": [REF]}, "tag", 201),
    Case("get", "monitoring/alerts/history", {"device": REF}, "uplink", 200),
    Case("get", "monitoring/alerts/history", {"rule": REF}, "rule", 200),
    Case("post", "monitoring/discovery/rules", {"name": "lab", "targets": "127.0.5.0/30", "credentials": [REF]},
         "credential", 201),
    Case("post", "monitoring/discovery/rules", {"name": "lab", "targets": "127.0.5.0/30", "device_group": REF},
         "group", 201),
    Case("post", "monitoring/discovery/scan", {"rule": REF}, "discovery_rule", 202),
    Case("post", "monitoring/discovery/scan", {"targets": "127.0.5.1", "credentials": [REF]}, "credential", 202),
    Case("get", "monitoring/discovery/runs", {"rule": REF}, "discovery_rule", 200),
    Case("get", "monitoring/discovery/results", {"matched_device": REF}, "uplink", 200),
]


@pytest.fixture
def lab(db) -> dict[str, Model]:
    """One object of each kind a case refers to."""
    credential = SNMPCredential.objects.create(name="lab", version="v2c", community="public", timeout_ms=200,
                                               retries=0)
    AllowedNetwork.objects.create(network="127.0.0.0/8", description="tests")
    return {
        "group": DeviceGroup.objects.create(name="dc1"),
        "tag": Tag.objects.create(name="core"),
        "credential": credential,
        "uplink": Device.objects.create(name="uplink", address="127.0.0.2"),
        "agentless": Device.objects.create(name="agentless", address="127.0.0.1", snmp_port=NO_AGENT_PORT,
                                           snmp_enabled=True, snmp_credential=credential),
        "template": MonitoringTemplate.objects.create(key="lab-linux", name="Lab Linux"),
        "channel": NotificationChannel.objects.create(name="noc", kind="webhook",
                                                      settings={"url": "http://127.0.0.1:9/"}),
        "rule": AlertRule.objects.create(name="Ping loss", expression="ping_packet_loss > 20"),
        "discovery_rule": DiscoveryRule.objects.create(name="nightly", targets="127.0.5.0/30"),
    }


def send(api, case: Case, lab: dict[str, Model], value: object):
    """The case's request with `value` where REF is (a query string sends an id as its digits)."""
    data = {key: [value] if given == [REF] else value if given is REF else given for key, given in case.data.items()}
    path = "/api/v1/" + case.path.format(template=lab["template"].pk)
    return api.post(path, data, format="json") if case.method == "post" else api.get(path, data)


def human_key(obj: Model) -> str:
    return obj.key if isinstance(obj, MonitoringTemplate) else obj.name


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("by", ["name", "id"])
def test_it_accepts_the_name_or_the_id_and_shows_the_name(api, lab, case, by):
    target = lab[case.target]
    response = send(api, case, lab, human_key(target) if by == "name" else target.pk)
    assert response.status_code == case.ok, response.content
    assert b"or id" not in response.content
    body = response.json()
    if case.ok < 300 and isinstance(body, dict) and case.field in body:  # a created object, shown
        assert body[case.field] in (human_key(target), [human_key(target)])


@pytest.mark.parametrize("case", CASES, ids=str)
def test_an_unknown_one_is_a_400_naming_the_field(api, lab, case):
    response = send(api, case, lab, "nope")
    assert response.status_code == 400, response.content
    assert "or id 'nope'." in str(response.json()[case.field])


def test_a_name_wins_over_an_id_and_digits_that_name_nothing_are_an_id(db):
    core = Tag.objects.create(name="core")
    named_like_an_id = Tag.objects.create(name=str(core.pk))
    assert get_by_name_or_id(Tag.objects.all(), str(core.pk)) == named_like_an_id
    assert get_by_name_or_id(Tag.objects.all(), core.pk) == core  # a JSON integer is always the id
    assert get_by_name_or_id(Tag.objects.all(), str(named_like_an_id.pk)) == named_like_an_id
    with pytest.raises(Tag.DoesNotExist):
        get_by_name_or_id(Tag.objects.all(), 2**80)


@pytest.mark.parametrize("value", [True, 1.5, {"name": "dc1"}])
def test_a_value_that_is_neither_a_name_nor_an_id_is_a_400(api, lab, value):
    response = api.post("/api/v1/devices/", {**NEW_DEVICE, "group": value}, format="json")
    assert response.status_code == 400
    assert "Give a name (a string) or an id (an integer)" in response.json()["group"][0]


def test_the_error_names_the_templates_key(api, lab):
    response = api.post("/api/v1/monitoring/alerts/rules", {**RULE, "templates": ["nope"]}, format="json")
    assert response.json()["templates"] == ["No monitoring template has the key or id 'nope'."]


@pytest.mark.parametrize("value", ["dc1\x00", "100%s", "50%"], ids=["nul", "percent-s", "percent"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_name_with_nul_or_percent_signs_is_a_400_not_a_500(api, lab, method, value):
    """Found by the API fuzz (tests/test_fuzz_api.py): PostgreSQL refuses NUL in a query, and a query parameter's
    message went through %-formatting."""
    case = Case(method, "devices/", {**NEW_DEVICE, "group": REF} if method == "post" else {"group": REF}, "group", 0)
    response = send(api, case, lab, value)
    assert response.status_code == 400, response.content
    assert "No device group has the name or id" in response.json()["group"][0]

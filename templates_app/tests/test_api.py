"""The templates API and commands: import with exact errors, export round trip, apply, auto-template, unlink."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command

from devices.models import Device
from snmp.models import MonitoringItem, SNMPCredential
from templates_app.document import parse_document
from templates_app.library import canonical
from templates_app.models import MonitoringTemplate
from templates_app.tests.test_document import GOOD

pytestmark = pytest.mark.django_db


@pytest.fixture
def linux(snmpsim) -> Device:
    credential = SNMPCredential.objects.create(name="sim", version="v2c", community="unknown-006")
    return Device.objects.create(name="linux", address=snmpsim.host, snmp_port=snmpsim.port, snmp_enabled=True,
                                 snmp_credential=credential)


def test_import_then_export_gives_the_same_document(api):
    response = api.post("/api/v1/templates/import", {"document": GOOD}, format="json")
    assert response.status_code == 201, response.json()
    pk = response.json()["templates"][0]["id"]
    exported = parse_document(json.loads(api.get(f"/api/v1/templates/{pk}/export").content))
    assert exported == canonical(parse_document(GOOD))
    as_yaml = api.get(f"/api/v1/templates/{pk}/export?as=yaml").content.decode()
    assert api.post("/api/v1/templates/import", {"text": as_yaml}, format="json").status_code == 201
    assert MonitoringTemplate.objects.filter(key="lab-linux").count() == 1


def test_a_broken_document_is_refused_with_paths_and_nothing_is_saved(api):
    broken = copy.deepcopy(GOOD)
    broken["items"][1]["discovery"]["filters"][0]["field"] = "if_type"
    broken["triggers"][0]["severity"] = "urgent"
    response = api.post("/api/v1/templates/import", {"document": broken}, format="json")
    assert response.status_code == 400
    errors = response.json()["document"]
    assert any(e.startswith("items[1].discovery.filters[0]: give exactly one of field, oid") for e in errors)
    assert any(e.startswith("triggers[0].severity:") for e in errors)
    assert not MonitoringTemplate.objects.filter(key="lab-linux").exists()


def test_including_an_unknown_template_is_refused(api):
    response = api.post("/api/v1/templates/import", {"document": {**GOOD, "includes": ["nope"]}}, format="json")
    assert response.status_code == 400 and response.json()["document"] == ["includes[0]: no template with key 'nope'"]


def test_apply_auto_template_and_unlink(api, linux):
    MonitoringTemplate.objects.filter(origin="builtin").delete()  # only this test's template competes
    pk = api.post("/api/v1/templates/import", {"document": GOOD}, format="json").json()["templates"][0]["id"]
    reports = api.post(f"/api/v1/templates/{pk}/apply", {"devices": [linux.pk]}, format="json").json()
    assert reports[0]["created"] > 0 and reports[0]["problems"] == []
    again = api.post(f"/api/v1/devices/{linux.pk}/auto-template/").json()
    assert again["template"] == "lab-linux" and again["created"] == 0 and again["updated"] == 0
    removed = api.post(f"/api/v1/templates/{pk}/unlink", {"devices": [linux.pk], "remove_items": True},
                       format="json").json()
    assert removed == {"linux": reports[0]["created"]}
    assert not MonitoringItem.objects.filter(device=linux).exists()


def test_auto_template_without_a_credential_is_a_400(api):
    device = Device.objects.create(name="bare", address="127.0.0.9")
    response = api.post(f"/api/v1/devices/{device.pk}/auto-template/")
    assert response.status_code == 400 and "no SNMP credential" in response.json()["device"][0]


def test_import_template_command(tmp_path):
    good = tmp_path / "lab.yaml"
    good.write_text(yaml.safe_dump(GOOD))
    call_command("import_template", str(good))
    assert MonitoringTemplate.objects.get(key="lab-linux").items.count() == 3
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**GOOD, "key": "Bad Key", "name": "Other"}))
    with pytest.raises(CommandError, match="key: 'Bad Key' does not match") as raised:
        call_command("import_template", str(bad))
    assert raised.value.returncode == 2 and not MonitoringTemplate.objects.filter(name="Other").exists()


ZABBIX = Path(__file__).parent / "data" / "zabbix"


def test_a_zabbix_export_imports_through_the_api_and_the_command(api, capsys):
    response = api.post("/api/v1/templates/import", {"text": (ZABBIX / "cisco_ios_by_snmp.xml").read_text()},
                        format="json")
    assert response.status_code == 201, response.json()
    (template,) = response.json()["templates"]
    assert template["origin"] == "zabbix" and template["items"] and template["triggers"]
    assert "Cisco IOS by SNMP: item icmpping: not an SNMP item (type SIMPLE)" in response.json()["skipped"]
    call_command("import_template", str(ZABBIX / "host_resources_mib_by_snmp.yaml"))
    out = capsys.readouterr().out
    assert out.count("zabbix-") >= 3 and "skipped " in out


def test_a_broken_zabbix_export_is_refused(api):
    response = api.post("/api/v1/templates/import", {"text": "<zabbix_export><version>3.0</version></zabbix_export>"},
                        format="json")
    assert response.status_code == 400 and "not supported" in response.json()["document"][0]

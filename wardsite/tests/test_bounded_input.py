"""Input that would cost too much is refused with a clear error: YAML alias bombs, SNMP timeouts and retries past
their bounds, and pages larger than the API's maximum."""
from __future__ import annotations

import pytest
import yaml

from devices.models import Device
from snmp.models import SNMPCredential
from wardsite import yaml_input

pytestmark = pytest.mark.django_db

# 9 levels of 9 aliases: 400-odd bytes standing for 9**9 (387 million) strings once expanded
BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{chr(98 + n)}: &{chr(98 + n)} [{', '.join(['*' + chr(97 + n)] * 9)}]\n" for n in range(8))


def test_aliases_of_aliases_are_refused_where_they_appear():
    with pytest.raises(yaml.YAMLError) as refused:
        yaml_input.load(BOMB)
    assert "YAML aliases of nodes that hold aliases (*b) are not accepted" in str(refused.value)
    assert "line 3" in str(refused.value)


def test_one_level_of_aliases_is_read_as_written():
    text = "map: &m {1: up, 2: down}\nitems:\n- {name: a, value_map: *m}\n- {name: b, value_map: *m}\n"
    assert [item["value_map"] for item in yaml_input.load(text)["items"]] == [{1: "up", 2: "down"}] * 2


def test_a_template_import_with_an_alias_bomb_is_a_400(api):
    assert len(BOMB) < 500
    answer = api.post("/api/v1/templates/import", {"text": BOMB}, format="json")
    assert answer.status_code == 400
    assert "aliases of nodes that hold aliases (*b)" in str(answer.json()) and len(str(answer.json())) < 1000


def test_a_zabbix_export_with_an_alias_bomb_is_refused(api):
    answer = api.post("/api/v1/templates/import", {"text": "zabbix_export:\n  version: '6.0'\n" + BOMB.replace(
        "\n", "\n  ").replace("a: &a", "  a: &a", 1)}, format="json")
    assert answer.status_code == 400 and "aliases" in str(answer.json())


@pytest.mark.parametrize("field, value", [("timeout_ms", 86_400_000), ("timeout_ms", 0), ("retries", 32_767)])
def test_snmp_timeouts_and_retries_have_bounds(api, field, value):
    answer = api.post("/api/v1/monitoring/snmp/credentials/",
                      {"name": "lab", "version": "v2c", "community": "public", field: value}, format="json")
    assert answer.status_code == 400 and field in answer.json()
    assert not SNMPCredential.objects.exists()


def test_a_page_holds_at_most_a_thousand_objects(api):
    Device.objects.bulk_create(Device(name=f"d{n}", address="127.0.0.2") for n in range(1001))
    page = api.get("/api/v1/devices/", {"limit": 100_000}).json()
    assert (page["count"], len(page["results"])) == (1001, 1000) and "offset=1000" in page["next"]


HUGE = "9" * 50_000 + "x" * 50_000  # 100 kB that no field takes


@pytest.mark.parametrize("path, body, field", [
    ("/api/v1/monitoring/snmp/items/", {"device": "core-1", "name": "cpu_usage", "oid": HUGE}, "oid"),
    ("/api/v1/devices/", {"name": "new-1", "address": "127.0.0.9", "group": HUGE}, "group"),
    ("/api/v1/monitoring/discovery/rules/", {"name": "lab", "targets": HUGE}, "targets"),
    ("/api/v1/monitoring/alerts/maintenance/", {"name": "Upgrade", "starts_at": "2026-12-01T22:00:00Z",
                                                "duration_minutes": 60, "recurrence": HUGE}, "recurrence"),
    ("/api/v1/monitoring/alerts/rules/", {"name": "Loss", "expression": f"ping_packet_loss > {HUGE}"}, "expression"),
    ("/api/v1/templates/import", {"document": {"format": HUGE}}, "document"),
])
def test_an_error_quotes_a_short_prefix_of_a_huge_bad_value(api, path, body, field):
    Device.objects.create(name="core-1", address="127.0.0.1")
    answer = api.post(path, body, format="json")
    assert answer.status_code == 400 and field in answer.json(), answer.content[:300]
    assert len(answer.content) < 2000, answer.content[:300]


def test_quote_cuts_long_values_and_says_how_long_they_were():
    from wardsite.text import quote

    assert quote("short") == "'short'" and quote(42) == "42"
    assert quote("a" * 1234, limit=3) == "'aaa…' (1,234 characters)"
    assert quote(["b"] * 100, limit=10) == "['b', 'b',… (500 characters)"


def test_a_request_body_past_the_limit_is_a_413_before_it_is_read(api, settings):
    answer = api.post("/api/v1/templates/import", {"text": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)},
                      format="json")
    assert answer.status_code == 413
    assert "more than the 10,485,760 this server takes (DATA_UPLOAD_MAX_MEMORY_SIZE)" in answer.json()["detail"]
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    assert api.post("/api/v1/devices/", {"name": "n" * 2000, "address": "127.0.0.9"}, format="json").status_code == 413
    assert api.post("/api/v1/devices/", {"name": "small-1", "address": "127.0.0.9"}, format="json").status_code == 201


def test_a_form_with_too_many_fields_is_a_400(admin_client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 100
    answer = admin_client.post("/admin/devices/device/add/", {f"field{n}": "x" for n in range(101)})
    assert answer.status_code == 400

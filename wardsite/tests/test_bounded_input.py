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

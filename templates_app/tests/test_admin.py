"""Templates from the device list: apply the chosen one, auto-select, unlink; the template editor refuses bad input."""
from __future__ import annotations

import pytest

from devices.models import Device
from snmp.models import MonitoringItem, SNMPCredential
from templates_app.document import parse_document
from templates_app.library import save_spec
from templates_app.models import MonitoringTemplate
from templates_app.tests.test_document import GOOD

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("victoria_url")]


@pytest.fixture
def linux(snmpsim) -> Device:
    credential = SNMPCredential.objects.create(name="sim", version="v2c", community="unknown-006")
    return Device.objects.create(name="linux", address=snmpsim.host, snmp_port=snmpsim.port, snmp_enabled=True,
                                 snmp_credential=credential)


def act(admin_client, action: str, device: Device, **extra) -> list[str]:
    response = admin_client.post("/admin/devices/device/", {"action": action, "_selected_action": [device.pk],
                                                            **extra}, follow=True)
    return [str(m) for m in response.context["messages"]]


def test_apply_then_unlink_the_chosen_template_from_the_device_list(admin_client, linux):
    template = save_spec(parse_document(GOOD))
    assert act(admin_client, "apply_template", linux) == ["Choose a template next to the action."]
    (message,) = act(admin_client, "apply_template", linux, template=template.pk)
    assert message.startswith("Lab Linux on linux: ") and " created" in message
    made = MonitoringItem.objects.filter(device=linux).count()
    assert made > 0
    assert act(admin_client, "unlink_template", linux, template=template.pk) == [
        f"Lab Linux unlinked from linux; {made} items kept"]


def test_auto_template_from_the_device_list(admin_client, linux):
    (message,) = act(admin_client, "auto_template", linux)
    assert message.startswith("Linux") and "on linux" in message  # the default library's Linux template


def test_the_template_editor_refuses_a_bad_discovery_with_its_path(admin_client):
    template = save_spec(parse_document(GOOD))
    item = template.items.get(key="storage_used_units")
    item.discovery = {"table": "1.3.6.1.2.1.25.2.3.1.3", "filters": [{"field": "if_type", "oid": "1.3", "in": []}]}
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as raised:
        item.full_clean()
    assert "discovery.filters[0]: give exactly one of field, oid" in str(raised.value)
    assert MonitoringTemplate.objects.filter(key="lab-linux").exists()

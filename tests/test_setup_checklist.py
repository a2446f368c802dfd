"""The setup checklist on the admin index: a new install that would notify nobody says so, with links to fix each
item, and the list is gone once nothing is missing. Each app registers its own check (wardsite knows none)."""
from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission, User

from alerts.models import AlertRule, NotificationChannel
from devices.models import Device
from discovery.models import AllowedNetwork
from snmp.models import SNMPCredential

pytestmark = pytest.mark.django_db

ITEMS = {  # what each item says -> the page its link leads to
    "No device is monitored yet": "/admin/devices/device/add/",
    "No SNMP credential": "/admin/snmp/snmpcredential/add/",
    "Device down rule has no notification channel": "/admin/alerts/notificationchannel/add/",
    "No allowed discovery network is configured": "/admin/discovery/allowednetwork/add/",
}


@pytest.fixture(autouse=True)
def default_allow_list(settings) -> None:
    settings.DISCOVERY_ALLOWED_NETWORKS = settings.DISCOVERY_PRIVATE_NETWORKS


def checklist(client) -> str:
    """The checklist's HTML on the admin index; "" when it is not shown."""
    page = client.get("/admin/").content.decode()
    found = re.search(r'<div class="module" id="setup-checklist">.*?</ul>', page, re.S)
    return found.group(0) if found else ""


def test_a_fresh_install_lists_what_is_missing_with_links_to_fix_it(admin_client):
    shown = checklist(admin_client)
    for text, link in ITEMS.items():
        assert text in shown and f'href="{link}"' in shown, text
    rule = AlertRule.objects.get(builtin="device-down")
    assert f'href="/admin/alerts/alertrule/{rule.pk}/change/"' in shown
    assert "10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16" in shown


def test_the_checklist_disappears_once_nothing_is_missing(admin_client):
    channel = NotificationChannel.objects.create(name="noc", kind="webhook", settings={"url": "http://127.0.0.1:9/"})
    AlertRule.objects.get(builtin="device-down").channels.add(channel)
    assert "Device down" not in checklist(admin_client)
    SNMPCredential.objects.create(name="lab", version="v2c", community="public")
    AllowedNetwork.objects.create(network="198.51.100.0/24")
    Device.objects.create(name="r1", address="127.0.0.2")
    assert checklist(admin_client) == ""
    assert 'id="content-main"' in admin_client.get("/admin/").content.decode()  # the apps are still listed


def test_a_disabled_channel_tells_nobody_either(admin_client):
    channel = NotificationChannel.objects.create(name="noc", kind="webhook", settings={"url": "http://127.0.0.1:9/"},
                                                 enabled=False)
    AlertRule.objects.get(builtin="device-down").channels.add(channel)
    assert "Device down rule has no notification channel" in checklist(admin_client)


def test_an_allow_list_set_by_the_operator_is_configured(admin_client, settings):
    settings.DISCOVERY_ALLOWED_NETWORKS = "10.20.0.0/16"
    assert "discovery network" not in checklist(admin_client)


def test_it_links_only_where_the_user_may_go(client):
    user = User.objects.create_user("viewer", password="viewer-pass-123", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=["view_device", "add_snmpcredential"]))
    client.force_login(user)
    shown = checklist(client)
    assert all(text in shown for text in ITEMS)  # what is missing is news to everyone
    assert re.findall(r'href="([^"]+)"', shown) == ["/admin/snmp/snmpcredential/add/"]

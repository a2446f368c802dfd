"""One bad record fails alone (issue 15, item 4): a secret no key in FERNET_KEYS decrypts (written with a real
throwaway Fernet key), a malformed item saved past validation; its list endpoint, its poll batch and its
deliveries go on for every other object, and the bad one says what is wrong with it."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.utils import timezone

from alerts import services as alert_services
from alerts.models import NotificationChannel
from devices.models import Device
from snmp import services
from snmp.client import Target
from snmp.models import MonitoringItem, SNMPCredential, SNMPStatus
from tests.snmp_agents import SnmpdAgent, _running, _snmpd_binary, free_udp_port
from wardsite.secrets import SecretDecryptionError, UnreadableSecret
from zabbix_bridge import sync as zabbix_sync
from zabbix_bridge.models import ZabbixServer

pytestmark = pytest.mark.django_db
SYS_UPTIME, SYS_NAME, SYS_SERVICES, SYS_OR_LAST_CHANGE = (f"1.3.6.1.2.1.1.{n}.0" for n in (3, 5, 7, 8))
CREDENTIALS = "/api/v1/monitoring/snmp/credentials/"
UNREADABLE = "cannot be decrypted with any key in FERNET_KEYS"


def encrypt_with_a_lost_key(model, pk: int, **values: str) -> None:
    """Store `values` encrypted with a key that is not (any longer) in FERNET_KEYS, as after a careless rotation."""
    lost = Fernet(Fernet.generate_key())
    table = model._meta.db_table
    with connection.cursor() as cursor:
        for column, value in values.items():
            cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s",  # our own names
                           [lost.encrypt(value.encode()).decode(), pk])


class SecondSnmpd(SnmpdAgent):
    """snmpd on another loopback address (a second device); asked from 127.0.0.1, the source Linux picks."""

    def _config(self) -> str:
        return super()._config().replace(f"rocommunity {self.community} {self.host}",
                                         f"rocommunity {self.community} 127.0.0.1")


@pytest.fixture
def second_snmpd(tmp_path: Path) -> Iterator[SnmpdAgent]:
    yield from _running(SecondSnmpd(_snmpd_binary(), tmp_path / "snmpd2", free_udp_port(), host="127.0.0.2"))


@pytest.fixture
def lost_credential(db) -> SNMPCredential:
    credential = SNMPCredential.objects.create(name="lost-key", version="v2c", community="public")
    encrypt_with_a_lost_key(SNMPCredential, credential.pk, community="public")
    return credential


def test_the_credential_list_shows_a_credential_no_key_decrypts(api, lost_credential):
    SNMPCredential.objects.create(name="fine", version="v2c", community="public")

    answer = api.get(CREDENTIALS)

    assert answer.status_code == 200
    rows = {row["name"]: row for row in answer.json()["results"]}
    assert rows["fine"]["has_community"] is True and rows["fine"]["secret_error"] == ""
    assert rows["lost-key"]["has_community"] is False
    assert "lost-key" in rows["lost-key"]["secret_error"] and UNREADABLE in rows["lost-key"]["secret_error"]
    assert api.get(f"{CREDENTIALS}{lost_credential.pk}/").status_code == 200


def test_the_admin_lists_it_and_asks_for_the_secret_again(admin_client, lost_credential):
    assert admin_client.get("/admin/snmp/snmpcredential/").status_code == 200
    page = admin_client.get(f"/admin/snmp/snmpcredential/{lost_credential.pk}/change/")
    assert page.status_code == 200 and UNREADABLE in page.content.decode()


def test_saving_it_keeps_the_stored_ciphertext_and_using_it_names_it(lost_credential):
    with connection.cursor() as cursor:
        cursor.execute("SELECT community FROM snmp_snmpcredential WHERE id = %s", [lost_credential.pk])
        (before,) = cursor.fetchone()
    credential = SNMPCredential.objects.get(pk=lost_credential.pk)
    assert isinstance(credential.community, UnreadableSecret) and not credential.community
    assert "public" not in repr(credential.community) and before not in str(credential.community)
    credential.retries = 3
    credential.save()
    with connection.cursor() as cursor:
        cursor.execute("SELECT community, retries FROM snmp_snmpcredential WHERE id = %s", [lost_credential.pk])
        assert cursor.fetchone() == (before, 3)
    with pytest.raises(SecretDecryptionError, match=f"SNMP credential 'lost-key .*': community {UNREADABLE}"):
        Target.from_credential(credential, "127.0.0.1")


def test_a_batch_polls_the_others_when_one_credential_or_item_is_bad(snmpd, second_snmpd, lost_credential,
                                                                      victoria_url, snmp_counter_state):
    good = SNMPCredential.objects.create(name="good", version="v2c", community=snmpd.community, timeout_ms=1000)
    one, two = (Device.objects.create(name=name, address=agent.host, snmp_port=agent.port, snmp_enabled=True,
                                      snmp_credential=good) for name, agent in (("one", snmpd), ("two", second_snmpd)))
    lost = Device.objects.create(name="lost", address="127.0.0.3", snmp_enabled=True, snmp_credential=lost_credential)
    for device in (one, two, lost):
        MonitoringItem.objects.create(device=device, name="uptime", oid=SYS_UPTIME, value_type="integer")
    bad = {name: MonitoringItem.objects.create(device=one, name=name, oid=oid).pk
           for name, oid in (("bad_labels", SYS_SERVICES), ("bad_map", SYS_OR_LAST_CHANGE), ("bad_oid", SYS_NAME))}
    # past validation, as a row written by an older version or by hand
    MonitoringItem.objects.filter(pk=bad["bad_labels"]).update(labels={"bad-name": 1})
    MonitoringItem.objects.filter(pk=bad["bad_map"]).update(value_map=["not", "a", "map"])
    MonitoringItem.objects.filter(pk=bad["bad_oid"]).update(oid="1.3.six.1")
    before = timezone.now()

    results = {r.device: r for r in services.run_batch([one.pk, lost.pk, two.pk], force=True)}

    assert results["one"].error == "" and results["two"].error == ""
    assert results["one"].items["uptime"].value.isdigit() and results["two"].items["uptime"].value.isdigit()
    assert "lost-key" in results["lost"].error and UNREADABLE in results["lost"].error
    statuses = SNMPStatus.objects.in_bulk()
    assert statuses[one.pk].reachable and statuses[two.pk].reachable and statuses[one.pk].error == ""
    status = statuses[lost.pk]
    assert status.error.startswith("lost: SNMP credential 'lost-key") and UNREADABLE in status.error
    assert status.next_due_at > before and status.scheduled_at is None and status.checked_at >= before
    items = {item.name: item for item in MonitoringItem.objects.filter(device=one)}
    assert items["uptime"].last_error == "" and items["uptime"].last_value.isdigit()
    assert items["bad_labels"].last_error.startswith("not written:") and "bad-name" in items["bad_labels"].last_error
    assert items["bad_map"].last_error.startswith("not written:")
    assert items["bad_oid"].last_error.startswith("OID '1.3.six.1'")
    assert items["bad_labels"].last_polled_at is not None


def test_a_channel_no_key_decrypts_fails_its_delivery_alone(api, http_receiver):
    for name in ("fine", "lost-key"):
        answer = api.post("/api/v1/monitoring/alerts/channels/", {
            "name": name, "kind": "webhook", "settings": {"url": f"{http_receiver.url}/{name}"}, "secret": "t0ken"},
            format="json")
        assert answer.status_code == 201, answer.json()
    lost = NotificationChannel.objects.get(name="lost-key")
    encrypt_with_a_lost_key(NotificationChannel, lost.pk, secret="t0ken", secret_settings='{"url": "x"}')

    listed = api.get("/api/v1/monitoring/alerts/channels/")
    assert listed.status_code == 200
    rows = {row["name"]: row for row in listed.json()["results"]}
    assert rows["lost-key"]["has_secret"] is False and "secret_settings, secret " in rows["lost-key"]["secret_error"]
    sent = alert_services.send_test(NotificationChannel.objects.get(name="fine"))
    failed = alert_services.send_test(NotificationChannel.objects.get(name="lost-key"))

    assert sent.status == "sent" and [r.path for r in http_receiver.requests] == ["/fine"]
    assert failed.status == "failed" and "notification channel 'lost-key" in failed.error
    assert UNREADABLE in failed.error
    channel = NotificationChannel.objects.get(name="lost-key")  # saved again: the unreadable settings are kept
    channel.enabled = False
    channel.save()
    assert isinstance(NotificationChannel.objects.get(name="lost-key").secret_settings, UnreadableSecret)


def test_a_zabbix_server_no_key_decrypts_records_why_and_is_listed(api):
    server = ZabbixServer.objects.create(name="zbx", url="http://127.0.0.1:9/", api_token="a" * 64)
    encrypt_with_a_lost_key(ZabbixServer, server.pk, api_token="a" * 64)

    with pytest.raises(zabbix_sync.SyncFailed, match=UNREADABLE):
        zabbix_sync.sync(ZabbixServer.objects.get(pk=server.pk))

    assert UNREADABLE in ZabbixServer.objects.get(pk=server.pk).last_error
    answer = api.get("/api/v1/zabbix/servers/")
    assert answer.status_code == 200
    (row,) = answer.json()["results"]
    assert row["has_api_token"] is False and "api_token " + UNREADABLE in row["secret_error"]

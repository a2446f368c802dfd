"""A stored credential goes only where it belongs: the SNMP test of an explicit address keeps to the allow-list and
needs the right to use credentials; refused, nothing is sent (a UDP listener records every datagram)."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User

from devices.models import Device
from snmp.models import SNMPCredential
from tests.fixtures import api_client_for, user_with

pytestmark = pytest.mark.django_db
TEST = "/api/v1/monitoring/snmp/test"
INSIDE, OUTSIDE = "127.0.0.7", "127.0.66.6"  # the allow-list is 127.0.0.0/24


@pytest.fixture(autouse=True)
def allow_list(settings) -> None:
    settings.DISCOVERY_ALLOWED_NETWORKS = "127.0.0.0/24"


@pytest.fixture
def credential() -> SNMPCredential:
    return SNMPCredential.objects.create(name="core", version="v2c", community="s3cret-community", timeout_ms=200,
                                         retries=0)


@pytest.fixture
def tester() -> User:
    """May test devices and use stored credentials."""
    return user_with("devices.change_device", "snmp.use_snmpcredential")


def test_an_address_inside_the_allow_list_gets_the_request_with_the_credential(tester, credential, udp_listener):
    listener = udp_listener(INSIDE)
    response = api_client_for(tester).get(TEST, {"address": INSIDE, "port": listener.port,
                                                 "credential": credential.pk})
    assert response.status_code == 502 and response.json()["error_type"] == "timeout"  # the listener never answers
    received = listener.received()
    assert received and all(b"s3cret-community" in datagram for datagram in received)


def test_an_address_outside_the_allow_list_is_a_400_naming_it_and_nothing_is_sent(tester, credential, udp_listener):
    listener = udp_listener(OUTSIDE)
    response = api_client_for(tester).get(TEST, {"address": OUTSIDE, "port": listener.port,
                                                 "credential": credential.pk})
    assert response.status_code == 400
    message = response.json()["address"][0]
    assert OUTSIDE in message and "DISCOVERY_ALLOWED_NETWORKS" in message and "Allowed networks" in message
    assert listener.received() == []


def test_an_allowed_network_added_in_the_admin_lets_the_address_be_tested(tester, credential, udp_listener):
    from discovery.models import AllowedNetwork

    listener = udp_listener(OUTSIDE)
    AllowedNetwork.objects.create(network="127.0.66.0/24")
    response = api_client_for(tester).get(TEST, {"address": OUTSIDE, "port": listener.port,
                                                 "credential": credential.pk})
    assert response.status_code == 502 and listener.received()


def test_without_the_right_to_use_credentials_it_is_a_403_and_nothing_is_sent(credential, udp_listener):
    listener = udp_listener(INSIDE)
    operator = user_with("devices.change_device")
    response = api_client_for(operator).get(TEST, {"address": INSIDE, "port": listener.port,
                                                   "credential": credential.pk})
    assert response.status_code == 403 and "snmp.use_snmpcredential" in response.json()["detail"]
    assert listener.received() == []


def test_testing_a_device_uses_its_own_credential_and_needs_no_more_than_changing_devices(credential,
                                                                                        udp_listener):
    listener = udp_listener(OUTSIDE)  # devices may be anywhere: only explicit addresses keep to the allow-list
    device = Device.objects.create(name="edge", address=OUTSIDE, snmp_port=listener.port, snmp_enabled=True,
                                   snmp_credential=credential)
    response = api_client_for(user_with("devices.change_device")).get(TEST, {"device": device.pk})
    assert response.status_code == 502 and listener.received()


def test_the_permission_exists_with_its_description():
    permission = Permission.objects.get(codename="use_snmpcredential")
    assert (permission.content_type.app_label, permission.name) == ("snmp", "Can use credentials in tests and scans")

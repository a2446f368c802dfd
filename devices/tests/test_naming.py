"""A device added with only an address is named by reverse DNS, else by its address. Only 127.0.0.1 is really
looked up (/etc/hosts answers it); every other lookup here is replaced, so no DNS query leaves the machine."""
from __future__ import annotations

import socket
import threading

import pytest

from devices.models import Device
from devices.reverse_dns import ptr_name

pytestmark = pytest.mark.django_db


@pytest.fixture
def lookups(monkeypatch) -> list[str]:
    """The addresses looked up, each answered "no name" (as an address without a PTR record is)."""
    asked: list[str] = []

    def no_name(address: str):
        asked.append(address)
        raise socket.herror(1, "Unknown host")

    monkeypatch.setattr(socket, "gethostbyaddr", no_name)
    return asked


@pytest.fixture(autouse=True)
def reverse_dns_on(settings) -> None:
    settings.DEVICE_NAME_FROM_DNS = True  # off for the rest of the tests (tests/bootstrap.py): no DNS traffic


def test_it_names_a_device_created_in_code_by_its_reverse_dns_name():
    assert Device.objects.create(address="127.0.0.1").name == "localhost"


def test_it_names_a_device_by_its_address_when_it_has_no_reverse_dns_name(lookups):
    assert Device.objects.create(address="192.0.2.7").name == "192.0.2.7"
    assert lookups == ["192.0.2.7"]


def test_it_names_a_device_reached_by_a_dns_name_by_that_name_without_a_lookup(lookups):
    assert Device.objects.create(address="core-sw1.example.net").name == "core-sw1.example.net"
    assert lookups == []


def test_it_keeps_a_given_name_without_a_lookup(lookups):
    assert Device.objects.create(name="r1", address="192.0.2.7").name == "r1"
    assert lookups == []


def test_it_gives_up_a_reverse_lookup_that_does_not_answer(monkeypatch):
    release = threading.Event()
    monkeypatch.setattr(socket, "gethostbyaddr", lambda address: release.wait() and ("late.example.net", [], []))
    try:
        assert ptr_name("192.0.2.7", timeout=0.2) == ""
        assert not release.is_set()  # it gave up while the lookup was still waiting
    finally:
        release.set()


def test_it_names_by_address_without_asking_dns_when_told_not_to(settings, lookups):
    settings.DEVICE_NAME_FROM_DNS = False
    assert Device.objects.create(address="127.0.0.1").name == "127.0.0.1"
    assert lookups == []

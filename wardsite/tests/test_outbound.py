"""The outbound guard (wardsite/outbound.py): which addresses a notification may go to, and why not.

Names are resolved through `outbound.resolve`, the guard's one resolver; tests that need a name to answer
something /etc/hosts does not say replace that function (monkeypatch): /etc/hosts is shared by the machine.
"""
from __future__ import annotations

import ipaddress

import pytest
from django.core.exceptions import ImproperlyConfigured

from wardsite import outbound
from wardsite.env import env_networks


@pytest.fixture(autouse=True)
def nothing_allowed(settings) -> None:
    settings.OUTBOUND_ALLOWED_NETWORKS = []


@pytest.mark.parametrize("address, why", [
    ("127.0.0.1", "a loopback address"),
    ("::1", "a loopback address"),
    ("169.254.169.254", "a link-local address"),
    ("fe80::1", "a link-local address"),
    ("10.1.2.3", "a private address"),
    ("192.168.1.1", "a private address"),
    ("fd00::1", "a private address"),
    ("0.0.0.0", "an unspecified address"),
    ("::", "an unspecified address"),
    ("224.0.0.251", "a multicast address"),
    ("ff02::1", "a multicast address"),
    ("100.64.0.1", "not a public address"),  # carrier-grade NAT: neither private nor global
    ("::ffff:127.0.0.1", "a loopback address (127.0.0.1 in IPv6 form)"),
    ("::ffff:169.254.169.254", "a link-local address (169.254.169.254 in IPv6 form)"),
    ("2002:7f00:1::1", "a loopback address (127.0.0.1 in IPv6 form)"),  # 6to4
    ("64:ff9b::a9fe:a9fe", "a link-local address (169.254.169.254 in IPv6 form)"),  # NAT64
    ("::127.0.0.1", "a reserved address"),  # IPv4-compatible, deprecated
])
def test_it_refuses_addresses_of_this_host_and_its_networks(address, why):
    assert outbound.refusal(ipaddress.ip_address(address)) == why


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_it_takes_public_addresses(address):
    assert outbound.refusal(ipaddress.ip_address(address)) is None


def test_allowed_networks_let_their_addresses_through_and_no_others(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["10.20.0.0/16", "::1"]
    for address in ("10.20.7.1", "::ffff:10.20.7.1", "::1"):
        assert outbound.refusal(ipaddress.ip_address(address)) is None, address
    assert outbound.refusal(ipaddress.ip_address("10.21.0.1")) == "a private address"
    assert outbound.refusal(ipaddress.ip_address("127.0.0.1")) == "a loopback address"


def test_a_name_is_refused_when_any_of_its_addresses_is(monkeypatch):
    monkeypatch.setattr(outbound, "resolve", lambda host, port: ["8.8.8.8", "10.0.0.7"])
    with pytest.raises(outbound.OutboundRefused) as refused:
        outbound.check_url("https://hooks.example.test/T1/B2/token")
    assert str(refused.value) == ("hooks.example.test resolves to 10.0.0.7, a private address; allow it with "
                                  "OUTBOUND_ALLOWED_NETWORKS")


def test_localhost_is_refused_through_the_real_resolver():
    with pytest.raises(outbound.OutboundRefused, match="localhost resolves to (127.0.0.1|::1), a loopback address"):
        outbound.check_url("http://localhost:6379/")


@pytest.mark.parametrize("url", ["http://127.1:8428/", "http://2130706433/", "http://0x7f.0.0.1/"])
def test_other_spellings_of_loopback_are_resolved_and_refused(url):
    with pytest.raises(outbound.OutboundRefused, match="resolves to 127.0.0.1, a loopback address"):
        outbound.check_url(url)


@pytest.mark.parametrize("url, problem", [
    ("ftp://files.example.test/x", "an http:// or https:// URL is required"),
    ("gopher://127.0.0.1:6379/_SET", "an http:// or https:// URL is required"),
    ("http:///path-only", "an http:// or https:// URL is required"),
    ("https://user:pass@hooks.example.test/x", "a user name or password in the URL is not taken"),
])
def test_other_schemes_and_credentials_in_the_url_are_refused(url, problem):
    with pytest.raises(outbound.OutboundRefused, match=problem):
        outbound.check_url(url)


def test_a_name_that_does_not_resolve_is_told_apart_from_a_refused_one():
    with pytest.raises(outbound.Unresolvable, match="nowhere.invalid does not resolve"):
        outbound.check_url("https://nowhere.invalid/hook")


@pytest.mark.parametrize("url, shown", [
    ("https://hooks.slack.com/services/T0/B0/XYZ", "https://hooks.slack.com/…"),
    ("http://[::1]:8428/api/v1/admin", "http://[::1]:8428/…"),
    ("not a url", "…"),
])
def test_only_scheme_and_host_of_a_secret_url_are_shown(url, shown):
    assert outbound.url_shown(url) == shown


def test_a_malformed_allowed_network_stops_start_up(monkeypatch):
    monkeypatch.setenv("OUTBOUND_ALLOWED_NETWORKS", "127.0.0.0/8, 10.0.0.0/33")
    with pytest.raises(ImproperlyConfigured, match="OUTBOUND_ALLOWED_NETWORKS: '10.0.0.0/33' is not a network"):
        env_networks("OUTBOUND_ALLOWED_NETWORKS")

"""The allow-list for explicit addresses: installed by discovery, refusing everything without it, and checking every
address a name resolves to."""
from __future__ import annotations

import ipaddress

import pytest

from wardsite import target_policy
from wardsite.target_policy import TargetRefused


@pytest.fixture
def allow(monkeypatch):
    """Install an allow-list of the given networks for the test (the one discovery installed comes back after)."""

    def install(*networks: str) -> None:
        monkeypatch.setattr(target_policy, "_allow_list", target_policy.AllowList(
            lambda: [ipaddress.ip_network(n) for n in networks], "TEST_NETWORKS"))

    return install


def test_discovery_installs_its_allow_list_at_start_up():
    assert target_policy._allow_list is not None
    assert "DISCOVERY_ALLOWED_NETWORKS" in target_policy._allow_list.described_as


def test_without_an_allow_list_every_explicit_address_is_refused(monkeypatch):
    monkeypatch.setattr(target_policy, "_allow_list", None)
    with pytest.raises(TargetRefused, match="no allow-list is installed"):
        target_policy.allowed_address("127.0.0.1")


def test_an_address_inside_is_returned_and_one_outside_is_refused_naming_the_list(allow):
    allow("127.0.0.0/24", "::1/128")
    assert target_policy.allowed_address("127.0.0.9") == "127.0.0.9"
    assert target_policy.allowed_address("::1") == "::1"
    with pytest.raises(TargetRefused, match=r"127\.0\.1\.1 .*TEST_NETWORKS"):
        target_policy.allowed_address("127.0.1.1")


def test_a_name_is_checked_by_every_address_it_resolves_to_and_the_checked_one_is_used(allow):
    allow("10.0.0.0/8")
    with pytest.raises(TargetRefused, match=r"localhost \(.*127\.0\.0\.1"):
        target_policy.allowed_address("localhost")
    allow("127.0.0.0/8", "::1/128")
    assert target_policy.allowed_address("localhost") in {"127.0.0.1", "::1"}


def test_a_name_that_does_not_resolve_is_refused(allow):
    allow("0.0.0.0/0")
    with pytest.raises(TargetRefused, match="does not resolve"):
        target_policy.allowed_address("empty..label")  # refused before any DNS query leaves the machine

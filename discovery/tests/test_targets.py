"""Target lists: what is accepted, what is refused with which message, and the safety rules of a scan."""
from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from discovery import targets
from discovery.models import AllowedNetwork, DiscoveryRule


def test_it_takes_networks_ranges_and_addresses_and_expands_them_minus_exclusions():
    networks = targets.parse("192.0.2.0/30, 192.0.2.10-192.0.2.12\n192.0.2.20-21 2001:db8::1")
    assert targets.size(networks) == 4 + 3 + 2 + 1
    assert targets.expand(networks, targets.parse("192.0.2.11")) == [
        "192.0.2.1", "192.0.2.2", "192.0.2.10", "192.0.2.12", "192.0.2.20", "192.0.2.21", "2001:db8::1"]
    assert targets.expand(targets.parse("192.0.2.5/32, 192.0.2.4/31, 192.0.2.5")) == ["192.0.2.5", "192.0.2.4"]


@pytest.mark.parametrize("bad, says", [
    ("10.0.0.0/33", "'10.0.0.0/33' is not a network"),
    ("foo", "'foo' is not an address, a range"),
    ("10.0.0.50-10.0.0.10", "the range ends before it starts"),
    ("10.0.0.1-foo", "is not an IPv4 range"),
    ("2001:db8::/64", "IPv6 is scanned by explicit addresses only"),
    ("10.0.0.1, 300.1.1.1", "'300.1.1.1' is not an address"),
])
def test_a_bad_target_is_refused_naming_it(bad, says):
    with pytest.raises(targets.TargetError, match=says):
        targets.parse(bad)


@pytest.mark.django_db
def test_a_rule_with_bad_targets_is_refused_at_save_naming_the_field():
    rule = DiscoveryRule(name="lab", targets="10.0.0.0/33", exclusions="foo", tcp_ports="22, 99999")
    with pytest.raises(ValidationError) as refused:
        rule.full_clean()
    errors = refused.value.message_dict
    assert "10.0.0.0/33" in errors["targets"][0] and "'foo'" in errors["exclusions"][0]
    assert errors["tcp_ports"] == ["'99999' is not a TCP port (1-65535)"]


@pytest.mark.django_db
def test_a_scan_outside_the_allow_list_or_over_the_size_limit_is_refused_naming_the_rule(settings):
    settings.DISCOVERY_ALLOWED_NETWORKS = "10.0.0.0/8"
    with pytest.raises(targets.ScanRefused, match=r"refused by the allow-list: 198\.51\.100\.0/24 outside"):
        targets.check_scan(targets.parse("10.1.0.0/24, 198.51.100.0/24"))
    AllowedNetwork.objects.create(network="198.51.100.0/24")
    targets.check_scan(targets.parse("10.1.0.0/24, 198.51.100.0/25"))  # now inside: no refusal
    settings.DISCOVERY_MAX_ADDRESSES = 1024
    with pytest.raises(targets.ScanRefused, match=r"refused by the size limit: 65536 addresses, more than "
                                                  r"DISCOVERY_MAX_ADDRESSES \(1024\)"):
        targets.check_scan(targets.parse("10.2.0.0/16"))
    rule = DiscoveryRule(name="too big", targets="10.2.0.0/16")
    with pytest.raises(ValidationError, match="refused by the size limit"):
        rule.full_clean()


def test_a_bad_allow_list_or_classifier_file_fails_the_startup_check(settings, tmp_path):
    from discovery.checks import discovery_settings

    settings.DISCOVERY_ALLOWED_NETWORKS = "10.0.0.0/8, 10.0.0.0/33"
    broken = tmp_path / "rules.yaml"
    broken.write_text("rules:\n  - name: mine\n    sys_object_id: '1.3.6.1.4.1.x'\n    device_type: switch\n")
    settings.DISCOVERY_CLASSIFIER_FILE = str(broken)
    messages = [error.msg for error in discovery_settings(None)]
    assert messages[0].startswith("DISCOVERY_ALLOWED_NETWORKS: '10.0.0.0/33' is not a network")
    assert messages[1].startswith("DISCOVERY_CLASSIFIER_FILE: rules.yaml, rule 1: rule 'mine': sys_object_id")

"""Discovery in the configuration document (wardsite/config_io.py): the networks scans may touch and the rules,
with the credentials they try in order and their schedule. Runs, results and identities are what scans found."""
from __future__ import annotations

from discovery import schedules
from discovery.models import AllowedNetwork, DiscoveryRule, RuleCredential
from snmp.models import SNMPCredential
from wardsite.config_io import Extra, Section, register
from wardsite.text import quote


def _credentials(rule: DiscoveryRule) -> list[str]:
    """The names of the credentials the rule tries, in order."""
    return [link.credential.name for link in rule.rule_credentials.select_related("credential")]


def _set_credentials(rule: DiscoveryRule, names: object) -> None:
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise ValueError(f"expected a list of SNMP credential names, not {quote(names)}")
    found = SNMPCredential.objects.in_bulk(names, field_name="name")
    missing = [name for name in names if name not in found]
    if missing:
        raise LookupError(f"no SNMP credential {quote(missing[0])}")
    rule.rule_credentials.all().delete()
    RuleCredential.objects.bulk_create(RuleCredential(rule=rule, credential=found[name], position=position)
                                       for position, name in enumerate(dict.fromkeys(names)))


def _set_schedule(rule: DiscoveryRule, cron: object) -> None:
    """daily, weekly, a cron expression, or '' for none; ValueError otherwise."""
    if cron is not None and not isinstance(cron, str):
        raise ValueError(f"expected daily, weekly, a cron expression or '', not {quote(cron)}")
    schedules.set_schedule(rule, cron or "")


register(
    Section("allowed_networks", AllowedNetwork, key=("network",)),  # before the rules: their targets are checked
    Section("discovery_rules", DiscoveryRule, extras=(
        Extra("credentials", _credentials, _set_credentials, refers_to=(SNMPCredential,)),
        Extra("schedule", schedules.current_cron, _set_schedule),
    )),
)

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from devices.models import Device

pytestmark = pytest.mark.django_db


def test_it_pings_a_device_by_name_and_an_address(capsys):
    Device.objects.create(name="core-r1", address="127.0.0.2")
    call_command("ping", "core-r1", "127.0.0.3", "--count", "2")
    out = capsys.readouterr().out
    assert "core-r1 (127.0.0.2): 2/2 received, loss 0%" in out
    assert "127.0.0.3: 2/2 received" in out


def test_it_exits_1_when_a_target_is_unreachable(netns, capsys):
    with pytest.raises(SystemExit) as exit_:
        call_command("ping", netns.silent[0], "-c", "1", "-t", "0.3")
    assert exit_.value.code == 1
    assert "unreachable, 1 sent, 100% loss" in capsys.readouterr().out


def test_it_refuses_an_unknown_target():
    with pytest.raises(CommandError, match="'no such thing' is neither a device name nor an address"):
        call_command("ping", "no such thing")


def test_it_refuses_a_bad_count():
    with pytest.raises(CommandError, match="--count must be >= 1"):
        call_command("ping", "127.0.0.2", "--count", "0")


def test_it_prints_rtt_to_the_hundredth_of_a_millisecond(capsys):
    call_command("ping", "127.0.0.2", "--count", "2")
    out = capsys.readouterr().out
    times = re.search(r"rtt min/avg/max (\S+)/(\S+)/(\S+) ms, jitter (\S+) ms", out).groups()
    assert all(re.fullmatch(r"\d+(\.\d{1,2})?", value) for value in times), out

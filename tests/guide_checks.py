"""What the blocks of the guides (docs/user-guide.md, docs/developer-guide.md, docs/api.md's common tasks) must
print when tests/test_first_hour.py runs them; keyed like its CHECKS (file, a text only that block holds)."""
from __future__ import annotations

import re
from collections.abc import Callable

from tests.doc_blocks import json_documents as _json


def _lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line and not line.startswith("@@")]


# --- docs/api.md --------------------------------------------------------------------------------------------------

def _devices_listed_up(out: str) -> None:
    assert "127.0.0.2 127.0.0.2 up" in _lines(out), out  # the admin's device, up for a while now


def _devices_added(out: str) -> None:
    group, device = _json(out)
    assert group["name"] == "api-lab" and (device["name"], device["group"]) == ("api-sw1", "api-lab"), out


def _device_added_from_python(out: str) -> None:
    assert re.search(r"^added api-gone with id \d+$", out, re.M), out


def _history_and_graphs(out: str) -> None:
    summary = _json(out)[0]
    assert summary["device"] == "127.0.0.2" and summary["availability"] == 100 and summary["rtt_points"] > 0, out
    graphs = [line for line in _lines(out) if re.fullmatch(r"\S+: .+ \(.*\), \d+ series", line)]
    assert graphs and graphs[0].startswith("rtt: Round-trip time (ms)"), out


def _history_from_python(out: str) -> None:
    assert re.search(r"^127\.0\.0\.2: availability 100(\.0)?, RTT max [\d.]+ ms over \d+ cycles$", out, re.M), out


def _alerts_listed(out: str) -> None:
    assert all(re.fullmatch(r"\d+ \w+ .+ \w+", line) for line in _lines(out)), out


def _alert_acknowledged(out: str) -> None:
    assert re.search(r"^alert \d+ \(Device down\) acknowledged by admin$", out, re.M), out


def _availability_csv(out: str) -> None:
    rows = {line.split()[0]: line.split()[1:] for line in _lines(out)}
    assert set(rows) == {"api-sw1", "api-gone"}, out  # the devices of the group asked for


def _schema(out: str) -> None:
    lines = _lines(out)
    assert re.fullmatch(r".+ \S+: \d+ paths", lines[0]) and int(lines[0].split()[-2]) > 40, out
    assert lines[-1] == "204", out  # the device deleted


def _schema_from_python(out: str) -> None:
    version, _, parameters = _lines(out)[0].partition(" ")
    assert version.startswith("3.") and {"'state'", "'group'", "'search'"} <= set(parameters.strip("[]").split(", ")), out


# --- docs/user-guide.md -------------------------------------------------------------------------------------------

def _no_profile_yet(out: str) -> None:
    assert _json(out)[0]["results"] == [], out  # standalone by default


def _devices_and_credentials(out: str) -> None:
    group, tag, credential, device, listing = _json(out)
    assert (group["name"], tag["name"]) == ("guide-site", "core"), out
    assert credential["has_auth_key"] and credential["has_priv_key"] and "auth_key" not in credential, out
    assert (device["group"], device["tags"], device["parent"]) == ("guide-site", ["core"], "r1"), out
    assert [d["name"] for d in listing["results"]] == ["guide-r2"], out


def _template_applied(out: str) -> None:
    items = [line for line in _lines(out) if re.fullmatch(r".+: \w+ every \d+ s", line)]
    assert items, out


def _rules_and_channels(out: str) -> None:
    channel, rule, device_down = _json(out)
    assert channel["name"] == "noc-slack" and "url" in channel["stored_secrets"], out
    assert rule["groups"] == ["guide-site"] and rule["channels"] == ["noc-slack"], out
    assert device_down["name"] == "Device down" and device_down["channels"] == ["noc-slack"], out


def _maintenance(out: str) -> None:
    recurring, one_off = _json(out)
    assert (recurring["recurrence"], recurring["duration_minutes"]) == ("0 2 * * 0", 120), out
    assert one_off["devices"] == ["guide-r2"], out


def _discovery(out: str) -> None:
    run = next(doc for doc in _json(out) if "duration_seconds" in doc)
    assert run["state"] == "finished" and run["alive"] == 3, out
    assert any(line.startswith("127.0.0.1 ") and line.endswith(" localhost") for line in _lines(out)), out


def _hybrid_and_zabbix(out: str) -> None:
    profile, answer = _json(out)
    assert profile["mode"] == "hybrid" and profile["is_active"], out
    assert answer["kind"] == "unreachable", out  # nobody's Zabbix, and no network at all here


# --- docs/developer-guide.md --------------------------------------------------------------------------------------

def _checks_pass(out: str) -> None:
    assert re.search(r"^\d+ passed", out, re.M) and "failed" not in out, out


def _template_tried(out: str) -> None:
    assert "(version 1)" in out and re.search(r"load_average_1m_hundredths.*\d", out), out


def _oids_resolved(out: str) -> None:
    assert _lines(out) == ["1.3.6.1.2.1.1.3.0", "1.3.6.1.2.1.31.1.1.1.6", "1.3.6.1.2.1.31.1.1.1.6.3"], out


GUIDE_CHECKS: dict[tuple[str, str], Callable[[str], None]] = {
    ("docs/api.md", '"\\(.name) \\(.address) \\(.state)"'): _devices_listed_up,
    ("docs/api.md", "follow `next`"): _devices_listed_up,
    ("docs/api.md", '"name": "api-sw1"'): _devices_added,
    ("docs/api.md", '"address": "192.0.2.1"'): _device_added_from_python,
    ("docs/api.md", "ping_rtt_ms | length"): _history_and_graphs,
    ("docs/api.md", "RTT max"): _history_from_python,
    ("docs/api.md", "/monitoring/alerts/active \\"): _alerts_listed,
    ("docs/api.md", "lab box, switched off"): _alert_acknowledged,
    ("docs/api.md", "csv.DictReader"): _availability_csv,
    ("docs/api.md", "wardflux-openapi.json"): _schema,
    ("docs/api.md", 'schema["paths"]'): _schema_from_python,
    ("docs/user-guide.md", "create_api_token admin --expires 1d"): _no_profile_yet,
    ("docs/user-guide.md", "guide-v3"): _devices_and_credentials,
    ("docs/user-guide.md", 'select(.key == "linux")'): _template_applied,
    ("docs/user-guide.md", "noc-slack"): _rules_and_channels,
    ("docs/user-guide.md", "guide-site upgrades"): _maintenance,
    ("docs/user-guide.md", "guide-loopback"): _discovery,
    ("docs/user-guide.md", '"mode": "hybrid"'): _hybrid_and_zabbix,
    ("docs/developer-guide.md", "tests/test_layers.py snmp/tests/test_oids.py"): _checks_pass,
    ("docs/developer-guide.md", "lab-load.yaml <<"): _template_tried,
    ("docs/developer-guide.md", 'resolve("sysUpTime")'): _oids_resolved,
}

"""Moving off Zabbix against a real Zabbix 6.0 (tests/zabbix_server.py) and a real snmpd answering on one loopback
address per host: SNMP credentials from macros on the host, on a template's parent and global, a v3 host, a secret
macro, an agent-only host; the devices then poll for real; dry runs and second runs change nothing."""
from __future__ import annotations

import io
import re
import shlex
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from devices.choices import DeviceSource, MonitoringMode
from devices.models import Device, DeviceGroup, MonitoringProfile
from icmp import services as icmp_services
from snmp import services as snmp_services
from snmp.models import SNMPCredential, SNMPStatus
from templates_app.models import TemplateAssignment
from tests.services import free_port
from tests.snmp_agents import SnmpdAgent, _running, _snmpd_binary, free_udp_port
from zabbix_bridge.client import Host, Interface, Macro, SnmpDetails, TemplateMacros
from zabbix_bridge.migration.credentials import access_of
from zabbix_bridge.migration.snmp_access import snmp_settings
from zabbix_bridge.models import ZabbixServer
from zabbix_bridge.services import sync_server

pytestmark = pytest.mark.django_db

COMMUNITY = "wf-migr-c0mmunity"  # what the agent answers to: not Zabbix's default global "public"
ADDRESSES = {"on_host": "127.0.3.1", "on_template": "127.0.3.2", "global": "127.0.3.3", "v3": "127.0.3.4",
             "secret": "127.0.3.5", "agent": "127.0.3.6"}
SNMP_HOSTS = ("on_host", "on_template", "global", "v3")


class MultiAddressSnmpd(SnmpdAgent):
    """The test snmpd answering on several loopback addresses too (one device per address: one per host)."""

    community = COMMUNITY

    def __init__(self, directory, port: int, aliases: tuple[str, ...]) -> None:
        super().__init__(_snmpd_binary(), directory, port)
        self.aliases = aliases

    def _config(self) -> str:
        addresses = ",".join(f"udp:{host}:{self.port}" for host in (self.host, *self.aliases))
        return super()._config().replace(f"agentAddress udp:{self.address}", f"agentAddress {addresses}")


@pytest.fixture(scope="module")
def agent(tmp_path_factory):
    yield from _running(MultiAddressSnmpd(tmp_path_factory.mktemp("snmpd-migr"), free_udp_port(),
                                          tuple(ADDRESSES.values())))


@pytest.fixture(scope="module")
def lab(zabbix, agent):
    """Six hosts in two groups of their own, templates and a global macro, named with a prefix of their own. Left in
    Zabbix: the session's database is a fresh clone and no other test reads these groups (deleting them through the
    API took 40-50 s)."""
    return _make_lab(zabbix, agent, f"wf-migr-{uuid.uuid4().hex[:6]}-")


def _make_lab(zabbix, agent, prefix: str) -> dict:
    groups = {name: zabbix.group(f"{prefix}{name}") for name in ("routers", "servers", "templates")}
    def template(name: str, name_first: bool = False, **params) -> str:
        full = name.format(prefix.rstrip("-")) if name_first else f"{prefix}{name}"
        return zabbix.call("template.create", {"host": full, "groups": [
            {"groupid": groups["templates"]}], **params})["templateids"][0]

    def linked(*ids: str) -> list[dict]:
        return [{"templateid": i} for i in ids]

    # Linking Zabbix's own templates takes over a minute each under php -S: empty ones named as the map knows them
    linux = template("Linux {} by SNMP", name_first=True)  # "Linux * by SNMP" -> linux
    agent_only = template("Linux by Zabbix agent")
    parent = template("parent", macros=[{"macro": "{$SNMP_COMMUNITY}", "value": COMMUNITY}])
    switches = template("switches by SNMP", templates=linked(parent))  # no counterpart: auto-selection
    wrong = template("wrong", macros=[{"macro": "{$SNMP_COMMUNITY}", "value": "not-this-one"}])
    global_macro = "{$WF_MIGR_" + prefix.split("-")[2].upper() + "}"
    zabbix.call("usermacro.createglobal", {"macro": global_macro, "value": COMMUNITY})
    user = agent.user("SHA", "AES")
    hosts = {
        "on_host": dict(groupids=(groups["routers"], groups["servers"]), macros={"{$SNMP_COMMUNITY}": COMMUNITY},
                        templates=linked(linux, wrong), tags=[{"tag": "role", "value": "core"}],
                        inventory_mode=0, inventory={"vendor": "net-snmp", "location": "lab rack 1"}),
        "on_template": dict(groupids=(groups["routers"],), templates=linked(switches)),
        "global": dict(groupids=(groups["servers"],), snmp={"community": global_macro}),
        "v3": dict(groupids=(groups["servers"],), port="{$SNMP_PORT}", snmp={
            "version": 3, "securityname": "{$V3_USER}", "securitylevel": 2, "authprotocol": 1,
            "authpassphrase": "{$V3_AUTH}", "privprotocol": 1, "privpassphrase": "{$V3_PRIV}"},
            macros={"{$SNMP_PORT}": str(agent.port), "{$V3_USER}": user.name, "{$V3_AUTH}": user.auth_key,
                    "{$V3_PRIV}": user.priv_key}),
        "secret": dict(groupids=(groups["servers"],)),
        "agent": dict(groupids=(groups["servers"],), interface="agent",
                      templates=linked(agent_only)),
    }
    made_hosts = {}
    for key, params in hosts.items():
        params.setdefault("interface", "snmp")
        params.setdefault("port", agent.port)
        made_hosts[key] = zabbix.host(f"{prefix}{key}", ip=ADDRESSES[key], **params)
    zabbix.call("usermacro.create", {"hostid": made_hosts["secret"].hostid, "macro": "{$SNMP_COMMUNITY}",
                                     "value": COMMUNITY, "type": 1})
    return {"prefix": prefix, "groups": [f"{prefix}routers", f"{prefix}servers"], "hosts": made_hosts,
            "v3_user": user}


@pytest.fixture
def server(lab, zabbix) -> ZabbixServer:
    return ZabbixServer.objects.create(name="zbx-lab", url=zabbix.url, api_token=zabbix.api_token,
                                       host_groups=lab["groups"])


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("zabbix_import", *args, stdout=out)
    return out.getvalue()


def device(lab, key: str) -> Device:
    return Device.objects.select_related("snmp_credential", "group").get(address=ADDRESSES[key])


def picture() -> list:
    """What an import may change: devices, credentials (decrypted), groups, tags and template assignments."""
    devices = [(d.name, d.address, d.source, d.icmp_enabled, d.snmp_enabled, d.snmp_port, d.group_id, d.vendor,
                d.snmp_credential_id, sorted(t.name for t in d.tags.all()))
               for d in Device.objects.prefetch_related("tags").order_by("address")]
    credentials = [(c.pk, c.name, access_of(c)) for c in SNMPCredential.objects.order_by("pk")]
    assignments = list(TemplateAssignment.objects.order_by("pk").values_list("device_id", "template__key", "auto"))
    return [devices, credentials, assignments, list(DeviceGroup.objects.values_list("name", flat=True)),
            list(MonitoringProfile.objects.values_list("name", "mode", "is_active"))]


def test_a_dry_run_says_what_it_would_do_and_changes_nothing(lab, server):
    before = picture()
    out = run("--server", "zbx-lab", "--dry-run", "--activate-standalone")

    assert picture() == before
    prefix = lab["prefix"]
    for key in ADDRESSES:
        assert f"would create  {prefix}{key} ({ADDRESSES[key]}): ICMP on" in out
    assert "would create  'zbx-lab v2c #1' (SNMPv2c): 3 hosts" in out
    assert f"would create  'zbx-lab v3 #1' (SNMPv3 user '{lab['v3_user'].name}' (SHA/AES)): 1 host" in out
    assert "{$SNMP_COMMUNITY} from the host" in out and "{$SNMP_COMMUNITY} from template" in out
    assert f"{prefix}secret: {{$SNMP_COMMUNITY}} is a secret macro" in out
    assert f"{prefix}agent: {prefix}Linux by Zabbix agent (collected by Zabbix agent" in out
    assert f"templates Linux {prefix.rstrip('-')} by SNMP → linux" in out
    assert f"template: auto-selection by sysObjectID after the first poll (for {prefix}switches by SNMP)" in out
    assert "would set monitoring profile 'default' to standalone" in out
    assert out.rstrip().endswith("Dry run: nothing was changed.")


def test_the_import_makes_devices_our_engines_poll_with_the_credentials_from_the_macros(
        lab, server, agent, victoria_url, snmp_counter_state):
    MonitoringProfile.objects.create(name="zabbix only", mode=MonitoringMode.ZABBIX)
    out = run("--server", "zbx-lab", "--activate-standalone")

    assert "created       'zbx-lab v2c #1' (SNMPv2c): 3 hosts" in out
    assert MonitoringProfile.objects.get(is_active=True).mode == MonitoringMode.STANDALONE
    assert Device.objects.count() == len(ADDRESSES) and not Device.objects.exclude(source=DeviceSource.LOCAL)
    core = device(lab, "on_host")
    assert (core.name, core.group.name, core.vendor, core.location) == (
        f"{lab['prefix']}on_host", lab["groups"][0], "net-snmp", "lab rack 1")
    assert set(core.tags.values_list("name", flat=True)) == {"role:core"}
    assert set(DeviceGroup.objects.values_list("name", flat=True)) >= set(lab["groups"])
    v2c = SNMPCredential.objects.get(name="zbx-lab v2c #1")
    assert (v2c.version, v2c.community) == ("v2c", COMMUNITY)  # one credential for the three v2c hosts
    v3 = SNMPCredential.objects.get(name="zbx-lab v3 #1")
    user = lab["v3_user"]
    assert (v3.security_name, v3.auth_protocol, v3.auth_key, v3.priv_protocol, v3.priv_key) == (
        user.name, "SHA", user.auth_key, "AES", user.priv_key)
    assert SNMPCredential.objects.count() == 2
    for key in ("secret", "agent"):
        assert (device(lab, key).snmp_enabled, device(lab, key).snmp_credential) == (False, None)
    assert Device.objects.filter(icmp_enabled=True).count() == len(ADDRESSES)

    templates = {a.device.address: (a.template.key, a.auto) for a in TemplateAssignment.objects.select_related(
        "device", "template")}
    assert templates == {ADDRESSES["on_host"]: ("linux", False), **{ADDRESSES[key]: ("linux", True) for key in
                                                                     ("on_template", "global", "v3")}}
    for key in SNMP_HOSTS:  # our SNMP engine polls them, with the community (or v3 user) the macros gave
        found = device(lab, key)
        assert (found.snmp_credential, found.snmp_port) == ((v3 if key == "v3" else v2c), agent.port)
        result = snmp_services.poll_device(found)
        assert result.error == "" and result.uptime_seconds, (key, result)
        status = SNMPStatus.objects.get(device=found)
        assert (status.reachable, status.sys_name) == (True, SnmpdAgent.sys_name)
    claimed = {pk for _, ids in icmp_services.due_batches() for pk in ids}  # and our ICMP engine pings them all
    assert claimed == set(Device.objects.values_list("pk", flat=True))


def test_a_second_import_changes_nothing(lab, server, victoria_url, snmp_counter_state):
    run("--server", "zbx-lab")
    before = picture()
    out = run("--server", "zbx-lab")

    assert picture() == before
    host_lines = [line for line in out.splitlines() if line.startswith(f"  unchanged     {lab['prefix']}")]
    assert len(host_lines) == len(ADDRESSES), out
    assert "unchanged     'zbx-lab v2c #1' (SNMPv2c): 3 hosts" in out and "created" not in out


def test_the_bridges_devices_are_converted_and_ours_reused_never_duplicated(lab, server, victoria_url,
                                                                            snmp_counter_state):
    MonitoringProfile.objects.create(name="default", mode=MonitoringMode.HYBRID)
    ours = Device.objects.create(name="our switch", address=ADDRESSES["on_template"], icmp_enabled=False)
    sync_server(server.pk)
    bridge = dict(Device.objects.values_list("address", "pk"))
    assert len(bridge) == len(ADDRESSES)

    out = run("--group", lab["groups"][0], "--group", lab["groups"][1])

    assert dict(Device.objects.values_list("address", "pk")) == bridge
    assert set(Device.objects.values_list("source", flat=True)) == {DeviceSource.BOTH}
    assert Device.objects.filter(icmp_enabled=True).count() == len(ADDRESSES)
    ours.refresh_from_db()
    assert ours.name == "our switch" and ours.snmp_credential.name == "zbx-lab v2c #1"
    assert f"converted     {lab['prefix']}on_host" in out and "source zabbix → both" in out
    assert f"converted     {lab['prefix']}on_template as 'our switch' ({ADDRESSES['on_template']}): ICMP on" in out


def test_our_device_at_a_hosts_address_is_reused_and_keeps_its_credential(lab, server, victoria_url,
                                                                           snmp_counter_state):
    own = SNMPCredential.objects.create(name="ours", version="v2c", community="our-own-community")
    ours = Device.objects.create(name="our switch", address=ADDRESSES["on_template"], snmp_enabled=True,
                                 snmp_credential=own, icmp_enabled=False)

    out = run()

    assert Device.objects.count() == len(ADDRESSES) and Device.objects.filter(address=ours.address).count() == 1
    ours.refresh_from_db()
    assert (ours.name, ours.source, ours.snmp_credential, ours.icmp_enabled) == ("our switch", DeviceSource.LOCAL,
                                                                                 own, True)
    assert (f"updated       {lab['prefix']}on_template as 'our switch' ({ADDRESSES['on_template']}): ICMP on; "
            f"group '{lab['groups'][0]}'") in out and "keeps its own SNMP credential 'ours'" in out
    assert "'zbx-lab v2c #1' (SNMPv2c): 2 hosts" in out


def test_bad_inputs_say_what_is_wrong_with_an_exit_status(lab, server):
    for args, status, message in (
            (["--server", "nope"], 2, "no Zabbix server named 'nope' (known: zbx-lab)"),
            (["--group", "no such group"], 2, "no host group named 'no such group' on zbx-lab")):
        with pytest.raises(CommandError) as failed:
            run(*args)
        assert (failed.value.returncode, str(failed.value)) == (status, message)
    ZabbixServer.objects.create(name="gone", url=f"http://127.0.0.1:{free_port()}/api_jsonrpc.php", api_token="x")
    with pytest.raises(CommandError) as failed:
        run("--server", "gone")
    assert failed.value.returncode == 1 and "nothing was imported: cannot reach" in str(failed.value)
    assert not Device.objects.exists()


def test_the_api_plans_by_default_and_names_a_bad_field(lab, server, api):
    answer = api.post("/api/v1/zabbix/import", {"server": "zbx-lab"}, format="json")

    assert answer.status_code == 200, answer.content
    plan = answer.json()
    assert plan["dry_run"] is True and plan["counts"]["create"] == len(ADDRESSES)
    assert plan["needs_credential"] == [{"host": f"{lab['prefix']}secret", "reason": "{$SNMP_COMMUNITY} is a "
                                         "secret macro: its value cannot be read through the API"}]
    assert not Device.objects.exists() and not SNMPCredential.objects.exists()
    for body, field in (({"server": "nope"}, "server"), ({"groups": ["nope"]}, "groups"),
                        ({"dry_run": "perhaps"}, "dry_run")):
        answer = api.post("/api/v1/zabbix/import", body, format="json")
        assert answer.status_code == 400 and list(answer.json()) == [field], answer.content


def test_the_admin_action_shows_the_dry_run_then_imports(lab, server, admin_client, victoria_url,
                                                         snmp_counter_state):
    url = "/admin/zabbix_bridge/zabbixserver/"
    page = admin_client.post(url, {"action": "import_hosts", "_selected_action": [server.pk]})

    assert page.status_code == 200 and b"would create" in page.content and not Device.objects.exists()
    done = admin_client.post(url, {"action": "import_hosts", "_selected_action": [server.pk], "confirm": "yes"})
    assert done.status_code == 200 and b"Imported." in done.content
    assert Device.objects.count() == len(ADDRESSES)


def test_macros_resolve_host_then_templates_then_global_and_v3_codes_map():
    def macro(name: str, value: str, kind: int = 0) -> Macro:
        return Macro(name, value, kind)

    details = SnmpDetails(version=3, securityname="{$U:\"core\"}", securitylevel=2, authprotocol=5,
                          authpassphrase="{$A}", privprotocol=5, privpassphrase="{$P}")
    host = Host("1", "h", "h", True, False, (), (Interface("1", "snmp", True, "10.0.0.1", "161", None, "",
                                                           details),), {}, {}, (), ("10",), "", ())
    templates = {"10": TemplateMacros("10", "child", ("11",), (macro("{$A}", "auth-from-child"),)),
                 "11": TemplateMacros("11", "parent", (), (macro("{$P}", "priv-from-parent"),))}
    settings = snmp_settings(host, templates, [macro("{$U}", "global-user"), macro("{$P}", "not-this")])
    assert settings.problem == "" and settings.access.describe() == "SNMPv3 user 'global-user' (SHA-512/AES-256-C)"
    assert (settings.access.auth_key, settings.access.priv_key) == ("auth-from-child", "priv-from-parent")

    vault = snmp_settings(host, templates, [macro("{$U}", "secret/path:user", 2)])
    assert vault.access is None and vault.problem.endswith("is a vault macro: its value cannot be read through "
                                                           "the API")
    sha3 = SnmpDetails(3, securityname="u", securitylevel=1, authprotocol=9, authpassphrase="12345678")
    unknown = replace(host, interfaces=(Interface("1", "snmp", True, "10.0.0.1", "161", None, "", sha3),))
    assert snmp_settings(unknown, {}, []).problem == "SNMPv3 authentication protocol code 9 has no counterpart here"


def test_the_user_guides_import_commands_as_written(lab, zabbix, victoria_url, snmp_counter_state):
    """docs/user-guide.md's way off Zabbix, command by command as printed there (its own test has no Zabbix)."""
    guide = (Path(__file__).resolve().parents[2] / "docs" / "user-guide.md").read_text()
    block = next(text for text in re.findall(r"^```text\n(.*?)^```", guide, re.S | re.M) if "zabbix_import" in text)
    commands = [shlex.split(line) for line in block.splitlines()]
    assert [words[:4] for words in commands] == [[".venv/bin/python", "manage.py", "zabbix_import", "--server"]] * 2
    ZabbixServer.objects.create(name=commands[0][4], url=zabbix.url, api_token=zabbix.api_token,
                                host_groups=lab["groups"])  # the guide's server, at the real Zabbix
    dry_run, real = (run(*words[3:]) for words in commands)
    assert dry_run.rstrip().endswith("Dry run: nothing was changed.") and "would create" in dry_run
    assert "created" in real and Device.objects.count() == len(ADDRESSES)
    assert MonitoringProfile.objects.get(is_active=True).mode == MonitoringMode.STANDALONE

"""ZabbixClient: logs in to one Zabbix, reads what WARD FLUX needs from it, acknowledges problems."""
from __future__ import annotations

import itertools
import logging
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from zabbix_utils import ZabbixAPI
from zabbix_utils.common import ModuleUtils

from . import records, versions
from .errors import ErrorKind, ZabbixError, translate
from .records import Group, Host, Macro, Problem, TemplateMacros

log = logging.getLogger(__name__)

TRENDS_AFTER = timedelta(days=7)  # longer ranges read hourly trends instead of raw history
NUMERIC = {"0", "3"}  # item value types: float, unsigned (the ones with trends)
HOST_FIELDS = ["hostid", "host", "name", "status", "maintenance_status", "inventory_mode"]
INTERFACE_FIELDS = ["interfaceid", "type", "main", "useip", "ip", "dns", "port", "available", "error", "details"]
ACK_FIELDS = ["userid", "clock", "message", "action", "username", "name", "surname"]
PROBLEM_FIELDS = ["eventid", "objectid", "name", "severity", "clock", "opdata", "acknowledged", "suppressed"]


class _CountingAPI(ZabbixAPI):
    """zabbix_utils' client, counting its requests and never logging in from its constructor (which would
    fill missing credentials from ZABBIX_* environment variables)."""

    def __init__(self, url: str, **kwargs: Any) -> None:
        self._counter = itertools.count(1)  # next() is atomic: reads may run in threads
        self.calls = 0
        self._constructing = True
        super().__init__(url, skip_version_check=True, **kwargs)  # reads apiinfo.version; we check it ourselves
        self._constructing = False

    def login(self, token: str | None = None, user: str | None = None, password: str | None = None) -> None:
        if not self._constructing:
            super().login(token, user, password)

    def send_api_request(self, method: str, params: Any = None, need_auth: bool = True) -> dict:
        self.calls = next(self._counter)
        return super().send_api_request(method, params, need_auth)


class ZabbixClient:
    """The product's one Zabbix API client (6.0 to 7.4); `calls` counts API requests, login included."""

    def __init__(self, url: str, *, token: str = "", username: str = "", password: str = "", verify_tls: bool = True,
                 ca_file: str = "", timeout: float = 10, chunk: int = 1000) -> None:
        if not url:
            raise ZabbixError(ErrorKind.UNREACHABLE, "no Zabbix API URL given")
        if not (token or username):
            raise ZabbixError(ErrorKind.AUTH, "no credentials: give an API token, or a username and password")
        self.url = ModuleUtils.check_url(url)
        self.token = token  # given both, the token is used (zabbix_utils refuses the two together)
        self.username, self.password = ("", "") if token else (username, password)
        self.verify_tls, self.ca_file, self.timeout, self.chunk = verify_tls, ca_file, timeout, chunk
        self.version = ""
        self._api: _CountingAPI | None = None
        self._dialect: versions.Dialect | None = None

    @property
    def calls(self) -> int:
        return self._api.calls if self._api else 0

    def __enter__(self) -> ZabbixClient:
        return self.connect()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def connect(self) -> ZabbixClient:
        """Read the version, refuse those we do not support, log in (an API token is checked at once)."""
        with self._translating("apiinfo.version"):
            self._api = _CountingAPI(self.url, validate_certs=self.verify_tls, ssl_context=self._ssl_context(),
                                     timeout=self.timeout)
        self.version = str(self._api.version)
        parsed = versions.parse(self.version)
        if parsed is None or not versions.is_supported(parsed):
            oldest, newest = (".".join(map(str, v)) for v in (versions.OLDEST, versions.NEWEST))
            raise ZabbixError(ErrorKind.UNSUPPORTED, f"Zabbix {self.version} is not supported ({oldest} to {newest})")
        self._dialect = versions.dialect(parsed[:2])
        with self._translating("user.login"):
            self._api.login(token=self.token or None, user=self.username or None, password=self.password or None)
        if self.token:  # zabbix_utils only stores a token: ask Zabbix whether it takes it
            self._call("user.checkAuthentication", {"token": self.token})
        return self

    def close(self) -> None:
        """Log out a user session (an API token stays valid); a failure here is logged, not raised."""
        if self._api is None:
            return
        try:
            with self._translating("user.logout"):
                self._api.logout()
        except ZabbixError as exc:
            log.warning("Zabbix logout failed: %s", exc)

    def host_groups(self, names: list[str] | None = None) -> list[Group]:
        """Host groups, all or those with exactly these names."""
        if names == []:
            return []
        params: dict = {"output": ["groupid", "name"], "sortfield": "name"}
        if names is not None:
            params["filter"] = {"name": names}
        return [records.group(raw) for raw in self._call("hostgroup.get", params)]

    def hosts(self, groupids: list[str] | None = None) -> list[Host]:
        """Hosts (all, or of these groups) with interfaces, groups, tags, inventory, templates, proxy and macros."""
        ids = self._hostids(groupids)
        select, key = self._dialect_().host_groups
        raws = [raw for chunk in self._chunks(ids) for raw in self._call("host.get", self._host_query(chunk))]
        self._require_key(raws, key, f"{select} in host.get")
        proxies = self._proxy_names({versions.proxy_id(raw) for raw in raws} - {"0"})
        return [records.host(raw, key, proxies.get(versions.proxy_id(raw), "")) for raw in raws]

    def template_macros(self, templateids: list[str]) -> dict[str, TemplateMacros]:
        """These templates and every template they link to, by id, with their macros."""
        found: dict[str, TemplateMacros] = {}
        asked, todo = set(), set(templateids)
        while todo:
            asked |= todo
            for chunk in self._chunks(sorted(todo, key=int)):
                for raw in self._call("template.get", {
                    "templateids": chunk, "output": ["templateid", "name"],
                    "selectParentTemplates": ["templateid", "name"], "selectMacros": ["macro", "value", "type"],
                }):
                    found[raw["templateid"]] = records.template_macros(raw)
            todo = {parent for t in found.values() for parent in t.parentids} - asked
        return found

    def global_macros(self) -> list[Macro]:
        raws = self._call("usermacro.get", {"globalmacro": True, "output": ["globalmacroid", "macro", "value", "type"]})
        return [records.macro(raw) for raw in raws]

    def problems(self, groupids: list[str] | None = None) -> list[Problem]:
        """Open trigger problems, newest first, with their hosts and acknowledgements."""
        if groupids == []:
            return []
        params: dict = {"source": 0, "object": 0, "recent": False, "output": PROBLEM_FIELDS,
                        "sortfield": ["eventid"], "sortorder": "DESC"}
        if groupids is not None:
            params["groupids"] = groupids
        rows = self._call("problem.get", params)
        acks = self._dialect_().event_acks  # problem.get has neither hosts nor the users' names
        events: list[dict] = []
        for chunk in self._chunks([row["eventid"] for row in rows]):
            events += self._call("event.get", {"eventids": chunk, "output": ["eventid"], "selectHosts": ["hostid"],
                                               acks: ACK_FIELDS})
        self._require_key(events, "acknowledges", f"{acks} in event.get")
        by_id = {event["eventid"]: event for event in events}
        return [records.problem(row, by_id.get(row["eventid"], {})) for row in rows]

    def icmp_ping(self, hostids: list[str] | None = None, *,
                  groupids: list[str] | None = None) -> dict[str, tuple[float, int]]:
        """(value, epoch seconds) of each host's latest `icmpping` (1 answered, 0 not), for these hosts, or in one
        call for the hosts of these groups (all hosts when neither is given); hosts without one left out."""
        if hostids == [] or groupids == []:
            return {}
        asked = [{"hostids": chunk} for chunk in self._chunks(hostids)] if hostids is not None else [
            {"groupids": groupids} if groupids is not None else {}]
        latest: dict[str, tuple[float, int]] = {}
        for scope in asked:
            items = self._call("item.get", {**scope, "templated": False, "filter": {"key_": "icmpping"},
                                            "output": ["itemid", "hostid", "lastvalue", "lastclock"]})
            for item in sorted(items, key=lambda item: int(item["lastclock"])):
                if item["lastclock"] != "0":
                    latest[item["hostid"]] = (float(item["lastvalue"]), int(item["lastclock"]))
        return latest

    def history(self, hostid: str, key: str, since: datetime, till: datetime) -> list[tuple[int, float | str]]:
        """(epoch seconds, value) of a host's item between two aware datetimes; hourly averages from trends when
        the range exceeds 7 days."""
        items = self._call("item.get", {"hostids": [hostid], "filter": {"key_": key},
                                        "output": ["itemid", "value_type"]})
        if not items:
            raise ZabbixError(ErrorKind.API, f"Zabbix has no item {key} on host {hostid}")
        itemid, value_type = items[0]["itemid"], items[0]["value_type"]
        span = {"itemids": [itemid], "time_from": int(since.timestamp()), "time_till": int(till.timestamp())}
        if value_type in NUMERIC and till - since > TRENDS_AFTER:
            rows = self._call("trend.get", {**span, "output": ["clock", "value_avg"]})
            return sorted((int(row["clock"]), float(row["value_avg"])) for row in rows)
        rows = self._call("history.get", {**span, "history": int(value_type), "output": ["clock", "value"],
                                          "sortfield": "clock", "sortorder": "ASC"})
        return [(int(row["clock"]), float(row["value"]) if value_type in NUMERIC else row["value"]) for row in rows]

    def acknowledge(self, eventids: list[str], message: str, *, close: bool = False) -> None:
        """Acknowledge problems with a message, closing them too if asked; Zabbix's refusal is a ZabbixError."""
        action = versions.ACKNOWLEDGE | (versions.MESSAGE if message else 0) | (versions.CLOSE if close else 0)
        if action & ~self._dialect_().ack_actions:
            raise ZabbixError(ErrorKind.UNSUPPORTED, f"Zabbix {self.version} does not take action {action}")
        for chunk in self._chunks(eventids):
            params = {"eventids": chunk, "action": action, **({"message": message} if message else {})}
            self._call("event.acknowledge", params)

    def _host_query(self, hostids: list[str]) -> dict:
        dialect = self._dialect_()
        return {
            "hostids": hostids, dialect.host_groups[0]: ["groupid", "name"],
            "output": [*HOST_FIELDS, *dialect.proxy_fields],
            "selectInterfaces": INTERFACE_FIELDS, "selectTags": ["tag", "value"], "selectInventory": "extend",
            "selectParentTemplates": ["templateid", "name"], "selectMacros": ["macro", "value", "type"],
        }

    def _proxy_names(self, proxyids: set[str]) -> dict[str, str]:
        if not proxyids:
            return {}
        field = self._dialect_().proxy_name
        raws = self._call("proxy.get", {"proxyids": sorted(proxyids), "output": ["proxyid", field]})
        return {raw["proxyid"]: raw[field] for raw in raws}

    def _hostids(self, groupids: list[str] | None) -> list[str]:
        if groupids == []:
            return []
        params: dict = {"output": ["hostid"], "sortfield": "hostid"}
        if groupids is not None:
            params["groupids"] = groupids
        return [raw["hostid"] for raw in self._call("host.get", params)]

    def _require_key(self, raws: list[dict], key: str, asked: str) -> None:
        if any(key not in raw for raw in raws):  # older versions ignore parameters they do not know
            raise ZabbixError(ErrorKind.API, f"Zabbix {self.version} ignored {asked}: no {key} in its answer")

    def _chunks(self, ids: list[str]) -> Iterator[list[str]]:
        for start in range(0, len(ids), self.chunk):
            yield ids[start:start + self.chunk]

    def _call(self, method: str, params: Any) -> Any:
        if self._api is None:
            raise RuntimeError("ZabbixClient.connect() first")
        with self._translating(method):
            return self._api.send_api_request(method, params, method not in ModuleUtils.UNAUTH_METHODS).get("result")

    def _dialect_(self) -> versions.Dialect:
        if self._dialect is None:
            raise RuntimeError("ZabbixClient.connect() first")
        return self._dialect

    def _ssl_context(self) -> ssl.SSLContext | None:
        if not self.ca_file or not self.verify_tls:
            return None
        try:
            return ssl.create_default_context(cafile=self.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise ZabbixError(ErrorKind.TLS, f"cannot use CA file {self.ca_file}: {exc}") from exc

    @contextmanager
    def _translating(self, method: str) -> Iterator[None]:
        try:
            yield
        except Exception as exc:
            who = "the API token" if self.token else f"user {self.username}"
            raise translate(exc, url=self.url, method=method, timeout=self.timeout, who=who) from exc

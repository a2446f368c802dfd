"""A stand-in Zabbix JSON-RPC API on 127.0.0.1, answering as Zabbix 6.0, 6.2, 6.4, 7.0, 7.2 or 7.4 does.

Debian 12 packages only Zabbix 6.0 (test_client_real.py runs that one for real): this stands in for the versions
that cannot be installed here. Answers are shaped as each version's API reference and "API changes" appendix say;
the objects in recorded/dataset.json and the error texts were recorded from a real 6.0.14 and read in its
frontend source (ui/include/classes/api, core/CJsonRpc.php). Where versions differ:
- Credentials: before 6.4 only `auth` in the body (an `Authorization: Bearer` header is not read, so "Not
  authorized."); 6.4 and 7.0 take either; 7.2 and later only the header, and `auth` in the body makes the request
  invalid ("unexpected parameter "auth""). `user.login` refuses the old `user` field from 6.4.
- host.get: `selectGroups` fills `groups` (7.2 refuses it); `selectHostGroups` fills `hostgroups` from 6.2 and is
  silently ignored by 6.0; `proxy_hostid` until 6.4, then `proxyid`, `monitored_by`, `assigned_proxyid`, with
  output fields checked (an unknown one is an error) from 7.0.
- proxy.get: the name is `host` until 6.4, `name` from 7.0.
- event.get: `select_acknowledges` (removed in 7.2: refused) gives the users' names; `selectAcknowledges` exists
  from 7.0 and is ignored before.
- event.acknowledge: action bits 1-16 in 6.0, + 32/64 (suppress) from 6.2, + 128/256 (rank) from 6.4.
Knobs for failures: `delay` (seconds before each answer), `answer_only` (answer that many requests, then close
connections without answering: Zabbix going away mid-sequence), `garbage` (HTTP 200 with an HTML page), TLS with
`self_signed()`. `received` holds every request: method, params, body `auth`, `Authorization` header.
"""
from __future__ import annotations

import copy
import datetime
import ipaddress
import json
import ssl
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

DATASET = json.loads((Path(__file__).parent / "recorded" / "dataset.json").read_text())
TOKEN = next(iter(DATASET["tokens"]))
ACTION_BITS = {(6, 0): 31, (6, 2): 127, (6, 4): 511}  # event.acknowledge, from that version on
HOST_FIELDS = ["hostid", "host", "name", "status", "maintenance_status", "inventory_mode"]
UNAUTHENTICATED = {"apiinfo.version", "user.login", "user.checkAuthentication"}


class ApiError(Exception):
    """A JSON-RPC error answer, as CJsonRpc builds it."""

    MESSAGES = {-32600: "Invalid request.", -32601: "Method not found.", -32602: "Invalid params.",
                -32500: "Application error."}

    def __init__(self, code: int, data: str) -> None:
        super().__init__(data)
        self.error = {"code": code, "message": self.MESSAGES[code], "data": data}


@dataclass
class Received:
    method: str
    params: Any
    body_auth: str | None
    bearer: str | None


class StandIn:
    """One stand-in Zabbix of `version`; `with StandIn("7.0.5") as zabbix:` serves it at `zabbix.url`."""

    def __init__(self, version: str, *, tls: tuple[Path, Path] | None = None) -> None:
        self.version_text, self.version = version, tuple(int(part) for part in version.split(".")[:2])
        self.data = copy.deepcopy(DATASET)
        self.sessions: dict[str, str] = {}  # session id -> userid
        self.received: list[Received] = []
        self.delay, self.answer_only, self.garbage = 0.0, None, False
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.standin = self
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self._server.server_address[1]}/api_jsonrpc.php"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> StandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def methods(self) -> list[str]:
        return [r.method for r in self.received]

    def add_hosts(self, count: int, groupid: str = "22") -> None:
        """`count` more plain agent hosts, for paging."""
        for n in range(count):
            hostid = str(20000 + n)
            self.data["hosts"].append({
                "hostid": hostid, "host": f"gen-{n:05}", "name": f"gen-{n:05}", "status": "0",
                "maintenance_status": "0", "proxyid": "0", "groupids": [groupid], "templateids": [], "tags": [],
                "inventory_mode": "-1", "inventory": [], "macros": [],
                "interfaces": [{"interfaceid": str(90000 + n), "type": "1", "main": "1", "useip": "1", "ip": "10.9.0.1",
                                "dns": "", "port": "10050", "available": "1", "error": "", "details": []}]})

    # --- JSON-RPC ---------------------------------------------------------------------------------------------

    def answer(self, body: dict, bearer: str | None) -> dict:
        self.received.append(Received(body.get("method", ""), body.get("params"), body.get("auth"), bearer))
        try:
            return {"jsonrpc": "2.0", "result": self._dispatch(body, bearer), "id": body.get("id")}
        except ApiError as exc:
            return {"jsonrpc": "2.0", "error": exc.error, "id": body.get("id")}

    def _dispatch(self, body: dict, bearer: str | None) -> Any:
        method, params = body["method"], body.get("params") or {}
        if self.version >= (7, 2) and "auth" in body:
            raise ApiError(-32600, 'Invalid parameter "/": unexpected parameter "auth".')
        handler = getattr(self, "_" + method.replace(".", "_").lower(), None)
        if handler is None:
            raise ApiError(-32601, f'Incorrect API "{method.split(".")[0]}".')
        if method in UNAUTHENTICATED:
            if body.get("auth") is not None:
                raise ApiError(-32602, f'The "{method}" method must be called without the "auth" parameter.')
            return handler(params)
        self.userid = self._authenticate(bearer if self.version >= (6, 4) and bearer else body.get("auth"))
        return handler(params)

    def _authenticate(self, credential: str | None) -> str:
        if not credential:
            raise ApiError(-32602, "Not authorized.")
        if len(credential) == 64:
            if credential not in self.data["tokens"]:
                raise ApiError(-32602, "Not authorized.")
            return self.data["tokens"][credential]
        if credential not in self.sessions:
            raise ApiError(-32602, "Session terminated, re-login, please.")
        return self.sessions[credential]

    # --- methods --------------------------------------------------------------------------------------------------

    def _apiinfo_version(self, params: dict) -> str:
        return self.version_text

    def _user_login(self, params: dict) -> str:
        if "user" in params and self.version >= (6, 4):
            raise ApiError(-32602, 'Invalid parameter "/": unexpected parameter "user".')
        name = params.get("username", params.get("user"))
        user = next((u for u in self.data["users"] if u["username"] == name), None)
        if user is None or user["password"] != params.get("password"):
            raise ApiError(-32500, "Incorrect user name or password or account is temporarily blocked.")
        session = uuid.uuid4().hex
        self.sessions[session] = user["userid"]
        return session

    def _user_logout(self, params: dict) -> bool:
        self.sessions = {k: v for k, v in self.sessions.items() if v != self.userid}
        return True

    def _user_checkauthentication(self, params: dict) -> dict:
        userid = self._authenticate(params.get("token") or params.get("sessionid"))
        user = self._user(userid)
        return {key: user[key] for key in ("userid", "username", "name", "surname")}

    def _hostgroup_get(self, params: dict) -> list[dict]:
        names = (params.get("filter") or {}).get("name")
        groups = [g for g in self.data["hostgroups"] if names is None or g["name"] in names]
        return [_pick(g, params.get("output")) for g in groups]

    def _host_get(self, params: dict) -> list[dict]:
        if "selectGroups" in params and self.version >= (7, 2):
            raise ApiError(-32602, 'Invalid parameter "/": unexpected parameter "selectGroups".')
        fields = HOST_FIELDS + (["proxyid", "monitored_by", "assigned_proxyid", "proxy_groupid"]
                                if self.version >= (7, 0) else ["proxy_hostid"])
        output = params.get("output", "extend")
        if self.version >= (7, 0) and isinstance(output, list):
            for n, field in enumerate(output, 1):
                if field not in fields:
                    allowed = ", ".join(f'"{f}"' for f in fields)
                    raise ApiError(-32602, f'Invalid parameter "/output/{n}": value must be one of {allowed}.')
        hosts = [h for h in self.data["hosts"] if _wanted(h["hostid"], params.get("hostids"))
                 and (params.get("groupids") is None or set(h["groupids"]) & set(params["groupids"]))]
        return [self._host(h, params, fields) for h in hosts]

    def _host(self, host: dict, params: dict, fields: list[str]) -> dict:
        row = {"proxy_hostid": host["assigned_proxyid"] if host.get("proxy_groupid") else host["proxyid"],
               "proxyid": host["proxyid"], "proxy_groupid": host.get("proxy_groupid", "0"),
               "assigned_proxyid": host.get("assigned_proxyid", "0"),
               "monitored_by": "2" if host.get("proxy_groupid") else "1" if host["proxyid"] != "0" else "0",
               **{f: host[f] for f in HOST_FIELDS}}
        out = _pick({f: row[f] for f in fields}, params.get("output"))
        groups = [g for g in self.data["hostgroups"] if g["groupid"] in host["groupids"]]
        templates = [t for t in self.data["templates"] if t["templateid"] in host["templateids"]]
        selects = {"selectGroups": ("groups", groups), "selectInterfaces": ("interfaces", host["interfaces"]),
                   "selectTags": ("tags", host["tags"]), "selectParentTemplates": ("parentTemplates", templates),
                   "selectMacros": ("macros", [_secret(m) for m in host["macros"]])}
        if self.version >= (6, 2):  # 6.0 does not know the parameter and says nothing
            selects["selectHostGroups"] = ("hostgroups", groups)
        for param, (key, rows) in selects.items():
            if param in params:
                out[key] = [_pick(r, params[param]) for r in rows]
        if "selectInventory" in params:
            out["inventory"] = _pick(host["inventory"], params["selectInventory"]) if host["inventory"] else []
        return out

    def _proxy_get(self, params: dict) -> list[dict]:
        name = "name" if self.version >= (7, 0) else "host"
        proxies = [{"proxyid": p["proxyid"], name: p["name"]} for p in self.data["proxies"]
                   if _wanted(p["proxyid"], params.get("proxyids"))]
        return [_pick(p, params.get("output")) for p in proxies]

    def _template_get(self, params: dict) -> list[dict]:
        found = []
        for t in self.data["templates"]:
            if _wanted(t["templateid"], params.get("templateids")):
                out = _pick(t, params.get("output"))
                if "selectParentTemplates" in params:
                    out["parentTemplates"] = [_pick(p, params["selectParentTemplates"]) for p in self.data["templates"]
                                              if p["templateid"] in t["parents"]]
                if "selectMacros" in params:
                    out["macros"] = [_pick(_secret(m), params["selectMacros"]) for m in t["macros"]]
                found.append(out)
        return found

    def _usermacro_get(self, params: dict) -> list[dict]:
        macros = self.data["globalmacros"] if params.get("globalmacro") else []
        return [_pick(_secret(m), params.get("output")) for m in macros]

    def _problem_get(self, params: dict) -> list[dict]:
        found = [p for p in self.data["problems"] if params.get("groupids") is None
                 or any(set(self._host_of(h)["groupids"]) & set(params["groupids"]) for h in self._hostids(p))]
        return [_pick(p, params.get("output")) for p in sorted(found, key=lambda p: -int(p["eventid"]))]

    def _event_get(self, params: dict) -> list[dict]:
        if "select_acknowledges" in params and self.version >= (7, 2):
            raise ApiError(-32602, 'Invalid parameter "/": unexpected parameter "select_acknowledges".')
        acks = "select_acknowledges" if "select_acknowledges" in params else "selectAcknowledges"
        answers_acks = acks in params and (acks == "select_acknowledges" or self.version >= (7, 0))
        events = []
        for p in self.data["problems"]:
            if _wanted(p["eventid"], params.get("eventids")):
                out = _pick(p, params.get("output"))
                if "selectHosts" in params:
                    out["hosts"] = [_pick(self._host_of(h), params["selectHosts"]) for h in self._hostids(p)]
                if answers_acks:
                    out["acknowledges"] = [_pick({**a, **self._names(a["userid"])}, params[acks])
                                           for a in sorted(p["acknowledges"], key=lambda a: -int(a["clock"]))]
                events.append(out)
        return events

    def _event_acknowledge(self, params: dict) -> dict:
        action, message = int(params["action"]), params.get("message", "")
        mask = max(bits for since, bits in ACTION_BITS.items() if self.version >= since)
        if action & ~mask or not action:
            raise ApiError(-32602, f'Incorrect value for field "action": unexpected value "{action}".')
        problems = [p for p in self.data["problems"] if p["eventid"] in map(str, params["eventids"])]
        if len(problems) != len(set(map(str, params["eventids"]))):
            raise ApiError(-32500, "No permissions to referred object or it does not exist!")
        if action & 1 and any(self._trigger(p["objectid"])["manual_close"] != "1" for p in problems):
            raise ApiError(-32500, "Cannot close problem: trigger does not allow manual closing.")
        if action & 4 and not message:
            raise ApiError(-32602, 'Incorrect value for field "message": cannot be empty.')
        for p in problems:
            p["acknowledges"].append({"acknowledgeid": uuid.uuid4().hex[:6], "userid": self.userid,
                                      "clock": str(int(time.time())), "message": message, "action": str(action),
                                      "old_severity": "0", "new_severity": "0"})
            p["acknowledged"] = "1" if action & 2 else p["acknowledged"]
        self.data["problems"] = [p for p in self.data["problems"] if not (action & 1 and p in problems)]
        return {"eventids": [int(p["eventid"]) for p in problems]}

    def _item_get(self, params: dict) -> list[dict]:
        key = (params.get("filter") or {}).get("key_")
        items = [i for i in self.data["items"] if _wanted(i["hostid"], params.get("hostids"))
                 and (key is None or i["key_"] in ([key] if isinstance(key, str) else key))]
        return [_pick(i, params.get("output")) for i in items]

    def _history_get(self, params: dict) -> list[dict]:
        return self._series(self.data["history"], params, "value")

    def _trend_get(self, params: dict) -> list[dict]:
        return self._series(self.data["trends"], params, "value_avg")

    def _series(self, store: dict, params: dict, field: str) -> list[dict]:
        rows = [{"itemid": itemid, "clock": clock, field: value} for itemid in params["itemids"]
                for clock, value in store.get(itemid, [])
                if int(params.get("time_from", 0)) <= int(clock) <= int(params.get("time_till", 2**31))]
        return [_pick(r, params.get("output")) for r in rows]

    # --- lookups ----------------------------------------------------------------------------------------------

    def _user(self, userid: str) -> dict:
        return next(u for u in self.data["users"] if u["userid"] == userid)

    def _names(self, userid: str) -> dict:
        user = self._user(userid)
        return {key: user[key] for key in ("username", "name", "surname")}

    def _trigger(self, triggerid: str) -> dict:
        return next(t for t in self.data["triggers"] if t["triggerid"] == triggerid)

    def _hostids(self, problem: dict) -> list[str]:
        return self._trigger(problem["objectid"])["hostids"]

    def _host_of(self, hostid: str) -> dict:
        return next(h for h in self.data["hosts"] if h["hostid"] == hostid)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    standin: StandIn

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and left: expected here


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        standin: StandIn = self.server.standin  # type: ignore[attr-defined]  (our _Server)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if standin.answer_only is not None and len(standin.received) >= standin.answer_only:
            self.close_connection = True  # gone: the connection closes with no answer
            return
        time.sleep(standin.delay)
        if self.path != "/api_jsonrpc.php":
            self.send_error(404)
            return
        if standin.garbage:
            standin.received.append(Received("", None, None, None))
            return self._send(b"<html><body>Zabbix frontend: please log in</body></html>", "text/html")
        bearer = self.headers.get("Authorization", "").removeprefix("Bearer ").strip() or None
        self._send(json.dumps(standin.answer(json.loads(body), bearer)).encode(), "application/json")

    def _send(self, payload: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's name)
        pass


def _wanted(value: str, ids: list | None) -> bool:
    return ids is None or value in map(str, ids)


def _pick(row: dict, output: Any) -> dict:
    """The fields `output` asks for ("extend" or a list), as the API does."""
    return dict(row) if output in (None, "extend") else {k: v for k, v in row.items() if k in output}


def _secret(macro: dict) -> dict:
    """Zabbix never returns the value of a secret macro (type 1)."""
    return {k: v for k, v in macro.items() if not (k == "value" and macro.get("type") == "1")}


def self_signed(directory: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A self-signed certificate for `host` (an IP) and its key, made now; the certificate is its own CA."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "standin.crt", directory / "standin.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path

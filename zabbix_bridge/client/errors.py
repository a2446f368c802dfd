"""One error type for everything that can go wrong talking to Zabbix, with a message a network engineer reads."""
from __future__ import annotations

import enum
import http.client
import socket
import ssl
from urllib.error import HTTPError, URLError

from zabbix_utils.exceptions import APINotSupported, APIRequestError, ProcessingError

# What Zabbix answers when it does not accept the credentials (6.0 source: CLocalApiClient, CUser).
AUTH_REFUSALS = ("Not authorized.", "Session terminated, re-login, please.", "API token expired.")


class ErrorKind(enum.StrEnum):
    UNREACHABLE = "unreachable"
    TLS = "tls"
    AUTH = "auth"
    UNSUPPORTED = "unsupported"
    API = "api"
    TIMEOUT = "timeout"


class ZabbixError(Exception):
    """A failed exchange with Zabbix; `kind` says whose move it is (network, certificate, credentials, Zabbix)."""

    def __init__(self, kind: ErrorKind | str, message: str) -> None:
        super().__init__(message)
        self.kind = ErrorKind(kind)
        self.message = message


def translate(exc: BaseException, *, url: str, method: str, timeout: float, who: str) -> ZabbixError:
    """Turn what zabbix_utils or urllib raised during `method` into a ZabbixError."""
    if isinstance(exc, ZabbixError):
        return exc
    if isinstance(exc, APIRequestError):
        data = str(getattr(exc, "data", "") or exc)
        if method == "user.login" or data in AUTH_REFUSALS:
            return ZabbixError(ErrorKind.AUTH, f"Zabbix refused {who}: {data}")
        return ZabbixError(ErrorKind.API, f"Zabbix API error in {method}: {data}")
    if isinstance(exc, APINotSupported):
        return ZabbixError(ErrorKind.UNSUPPORTED, str(exc))
    if isinstance(exc, ProcessingError):
        # zabbix_utils flattens the cause into a string and raises `from None`: the original stays in __context__.
        cause = exc.__context__
        if cause is None:
            return ZabbixError(ErrorKind.API, f"Zabbix API error in {method}: {exc}")
        return _transport_error(cause, url=url, method=method, timeout=timeout)
    if isinstance(exc, ValueError):  # raised by zabbix_utils itself, e.g. on a version it cannot parse
        kind = ErrorKind.UNSUPPORTED if "version" in str(exc) else ErrorKind.UNREACHABLE
        return ZabbixError(kind, f"cannot use {url}: {exc}")
    return _transport_error(exc, url=url, method=method, timeout=timeout)


def _transport_error(exc: BaseException, *, url: str, method: str, timeout: float) -> ZabbixError:
    """Errors below JSON-RPC: HTTP status, JSON, TLS, TCP, DNS, time-outs."""
    if isinstance(exc, HTTPError):
        return ZabbixError(ErrorKind.UNREACHABLE, f"no Zabbix API at {url}: HTTP {exc.code} {exc.reason}")
    if isinstance(exc, URLError) and isinstance(exc.reason, BaseException):
        exc = exc.reason
    if isinstance(exc, ssl.SSLCertVerificationError):  # before ValueError: it is one too
        return ZabbixError(ErrorKind.TLS, f"TLS certificate of {url} not trusted: {exc.verify_message}")
    if isinstance(exc, ssl.SSLError):
        hint = " (it does not speak TLS there: plain HTTP?)" if exc.reason == "WRONG_VERSION_NUMBER" else ""
        return ZabbixError(ErrorKind.TLS, f"TLS with {url} failed: {exc.reason or exc}{hint}")
    if isinstance(exc, ValueError):  # JSON or UTF-8 decoding of the answer
        return ZabbixError(ErrorKind.UNREACHABLE, f"no Zabbix API at {url}: the answer is not JSON ({exc})")
    if isinstance(exc, TimeoutError):
        return ZabbixError(ErrorKind.TIMEOUT, f"{url} did not answer {method} within {timeout:g} s")
    if isinstance(exc, socket.gaierror):
        return ZabbixError(ErrorKind.UNREACHABLE, f"cannot reach {url}: unknown host ({_reason(exc)})")
    if isinstance(exc, (ConnectionError, http.client.HTTPException)) and not isinstance(exc, ConnectionRefusedError):
        return ZabbixError(ErrorKind.UNREACHABLE, f"connection to {url} lost during {method}: {_reason(exc)}")
    if isinstance(exc, (OSError, URLError)):
        return ZabbixError(ErrorKind.UNREACHABLE, f"cannot reach {url}: {_reason(exc)}")
    raise exc  # not a failed exchange: a bug, let it show


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return text[:1].lower() + text[1:]

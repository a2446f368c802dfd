"""Strict readers for settings taken from the environment.

Each reader returns a sane default when the variable is unset and stops start-up
with an ``ImproperlyConfigured`` naming the variable when its value is malformed.
"""
from __future__ import annotations

import base64
import binascii
import ipaddress
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    return None if value is None else value.strip()


def env_str(name: str, default: str = "") -> str:
    value = _raw(name)
    return default if value is None else value


def env_bool(name: str, default: bool = False) -> bool:
    value = _raw(name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use 1/0, true/false, yes/no, on/off)")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} is below the minimum {minimum}")
    if maximum is not None and number > maximum:
        raise ImproperlyConfigured(f"{name}={number} is above the maximum {maximum}")
    return number


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    value = _raw(name)
    if value is None:
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


_RATE = re.compile(r"(?P<count>[0-9]+)/(?:s|sec|second|m|min|minute|h|hour|d|day)")


def env_rate(name: str, default: str) -> str | None:
    """A request rate for DRF throttling, e.g. 10/min (per s, min, hour or day); 0 or off: no limit (None)."""
    value = (_raw(name) or default).lower()
    if value in {"0", "off"}:
        return None
    match = _RATE.fullmatch(value)
    if match is None or int(match["count"]) < 1:
        raise ImproperlyConfigured(f"{name}={value!r} is not a rate like 10/min (per s, min, hour or day), "
                                   "nor 0/off (no limit)")
    return value


def env_networks(name: str) -> list[str]:
    """Comma-separated networks in CIDR notation (an address alone is one host), each checked."""
    networks = env_list(name)
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}: {network!r} is not a network (e.g. 10.20.0.0/16, or 127.0.0.1 for one host)") from None
    return networks


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    """One of `choices`, matched without regard to case."""
    value = (_raw(name) or default).upper()
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={_raw(name)!r} is not one of {', '.join(choices)}")
    return value


def env_url(name: str, default: str, *, schemes: tuple[str, ...], blank_ok: bool = False) -> str:
    """A URL with one of `schemes` and a host; with `blank_ok`, unset or blank gives "" (e.g. "as another URL")."""
    value = _raw(name) or default
    if blank_ok and not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.netloc:
        allowed = ", ".join(f"{s}://" for s in schemes)
        raise ImproperlyConfigured(f"{name}={value!r} is not a valid URL (expected {allowed}host[:port])")
    try:
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} has an invalid port") from None
    return value.rstrip("/")


def env_fernet_keys(name: str) -> list[str]:
    """Comma-separated Fernet keys: the first encrypts, all decrypt (rotation)."""
    keys = env_list(name)
    for index, key in enumerate(keys, start=1):
        try:
            decoded = base64.urlsafe_b64decode(key.encode())
        except (binascii.Error, ValueError):
            decoded = b""
        if len(decoded) != 32:
            raise ImproperlyConfigured(
                f"{name}: key #{index} is not a Fernet key (32 url-safe base64-encoded bytes; "
                "make one with `python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`)"
            )
    return keys



def env_duration(name: str, default: str) -> int | None:
    """A duration such as 90d or 12h (wardsite/durations.py) in seconds; `never` (or 0): None."""
    from wardsite.durations import parse_duration

    value = _raw(name) or default
    if value.lower() in {"never", "0"}:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={value!r}: {exc}, or never") from None


_META_HEADER = re.compile(r"HTTP_[A-Z0-9_]+")


def env_proxy_ssl_header(name: str) -> tuple[str, str] | None:
    """The header a TLS proxy sets to `https`, as Django's SECURE_PROXY_SSL_HEADER; unset or empty: None.

    Written as Django names it (`HTTP_X_FORWARDED_PROTO`) or as it travels (`X-Forwarded-Proto`).
    """
    value = _raw(name)
    if not value:
        return None
    header = value.upper().replace("-", "_")
    header = header if header.startswith("HTTP_") else f"HTTP_{header}"
    if not _META_HEADER.fullmatch(header):
        raise ImproperlyConfigured(f"{name}={value!r} is not a header name (e.g. HTTP_X_FORWARDED_PROTO)")
    return (header, "https")


_ENV_LINE = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)=(?P<value>.*)")


def load_env_file(path: Path) -> None:
    """Put the `NAME=value` lines of `path` (when it exists) into the environment, where not already set.

    The files are the ones `make run` keeps in var/ (its generated keys, the instance it started), so
    `manage.py ...` typed in the checkout talks to that instance; a variable set in the environment wins.
    Blank lines and `#` comments are skipped; the value is taken as written (no quotes, no expansion).
    """
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ImproperlyConfigured(f"{path}: cannot be read ({exc.strerror})") from None
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = _ENV_LINE.fullmatch(line)
        if match is None:
            raise ImproperlyConfigured(f"{path}, line {number}: expected NAME=value")
        os.environ.setdefault(match["name"], match["value"])


def redis_url_next_db(url: str) -> str:
    """The same Redis server with the next database number (db 0 -> 1); the last of Redis' default 16, db 15,
    goes to 14."""
    parts = urlsplit(url)
    db_text = parts.path.strip("/") or "0"
    if not db_text.isdigit():
        raise ImproperlyConfigured(f"{url!r}: the database number {db_text!r} is not a number")
    db = int(db_text)
    return parts._replace(path=f"/{db + 1 if db < 15 else db - 1}").geturl()

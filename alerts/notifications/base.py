"""What channels share: the one delivery error type, HTTP delivery for the webhook-style ones, recipient lists."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

from wardsite import outbound

TIMEOUT_SECONDS = 10


class DeliveryError(Exception):
    """A notification not delivered: permanent (a retry cannot help: 4xx, bad address) or transient."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


def post(url: str, *, json: Any = None, data: Any = None, headers: dict[str, str] | None = None,
         auth: tuple[str, str] | None = None) -> None:
    """POST to a target the server may reach (wardsite/outbound.py), without following redirects; DeliveryError
    unless the receiver answers 2xx (5xx, 408, 429 and network errors are transient). Errors name the URL's scheme
    and host only (its path may hold a token) and never quote the answer's body."""
    shown = outbound.url_shown(url)
    try:
        outbound.check_url(url)
        with outbound.http_session() as session, session.post(
                url, json=json, data=data, headers=headers, auth=auth, timeout=TIMEOUT_SECONDS, allow_redirects=False,
                stream=True) as response:  # stream: the body is never read
            status = response.status_code
    except outbound.OutboundRefused as exc:
        raise DeliveryError(f"{shown} refused: {exc}", permanent=True) from None
    except outbound.Unresolvable as exc:
        raise DeliveryError(f"{shown}: {exc}", permanent=False) from None
    except requests.RequestException as exc:
        raise DeliveryError(f"{shown}: {_reason(exc)}", permanent=False) from None
    if 200 <= status < 300:
        return
    if 300 <= status < 400:
        raise DeliveryError(f"{shown} answered HTTP {status}: redirect not followed (give the final URL)",
                            permanent=True)
    raise DeliveryError(f"{shown} answered HTTP {status}", permanent=not (status >= 500 or status in (408, 429)))


def _reason(exc: requests.RequestException) -> str:
    """A failed request in a few words, without the URL requests puts in its messages (its path may hold a token)."""
    cause: BaseException | None = exc
    for _ in range(8):  # requests' error, urllib3's, the socket's
        if cause is None:
            break
        if isinstance(cause, OSError) and cause.strerror:
            return f"{exc.__class__.__name__}: {cause.strerror}"
        reason = getattr(cause, "reason", None)
        cause = reason if isinstance(reason, BaseException) else cause.__context__
    return exc.__class__.__name__


def recipients_problems(value: Any, key: str, check: Callable[[Any], list[str]]) -> list[str]:
    """Problems of a list of recipients (addresses, numbers) under `key`, each recipient checked by `check`."""
    if not isinstance(value, list) or not value:
        return [f"{key}: a list with at least one recipient is required"]
    return [f"{key}[{i}]: {problem}" for i, item in enumerate(value) for problem in check(item)]

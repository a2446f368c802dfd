"""What channels share: the one delivery error type, HTTP delivery for the webhook-style ones, recipient lists."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

TIMEOUT_SECONDS = 10


class DeliveryError(Exception):
    """A notification not delivered: permanent (a retry cannot help: 4xx, bad address) or transient."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


def post(url: str, *, json: Any = None, data: Any = None, headers: dict[str, str] | None = None,
         auth: tuple[str, str] | None = None) -> None:
    """POST; DeliveryError unless the receiver answers 2xx (5xx, 408, 429 and network errors are transient)."""
    try:
        response = requests.post(url, json=json, data=data, headers=headers, auth=auth, timeout=TIMEOUT_SECONDS)
    except requests.RequestException as exc:
        raise DeliveryError(f"{url}: {exc.__class__.__name__}: {exc}", permanent=False) from None
    if response.ok:
        return
    status = response.status_code
    raise DeliveryError(f"{url} answered HTTP {status}: {response.text[:200]}",
                        permanent=not (status >= 500 or status in (408, 429)))


def recipients_problems(value: Any, key: str, check: Callable[[Any], list[str]]) -> list[str]:
    """Problems of a list of recipients (addresses, numbers) under `key`, each recipient checked by `check`."""
    if not isinstance(value, list) or not value:
        return [f"{key}: a list with at least one recipient is required"]
    return [f"{key}[{i}]: {problem}" for i, item in enumerate(value) for problem in check(item)]

"""The items of a document being converted: drafts before their metric keys are chosen, and choosing them."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from snmp.validators import RESERVED_METRICS, RESERVED_PREFIXES
from templates_app.zabbix.common import _snake


@dataclass
class _Draft:
    """One item of our document before its metric key is chosen (keys must be unique across the document)."""

    zabbix_key: str
    name: str
    oid: str
    interval: int
    value_type: str
    units: str = ""
    value_map: dict[str, float] = field(default_factory=dict)
    enabled: bool = True
    discovery: dict | None = None
    rule: str | None = None  # the LLD rule's key for item prototypes
    scale: Decimal | None = None  # the MULTIPLIER Zabbix applies and we do not
    row_scale: str = ""  # a MULTIPLIER that is an LLD macro ({#ALLOC_UNITS}): differs per row, we do not apply it
    notes: list[str] = field(default_factory=list)  # what was left out of it, for `skipped` once it is imported
    metric: str = ""

    def document(self) -> dict:
        doc: dict[str, Any] = {"key": self.metric, "name": self.name, "oid": self.oid, "interval": self.interval,
                               "value_type": self.value_type}
        if self.units:
            doc["units"] = self.units
        if self.value_map:
            doc["value_map"] = self.value_map
        if not self.enabled:
            doc["enabled"] = False
        if self.discovery is not None:
            doc["discovery"] = self.discovery
        return doc


def _assign_metrics(drafts: list[_Draft]) -> None:
    """Metric keys from Zabbix keys: the key's name part, plus its parameters where names alone would clash."""
    bases = [_snake(d.zabbix_key.split("[", 1)[0]) for d in drafts]
    counts = Counter(bases)
    used: set[str] = set()
    for draft, base in zip(drafts, bases):
        name = base if counts[base] == 1 else _snake(draft.zabbix_key)
        if not name or name[0].isdigit() or name.startswith(RESERVED_PREFIXES) or name in RESERVED_METRICS:
            name = f"zbx_{name}".rstrip("_")
        name = name[:96]
        candidate, n = name, 2
        while candidate in used:
            candidate, n = f"{name}_{n}", n + 1
        used.add(candidate)
        draft.metric = candidate

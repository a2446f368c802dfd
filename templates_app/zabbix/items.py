"""A Zabbix template's SNMP items -> drafts of our items, with what each could not keep; shared by LLD prototypes."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from templates_app.document import MAX_INTERVAL
from templates_app.zabbix.common import (
    IGNORED_STEPS, LLD_MACRO, VALUE_TYPES, _Macros, _number_text, _numeric_oid, _seconds, _Skip, _text,
    _without_row_prefix)
from templates_app.zabbix.drafts import _Draft
from wardsite.text import quote


class _ItemConverter:
    """Drafts of one template's items; `refs` maps each Zabbix item key to its draft or to why it was not imported."""

    def __init__(self, template: dict, skipped: list[str]) -> None:
        self.skipped = skipped
        self.macros = _Macros(template.get("macros") or [])
        self.valuemaps = {_text(v.get("name")): v.get("mappings") or [] for v in template.get("valuemaps") or []}
        self.zabbix_items = {_text(item.get("key")): item for item in template.get("items") or []}
        self.drafts: list[_Draft] = []
        self.refs: dict[str, _Draft | str] = {}  # Zabbix item key -> our item, or why it was not imported
        self.walks = [key for key, item in self.zabbix_items.items()  # imported through the items that read them
                      if _text(item.get("type")) == "SNMP_AGENT" and _text(item.get("snmp_oid")).startswith("walk[")]
        self.used_walks: set[str] = set()

    def item(self, item: dict) -> None:
        """Draft a scalar item, or note why not."""
        key = _text(item.get("key"))
        what = f"item {key}"
        if key in self.walks:
            self.refs[key] = "a walk[] item, read through the items that depend on it"
            return
        try:
            oid, interval_source, steps = self._item_source(item)
            draft = self.draft(item, what, oid=oid, interval_source=interval_source, steps=steps)
        except _Skip as skip:
            self.skip_item(key, what, str(skip))
            return
        self.add(draft, what)

    def note_unused_walks(self) -> None:
        for key in self.walks:
            if key not in self.used_walks:
                self.skipped.append(f"item {key}: walk[] item that no imported item reads")

    def _item_source(self, item: dict) -> tuple[str, dict, list[dict]]:
        """(OID, the item whose delay applies, preprocessing left to translate) of a scalar SNMP item."""
        steps = item.get("preprocessing") or []
        kind = _text(item.get("type")) or "ZABBIX_PASSIVE"
        if kind == "SNMP_AGENT":
            raw = self.macros.resolve(_text(item.get("snmp_oid")).strip())
            if raw.startswith("discovery["):
                raise _Skip("discovery[] as an item (its value is the discovery's JSON) has no equivalent")
            return self._plain_oid(raw), item, steps
        if kind == "DEPENDENT":
            master, oid = self.walk_value(item)
            if LLD_MACRO.search(oid):
                raise _Skip(f"reads {oid} outside an LLD rule")
            return _numeric_oid(oid), master, steps[1:]
        raise _Skip(f"not an SNMP item (type {kind})")

    def _plain_oid(self, raw: str) -> str:
        match = re.fullmatch(r"get\[\s*([^,\]]+?)\s*\]", raw)
        if match:
            raw = match[1]
        if "[" in raw:
            raise _Skip(f"SNMP OID {raw} (dynamic index or several OIDs) has no equivalent")
        return _numeric_oid(raw)

    def walk_value(self, item: dict) -> tuple[dict, str]:
        """(walk[] master item, OID) of a dependent item that reads one value of a walk."""
        master_key = _text((item.get("master_item") or {}).get("key"))
        master = self.zabbix_items.get(master_key)
        steps = item.get("preprocessing") or []
        if master is None or master_key not in self.walks or not steps or steps[0].get("type") != "SNMP_WALK_VALUE":
            raise _Skip(f"depends on item {master_key} without reading an SNMP walk value from it (no equivalent)")
        self.used_walks.add(master_key)
        parameters = steps[0].get("parameters") or []
        if len(parameters) > 1 and _text(parameters[1]) == "3":
            raise _Skip("the BITS-to-integer conversion of its walk value has no equivalent")
        return master, self.macros.resolve(_text(parameters[0] if parameters else ""))

    def draft(self, item: dict, what: str, *, oid: str, interval_source: dict, steps: list[dict],
              rule: str | None = None, discovery: dict | None = None, enabled: bool = True) -> _Draft:
        """Our item for a Zabbix item or prototype; _Skip when something it needs has no equivalent."""
        zabbix_type = _text(item.get("value_type")) or "UNSIGNED"
        if zabbix_type not in VALUE_TYPES:
            raise _Skip(f"value type {zabbix_type} has no equivalent")
        notes: list[str] = []
        interval = self._interval(interval_source, what, notes)
        value_type, scale, row_scale = self._preprocessing(steps, VALUE_TYPES[zabbix_type], per_row=rule is not None)
        units = self._units(_text(item.get("units")).lstrip("!"), what, notes, scale, row_scale)
        value_map = self._value_map(item, notes)
        if value_map and value_type == "string":
            value_type = "float"
        name = _text(item.get("name")) or _text(item.get("key"))
        enabled = enabled and _text(item.get("status")) != "DISABLED" and _text(item.get("discover")) != "NO_DISCOVER"
        return _Draft(
            zabbix_key=_text(item.get("key")), name=(_without_row_prefix(name) if rule else name)[:255], oid=oid,
            interval=interval, value_type=value_type, units=units, value_map=value_map, enabled=enabled,
            discovery=discovery, rule=rule, scale=scale, row_scale=row_scale, notes=notes,
        )

    def _preprocessing(self, steps: list[dict], value_type: str, *,
                       per_row: bool) -> tuple[str, Decimal | None, str]:
        """(value type, multiplier, per-row multiplier macro) after the item's preprocessing steps."""
        scale, row_scale = None, ""
        for step in steps:
            step_type = _text(step.get("type"))
            if step_type == "CHANGE_PER_SECOND":
                value_type = "counter"
            elif step_type == "MULTIPLIER":
                factor = self._multiplier(step, per_row=per_row)
                if isinstance(factor, str):
                    row_scale = factor
                else:
                    scale = (scale or Decimal(1)) * factor
            elif step_type not in IGNORED_STEPS:
                raise _Skip(f"preprocessing {step_type} has no equivalent")
        return value_type, scale, row_scale

    @staticmethod
    def _units(units: str, what: str, notes: list[str], scale: Decimal | None, row_scale: str) -> str:
        """The units we keep: none where raw values are stored unscaled, nor beyond 20 characters."""
        dropped = f', and without the units "{units}"' if units else ""
        if row_scale:
            notes.append(f"{what}: multiplier {row_scale} (per discovered row) has no equivalent: raw values "
                         f"are stored{dropped}; triggers on it are left out")
            return ""
        if scale is not None:
            notes.append(f"{what}: multiplier {_number_text(scale)} has no equivalent: raw values are stored"
                         f"{dropped}; trigger thresholds on it are divided by {_number_text(scale)}")
            return ""
        if len(units) > 20:
            notes.append(f"{what}: units {quote(units)} are longer than 20 characters and left out")
            return ""
        return units

    def _multiplier(self, step: dict, *, per_row: bool) -> Decimal | str:
        """The step's factor, or the LLD macro that gives it per row."""
        parameters = step.get("parameters") or [""]
        text = self.macros.resolve(_text(parameters[0])).strip()
        if per_row and LLD_MACRO.fullmatch(text):
            return text
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise _Skip(f"multiplier {quote(text)} is not a number") from None
        if not value:
            raise _Skip("multiplier 0 has no equivalent")
        return value

    def _interval(self, item: dict, what: str, notes: list[str]) -> int:
        text = self.macros.resolve(_text(item.get("delay")) or "1m")
        text, _, custom = text.partition(";")
        seconds = _seconds(text, "delay")
        if not seconds:
            raise _Skip("delay 0 (custom intervals only) has no equivalent")
        if custom:
            notes.append(f"{what}: custom intervals {quote(custom)} have no equivalent; polled every {text}")
        if seconds > MAX_INTERVAL:
            notes.append(f"{what}: delay {text} is longer than 1d; polled daily")
        return min(seconds, MAX_INTERVAL)

    def _value_map(self, item: dict, notes: list[str]) -> dict[str, float]:
        """A value map whose values are numbers; maps to names are display only (noted once per map)."""
        name = _text((item.get("valuemap") or {}).get("name"))
        if not name:
            return {}
        mappings = self.valuemaps.get(name, [])
        try:
            if not mappings or any(_text(m.get("type")) not in ("", "EQUAL") for m in mappings):
                raise InvalidOperation
            return {_text(m.get("value")): float(Decimal(_text(m.get("newvalue")))) for m in mappings}
        except InvalidOperation:
            notes.append(f'value map "{name}": maps raw values to names for display (no equivalent); '
                         "the raw values are stored")
            return {}

    def add(self, draft: _Draft, what: str) -> None:
        """Keep the draft unless another polls the same OID; its notes join `skipped`."""
        for other in self.drafts:
            if other.oid == draft.oid and (other.discovery is None) == (draft.discovery is None):
                self.skip_item(draft.zabbix_key, what, f"polls the same OID {draft.oid} as item {other.zabbix_key}")
                return
        self.drafts.append(draft)
        self.refs[draft.zabbix_key] = draft
        self.skipped += [note for note in draft.notes if note not in self.skipped]

    def skip_item(self, key: str, what: str, why: str) -> None:
        self.skipped.append(f"{what}: {why}")
        self.refs[key] = why

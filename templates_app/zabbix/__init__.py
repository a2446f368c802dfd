"""Zabbix template exports (6.0 to 7.4, YAML, XML or JSON from `configuration.export`) -> our template documents.

`convert(text)` (export.py, per template; items.py converts items, lld.py LLD rules and their prototypes,
triggers.py trigger expressions; drafts.py holds the items being built, common.py what the parts share)
returns, per template in the export, a `wardflux-template/1` document (docs/templates.md) and `skipped`:
everything it could not translate, each "what: why". What translates:

- SNMP items with numeric OIDs: SNMP_AGENT items (`snmp_oid` a numeric OID or `get[OID]`) and DEPENDENT items
  reading one value of a `walk[...]` master item (SNMP_WALK_VALUE, the 6.4+ form). Value types FLOAT/UNSIGNED/
  CHAR/TEXT, "Change per second" (-> counter), units, delay (user macros resolved from the template's macros),
  status, and value maps that map raw values to numbers (the usual number -> name maps are display only).
  A MULTIPLIER step has no equivalent: raw values are stored without its units, and trigger thresholds on the
  item are divided by the multiplier so that triggers still mean the same.
- LLD rules over SNMP tables: 6.0 `discovery[{#MACRO},OID,...]` and 6.4+ `walk[...]` master + SNMP_WALK_TO_JSON.
  Rules over IF-MIB columns become `discovery.interfaces`, others `discovery.table` (rows = the first column's
  indexes = {#SNMPINDEX}, the row's name from the column of the first {#MACRO} in the prototypes' names);
  regex filters on discovered columns become our filters.
- Triggers and trigger prototypes whose expressions fit our subset (`_Translator`): last/avg/min/max/sum/count/
  rate of an item compared with a number, nodata(...)=1, and/or; {$MACRO} thresholds resolved; Zabbix's
  "min(x,5m)>N" (above N for all of 5m) becomes `last(x) > N` with `for: 5m`, likewise "max(x,5m)<N".

Tags, histories, trends, item descriptions and inventory links are metadata without an equivalent and are left
out silently; everything else that is left out is listed in `skipped`.

XML is read with xml.etree.ElementTree: exports are operator input we trust, and its expat parser neither
fetches external entities nor (expat >= 2.4.1) lets internal ones expand without bound.
"""
from templates_app.zabbix.common import ZabbixImport, ZabbixImportError, document_key
from templates_app.zabbix.export import convert

__all__ = ["ZabbixImport", "ZabbixImportError", "convert", "document_key"]

"""Template documents: every rule refused with its exact path; what is written reads back the same."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from templates_app.document import DocumentError, load_text, parse_document, to_document

GOOD = {
    "format": "wardflux-template/1", "key": "lab-linux", "name": "Lab Linux", "version": 2, "vendor": "net-snmp",
    "device_types": ["server"], "priority": 10,
    "match": {"sys_object_ids": ["1.3.6.1.4.1.8072.3.2.10"], "sys_descr": ["^Linux"]},
    "items": [
        {"key": "load_1m", "oid": "1.3.6.1.4.1.2021.10.1.3.1", "interval": 30, "units": ""},
        {"key": "storage_used_units", "oid": "1.3.6.1.2.1.25.2.3.1.6",
         "discovery": {"table": "1.3.6.1.2.1.25.2.3.1.3", "label": "storage", "label_oid": "1.3.6.1.2.1.25.2.3.1.3",
                       "filters": [{"oid": "1.3.6.1.2.1.25.2.3.1.2", "in": ["1.3.6.1.2.1.25.2.1.4"]}]}},
        {"key": "if_mtu", "oid": "1.3.6.1.2.1.2.2.1.4", "value_type": "integer",
         "discovery": {"interfaces": True, "filters": [{"field": "if_type", "not_in": [24]}]}},
    ],
    "triggers": [{"name": "High load", "expression": "avg(load_1m, 5m) > 4", "for": "5m", "severity": "high"}],
}


def refused(document: dict) -> list[str]:
    with pytest.raises(DocumentError) as raised:
        parse_document(document)
    return raised.value.errors


def test_a_good_document_reads_back_the_same_after_writing():
    spec = parse_document(GOOD)
    assert spec.items[1].discovery.filters[0].keeps("1.3.6.1.2.1.25.2.1.4")
    assert spec.triggers[0].for_seconds == 300
    assert parse_document(to_document(spec)) == spec


@pytest.mark.parametrize("change, error", [
    (lambda d: d.pop("key"), "key: required"),
    (lambda d: d.update(format="zabbix/6"), "format: 'zabbix/6' is not 'wardflux-template/1'"),
    (lambda d: d.update(colour="red"), "colour: unknown field"),
    (lambda d: d["items"][0].update(oid="1.3.6.x"), "items[0].oid: "),
    (lambda d: d["items"][0].update(interval=0), "items[0].interval: expected a whole number from 1 to 86400, got 0"),
    (lambda d: d["items"][1].update(key="load_1m"), "items[1].key: 'load_1m' is already the key of items[0]"),
    (lambda d: d["items"][0].update(key="snmp_if_in_bps"), "items[0].key: 'snmp_if_in_bps' is a series the poller"),
    (lambda d: d["items"][0].update(value_type="double"), "items[0].value_type: 'double' is not one of"),
    (lambda d: d["items"][1]["discovery"]["filters"][0].update(field="if_type"),
     "items[1].discovery.filters[0]: give exactly one of field, oid"),
    (lambda d: d["items"][1]["discovery"]["filters"][0].update(matches="("),
     "items[1].discovery.filters[0]: give exactly one operator"),
    (lambda d: d["items"][2]["discovery"].update(table="1.3.6.1.2.1.2.2.1.4"),
     "items[2].discovery: give exactly one of interfaces: true, table: <column OID>"),
    (lambda d: d["items"][2]["discovery"]["filters"][0].update(field="speed"),
     "items[2].discovery.filters[0].field: 'speed' is not one of"),
    (lambda d: d["match"].update(sys_descr=["(unclosed"]), "match.sys_descr[0]: not a regular expression"),
    (lambda d: d.update(device_types=["toaster"]), "device_types[0]: 'toaster' is not one of"),
    (lambda d: d["triggers"][0].update(severity="urgent"), "triggers[0].severity: 'urgent' is not one of"),
    (lambda d: d["triggers"][0].update({"for": "five minutes"}), "triggers[0].for: 'five minutes' is not a duration"),
    (lambda d: d["triggers"][0].update({"for": "0m"}), "triggers[0].for: '0m': a duration must be longer than 0"),
    (lambda d: d.update(includes=["lab-linux"]), "includes[0]: a template cannot include itself"),
    (lambda d: d["triggers"][0].update(expression="avg(load_1m, 5m) >"),
     "triggers[0].expression: line 1, column 19: expected a number after '>'"),
    (lambda d: d["triggers"][0].update(recovery_expression="average(load_1m) < 2"),
     "triggers[0].recovery_expression: line 1, column 1: unknown function 'average'"),
])
def test_each_broken_rule_is_reported_with_its_path(change, error):
    import copy

    document = copy.deepcopy(GOOD)
    change(document)
    assert any(line.startswith(error) for line in refused(document)), refused(document)


def test_every_problem_is_reported_at_once():
    errors = refused({"format": "wardflux-template/1", "key": "Bad Key", "name": 3, "items": [{"oid": "x"}]})
    assert len(errors) >= 4


def test_text_that_is_neither_json_nor_yaml_is_refused():
    with pytest.raises(DocumentError, match="not valid JSON or YAML"):
        load_text("{ broken: [")


@given(st.lists(st.sampled_from(["1.3.6.1.2.1.25.2.1.4", "1.3.6.1.2.1.25.2.1.2", "x"]), max_size=3),
       st.text(max_size=20))
def test_an_in_filter_keeps_exactly_the_listed_values(values, text):
    document = {**GOOD, "items": [{"key": "k", "oid": "1.3.6.1.2.1.25.2.3.1.6",
                                   "discovery": {"table": "1.3.6.1.2.1.25.2.3.1.3", "label": "s",
                                                 "filters": [{"oid": "1.3.6.1.2.1.25.2.3.1.2", "in": values}]}}]}
    assert parse_document(document).items[0].discovery.filters[0].keeps(text) == (text in values)

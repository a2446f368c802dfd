"""Rule expressions: parsing, error positions, MetricsQL, and what it finds in a real VictoriaMetrics."""
from __future__ import annotations

import time

import pytest

from wardsite.expressions import (
    And, Comparison, Condition, ExpressionError, Matcher, NoData, Or, Rollup, Selector, held_for, metrics, parse,
    recovery_metricsql, to_metricsql,
)
from wardsite.victoria import Sample, get_client

# --- parsing and compiling -----------------------------------------------------------------------------------------

COMPILED = [
    # the documented examples
    ("avg(cpu_usage) > 90 for 5m", "avg_over_time(cpu_usage[5m]) > 90"),
    ("interface_status == 0", "last_over_time(interface_status[10m]) == 0"),
    ("ping_packet_loss > 20 for 2m", "last_over_time(ping_packet_loss[10m]) > 20"),
    ("rate(if_in_errors) > 10", "rate(if_in_errors[5m]) > 10"),
    ("nodata(snmp_uptime, 5m)", "lag(snmp_uptime[1d]) > 300"),
    # every function, with and without a window
    ("last(x) >= 1", "last_over_time(x[10m]) >= 1"),
    ("last(x, 1h) <= 1", "last_over_time(x[1h]) <= 1"),
    ("avg(x, 90s) < 1", "avg_over_time(x[90s]) < 1"),
    ("min(x) != 1", "min_over_time(x[5m]) != 1"),
    ("max(x, 1d) == 1", "max_over_time(x[1d]) == 1"),
    ("sum(x, 1w) > 1", "sum_over_time(x[1w]) > 1"),
    ("count(x, 30s) > 1", "count_over_time(x[30s]) > 1"),
    ("rate(x, 1m) > 1", "rate(x[1m]) > 1"),
    ("delta(x) > 1", "delta(x[5m]) > 1"),
    ("delta(x, 120m) > 1", "delta(x[2h]) > 1"),
    # numbers on either side, negative, decimal, exponent
    ("90 < avg(cpu_usage)", "avg_over_time(cpu_usage[5m]) > 90"),
    ("-100 >= lte_rsrp", "last_over_time(lte_rsrp[10m]) <= -100"),
    ("0 != x", "last_over_time(x[10m]) != 0"),
    ("x < 1.6", "last_over_time(x[10m]) < 1.6"),
    ("x > 1e9", "last_over_time(x[10m]) > 1000000000"),
    ("x > .5", "last_over_time(x[10m]) > 0.5"),
    ("x > -2.5E-3", "last_over_time(x[10m]) > -0.0025"),
    # label filters, escapes kept for MetricsQL
    ('snmp_if_oper_status{ifName=~"Gi.*"} == 2', 'last_over_time(snmp_if_oper_status{ifName=~"Gi.*"}[10m]) == 2'),
    ('rate(e{ifName=~"Gi\\d+/0/\\d+", device="sw 1", a!="b", c!~"re"}, 5m) > 1',
     'rate(e{ifName=~"Gi\\\\d+/0/\\\\d+", device="sw 1", a!="b", c!~"re"}[5m]) > 1'),
    ('x{alias="to \\"core\\" C:\\\\"} > 1', 'last_over_time(x{alias="to \\"core\\" C:\\\\"}[10m]) > 1'),
    ("x{} > 1", "last_over_time(x[10m]) > 1"),
    # and binds tighter than or; parentheses; combined per device
    ("a > 1 and b > 2", "last_over_time(a[10m]) > 1 and on(device_id) last_over_time(b[10m]) > 2"),
    ("a > 1 or b > 2 and c > 3",
     "last_over_time(a[10m]) > 1 or on(device_id) "
     "(last_over_time(b[10m]) > 2 and on(device_id) last_over_time(c[10m]) > 3)"),
    ("a > 1 and b > 2 or c > 3",
     "(last_over_time(a[10m]) > 1 and on(device_id) last_over_time(b[10m]) > 2) "
     "or on(device_id) last_over_time(c[10m]) > 3"),
    ("(a > 1 or b > 2) and c > 3",
     "(last_over_time(a[10m]) > 1 or on(device_id) last_over_time(b[10m]) > 2) "
     "and on(device_id) last_over_time(c[10m]) > 3"),
    ("a > 1 and b > 2 and c > 3",
     "last_over_time(a[10m]) > 1 and on(device_id) last_over_time(b[10m]) > 2 "
     "and on(device_id) last_over_time(c[10m]) > 3"),
    ("((a > 1))", "last_over_time(a[10m]) > 1"),
    ("last(up) < 1 or nodata(up, 10m)", "last_over_time(up[10m]) < 1 or on(device_id) lag(up[1d]) > 600"),
    # keywords only as whole words; layout is free
    ("android > 1 or format < 2 or nodata_total > 3",
     "last_over_time(android[10m]) > 1 or on(device_id) last_over_time(format[10m]) < 2 "
     "or on(device_id) last_over_time(nodata_total[10m]) > 3"),
    ("avg( cpu_usage ,5m )>90\n  and\tmemory_usage>=90",
     "avg_over_time(cpu_usage[5m]) > 90 and on(device_id) last_over_time(memory_usage[10m]) >= 90"),
]


@pytest.mark.parametrize(("expression", "metricsql"), COMPILED)
def test_it_compiles_each_construct_to_metricsql(expression, metricsql):
    assert to_metricsql(parse(expression)) == metricsql


def test_it_parses_to_a_tree_with_windows_in_seconds_and_the_value_on_the_left():
    cpu = Selector("cpu_usage")
    assert parse("avg(cpu_usage) > 90 for 5m") == Condition(Comparison(Rollup("avg", cpu, 300), ">", 90), 300)
    assert parse('90 < last(i{ifName=~"Gi.*"}) or nodata(up, 1h) and cpu_usage <= 5') == Condition(Or((
        Comparison(Rollup("last", Selector("i", (Matcher("ifName", "=~", "Gi.*"),)), 600), ">", 90),
        And((NoData(Selector("up"), 3600), Comparison(Rollup("last", cpu, 600), "<=", 5))),
    )))


@pytest.mark.parametrize(("expression", "seconds"), [
    ("avg(cpu_usage) > 90 for 5m", 300), ("ping_packet_loss > 20 for 2m", 120), ("x > 1 for 30s", 30),
    ("(a > 1 or b > 1) for 1h", 3600), ("nodata(x, 5m) for 1d", 86400), ("x > 1 for 2w", 1209600),
    ("interface_status == 0", None),
])
def test_it_gives_the_seconds_of_the_for_clause(expression, seconds):
    assert held_for(parse(expression)) == seconds


def test_it_lists_the_metrics_it_reads():
    condition = parse('avg(cpu) > 1 and (mem{a="b"} > 2 or nodata(up, 5m)) or rate(cpu) > 3')
    assert metrics(condition) == {"cpu", "mem", "up"}


@pytest.mark.parametrize(("expression", "recovery"), [
    ("nodata(snmp_uptime, 5m)", "present_over_time(snmp_uptime[5m])"),
    ('nodata(up{device="x"}, 10m) for 5m', 'present_over_time(up{device="x"}[10m])'),
    ("nodata(a, 5m) or nodata(b, 1h)", "present_over_time(a[5m]) and on(device_id) present_over_time(b[1h])"),
    ("nodata(a, 5m) and (nodata(b, 1h) or nodata(c, 1m))",
     "present_over_time(a[5m]) or on(device_id) "
     "(present_over_time(b[1h]) and on(device_id) present_over_time(c[1m]))"),
    ("avg(cpu_usage) > 90", None),
    ("last(up) < 1 or nodata(up, 10m)", None),
])
def test_only_a_nodata_condition_implies_a_recovery_query(expression, recovery):
    assert recovery_metricsql(parse(expression)) == recovery


# --- errors --------------------------------------------------------------------------------------------------------

ERRORS = [
    ("", 1, 1, "expected a condition such as avg(cpu_usage) > 90"),
    ("avg(cpu_usage) >", 1, 17, "expected a number after '>'"),
    ("avg(cpu_usage) > high", 1, 18, "expected a number after '>', found 'high'"),
    ("avg(cpu_usage)", 1, 15, "expected a comparison operator (>, >=, <, <=, ==, !=) after ')'"),
    ("cpu_usage = 5", 1, 11,
     "expected a comparison operator (>, >=, <, <=, ==, !=) after 'cpu_usage', found '='"),
    ("average(cpu_usage) > 90", 1, 1,
     "unknown function 'average': use last, avg, min, max, sum, count, rate, delta or nodata"),
    ("nodata(snmp_uptime)", 1, 1, "nodata needs a window, e.g. nodata(snmp_uptime, 5m)"),
    ("nodata(snmp_uptime, 5m) == 1", 1, 25,
     "expected 'and', 'or', 'for' or the end of the expression after ')', found '=='"),
    ("avg(cpu_usage, 5x) > 90", 1, 16,
     "'5x' is not a duration: write a whole number and s, m, h, d or w, e.g. 5m"),
    ("avg(cpu_usage, 1.5m) > 90", 1, 16,
     "'1.5m' is not a duration: write a whole number and s, m, h, d or w, e.g. 5m"),
    ("avg(cpu_usage, 0m) > 90", 1, 16, "'0m': a duration must be longer than 0"),
    ("cpu_usage > 90 for 5", 1, 20,
     "'5' is not a duration: write a whole number and s, m, h, d or w, e.g. 5m"),
    ("cpu_usage > 90 for 0s", 1, 20, "'0s': a duration must be longer than 0"),
    ("avg(cpu_usage,) > 90", 1, 15, "expected a duration such as 5m after ',', found ')'"),
    ('x{ifName=~"Gi[0-9"} > 1', 1, 11, '"Gi[0-9" is not a regular expression: unterminated character set'),
    ('x{ifName!~"(a"} > 1', 1, 11, '"(a" is not a regular expression: missing ), unterminated subpattern'),
    ("x > 1.2.3", 1, 5, "'1.2.3' is not a number"),
    ("x > 90%", 1, 7, "expected 'and', 'or', 'for' or the end of the expression after '90', found '%'"),
    ("x > 1e999", 1, 5, "'1e999' is not a number"),
    ('x{ifName="Gi0/1} > 1', 1, 10, 'unterminated string: a closing " is missing'),
    ("x{ifName='Gi0/1'} > 1", 1, 10, "expected a double-quoted string after '=', found \"'\""),
    ('x{ifName ~ "Gi"} > 1', 1, 10, "expected a label operator (=, !=, =~, !~) after 'ifName', found '~'"),
    ('x{a="b",} > 1', 1, 9, "expected a label name after ',', found '}'"),
    ("(a > 1 for 5m) and b > 1", 1, 8, "expected 'and', 'or' or ')' after '1', found 'for'"),
    ("a > 1 for 5m and b > 1", 1, 14, "expected the end of the expression after '5m', found 'and'"),
    ("a > 1 and\n  (b < 2 or", 2, 12, "expected a condition such as avg(cpu_usage) > 90 after 'or'"),
    ("a > 1 and\n  (b < 2 or c > 3", 2, 18, "expected 'and', 'or' or ')' after '3'"),
    ("a > 1 )", 1, 7, "expected 'and', 'or', 'for' or the end of the expression after '1', found ')'"),
    ("avg(x 5m) > 1", 1, 7, "expected ',', ')' or '{' after 'x', found '5m'"),
    ("a > 5 5", 1, 7, "expected 'and', 'or', 'for' or the end of the expression after '5', found '5'"),
    ("a >> 1", 1, 4, "expected a number after '>', found '>'"),
    ("@cpu > 1", 1, 1, "expected a condition such as avg(cpu_usage) > 90, found '@'"),
]


@pytest.mark.parametrize(("expression", "line", "column", "message"), ERRORS)
def test_it_points_at_the_offending_text(expression, line, column, message):
    with pytest.raises(ExpressionError) as caught:
        parse(expression)

    error = caught.value
    assert (error.line, error.column, error.message) == (line, column, message)
    lines = expression.split("\n")
    assert error.position == sum(len(text) + 1 for text in lines[:line - 1]) + column - 1
    assert str(error) == f"line {line}, column {column}: {message}"
    assert isinstance(error, ValueError)


# --- against VictoriaMetrics ---------------------------------------------------------------------------------------

DEVICES = {"a": "1", "b": "2"}
STEP = 30  # seconds between written samples
SAMPLES = 40  # per series, so 20 minutes of them
NEWEST = SAMPLES - 1


def write_series(metric: str, device: str, values, *, until: float = 2, **labels: str) -> None:
    """SAMPLES samples of one series, STEP seconds apart, the newest `until` seconds ago.

    `values` is a number, or a function of the sample's index (0 = the oldest, NEWEST = the newest). Keep `until`
    off multiples of STEP: then no sample sits on the edge of a window, where a query a moment later would differ.
    """
    now = time.time()
    series = {"device_id": DEVICES[device], "device": device, **labels}
    get_client().write(
        Sample(metric, series, values(i) if callable(values) else values, int((now - age) * 1000))
        for i, age in enumerate(until + STEP * k for k in reversed(range(SAMPLES))))


def result(expression: str, *, recovery: bool = False) -> list[dict]:
    """The series of the compiled expression (or of its recovery query) now."""
    client = get_client()
    client.flush()
    condition = parse(expression)
    return client.query(recovery_metricsql(condition) if recovery else to_metricsql(condition))


def found(expression: str, *labels: str, recovery: bool = False) -> set:
    """The devices (with `labels`, if given) for which the compiled expression holds now."""
    rows = result(expression, recovery=recovery)
    if labels:
        return {(row["metric"]["device"], *(row["metric"][name] for name in labels)) for row in rows}
    return {row["metric"]["device"] for row in rows}


def values(expression: str) -> dict[str, float]:
    """{device: value} of the compiled expression now."""
    return {row["metric"]["device"]: float(row["value"][1]) for row in result(expression)}


@pytest.fixture
def vm(victoria_url, redis_spool) -> None:
    """An empty VictoriaMetrics, written to and queried through the project's client."""


@pytest.mark.parametrize(("expression", "devices"), [
    ("cpu_usage > 90", {"a"}),
    ("cpu_usage < 20", {"b"}),
    ("90 < last(cpu_usage)", {"a"}),
    ("cpu_usage >= 10", {"a", "b"}),
    ("cpu_usage == 10", {"b"}),
    ("cpu_usage != 10", {"a"}),
    ("cpu_usage > 99", set()),
])
def test_a_threshold_finds_the_devices_above_or_below_it(vm, expression, devices):
    write_series("cpu_usage", "a", 95)
    write_series("cpu_usage", "b", 10)

    assert found(expression) == devices


def test_the_result_is_valued_by_the_function_and_keeps_the_labels(vm):
    write_series("cpu_usage", "a", 95, cpu="0")

    [row] = result("cpu_usage > 90")
    assert {"device_id": "1", "device": "a", "cpu": "0"}.items() <= row["metric"].items()
    assert float(row["value"][1]) == 95


def test_avg_min_max_and_count_look_over_the_window(vm):
    # a: high for 20 minutes, then one low sample; b: the opposite
    write_series("cpu_usage", "a", lambda i: 0 if i == NEWEST else 100)
    write_series("cpu_usage", "b", lambda i: 100 if i == NEWEST else 0)

    assert found("avg(cpu_usage, 5m) > 50") == {"a"}
    assert found("last(cpu_usage) > 50") == {"b"}
    assert found("max(cpu_usage, 5m) < 100") == set()
    assert found("min(cpu_usage) < 50") == {"a", "b"}
    assert found("max(cpu_usage, 1m) > 50 and min(cpu_usage, 1m) < 50") == {"a", "b"}
    assert values("count(cpu_usage, 5m) > 0") == {"a": 10, "b": 10}
    assert values("avg(cpu_usage, 5m) > 50") == {"a": 90}
    assert values("sum(cpu_usage, 1m) > 0") == {"a": 100, "b": 100}


def test_rate_and_delta_of_a_counter(vm):
    write_series("if_in_errors_total", "a", lambda i: 1000 + 10 * STEP * i)  # 10/s
    write_series("if_in_errors_total", "b", lambda i: 5 + STEP * i)  # 1/s

    assert found("rate(if_in_errors_total) > 5") == {"a"}
    assert values("rate(if_in_errors_total, 10m) > 0") == {"a": pytest.approx(10, rel=0.02),
                                                             "b": pytest.approx(1, rel=0.02)}
    assert found("delta(if_in_errors_total, 5m) > 1000") == {"a"}
    assert found("delta(if_in_errors_total, 5m) < 1000") == {"b"}


def test_label_filters_choose_the_series(vm):
    write_series("snmp_if_oper_status", "a", 2, ifName="Gi0/1", ifAlias='to "core" C:\\')
    write_series("snmp_if_oper_status", "a", 1, ifName="Gi0/2", ifAlias="")
    write_series("snmp_if_oper_status", "a", 2, ifName="Te1/0/1", ifAlias="")
    write_series("snmp_if_oper_status", "b", 1, ifName="Gi0/1", ifAlias="")
    write_series("snmp_if_oper_status", "b", 2, ifName="Te1/0/1", ifAlias="")

    assert found('snmp_if_oper_status{ifName=~"Gi\\d+/\\d+"} == 2', "ifName") == {("a", "Gi0/1")}
    assert found('snmp_if_oper_status{ifName=~"Gi0"} == 2', "ifName") == set()  # regexes match whole values
    assert found('snmp_if_oper_status{ifName!~"Gi.*"} == 2', "ifName") == {("a", "Te1/0/1"), ("b", "Te1/0/1")}
    assert found('snmp_if_oper_status{ifName="Gi0/1", device!="a"} == 1', "ifName") == {("b", "Gi0/1")}
    assert found('snmp_if_oper_status{ifAlias="to \\"core\\" C:\\\\"} > 0', "ifName") == {("a", "Gi0/1")}


@pytest.mark.parametrize(("expression", "devices"), [
    ("cpu_usage > 90 and memory_usage < 50", {"a"}),
    ("cpu_usage > 90 and memory_usage > 90", set()),
    ("cpu_usage > 90 or memory_usage > 90", {"a", "b"}),
    ("(cpu_usage > 90 or memory_usage > 90) and cpu_usage < 50", {"b"}),
    ("cpu_usage < 50 or memory_usage > 90 and cpu_usage > 90", {"b"}),  # and binds tighter
    ("cpu_usage > 90 or nodata(memory_usage, 5m)", {"a"}),
])
def test_and_or_combine_per_device(vm, expression, devices):
    write_series("cpu_usage", "a", 95)
    write_series("memory_usage", "a", 10)
    write_series("cpu_usage", "b", 10)
    write_series("memory_usage", "b", 95)

    assert found(expression) == devices


def test_and_keeps_the_left_series_of_each_device_where_the_right_holds(vm):
    write_series("snmp_if_oper_status", "a", 2, ifName="Gi0/1")
    write_series("snmp_if_oper_status", "b", 2, ifName="Gi0/1")
    write_series("cpu_usage", "a", 95)
    write_series("cpu_usage", "b", 10)

    assert found("snmp_if_oper_status == 2 and cpu_usage > 90", "ifName") == {("a", "Gi0/1")}


def test_nodata_finds_the_device_whose_samples_stopped_and_recovery_the_one_sending(vm):
    write_series("snmp_uptime_seconds", "a", lambda i: 1000 + STEP * i)
    write_series("snmp_uptime_seconds", "b", lambda i: 1000 + STEP * i, until=10 * 60 + 2)

    assert found("nodata(snmp_uptime_seconds, 5m)") == {"b"}
    assert values("nodata(snmp_uptime_seconds, 5m)") == {"b": pytest.approx(600, abs=15)}
    assert found("nodata(snmp_uptime_seconds, 15m)") == set()
    assert found("nodata(snmp_uptime_seconds, 5m)", recovery=True) == {"a"}
    assert found("nodata(snmp_uptime_seconds, 15m)", recovery=True) == {"a", "b"}

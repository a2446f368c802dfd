r"""Rule expressions: parsed with lark (LALR) into a `Condition`, compiled to one MetricsQL query.

Alert rules (`alerts`) and template triggers (`templates_app`) are written in this language, so it lives below
both, beside the VictoriaMetrics client whose query language it compiles to: templates check their triggers with
it without importing `alerts`, and it needs nothing from either (docs/architecture.md, "Layers").

The language (docs/templates.md "Trigger expressions"):

    expression  condition [for DURATION]            the condition must hold that long (held_for)
    condition   condition or condition | condition and condition | ( condition )    and binds tighter
              | value OP number | number OP value   OP: >  >=  <  <=  ==  !=
              | nodata(selector, DURATION)          the series had no sample for DURATION
    value       FUNCTION(selector[, DURATION]) | selector        a bare selector is last(selector)
    FUNCTION    last avg min max sum count rate delta            the window defaults to 5m (last: 10m)
    selector    metric[{label OP "value", ...}]     OP: =  !=  =~  !~  (regexes match the whole value)

Metric and label names are `[a-zA-Z_][a-zA-Z0-9_]*`; a metric called `nodata` must be written `last(nodata)`.
Durations are wardsite.durations': a whole number and one unit, s m h d w (`30s`, `5m`, `1h`), never 0. Numbers may be negative,
decimal or use an exponent (`-100`, `1.5`, `1e9`). Strings are double-quoted; `\"` and `\\` are their escapes
and any other backslash is kept, so a regex reads `"Gi\d+/0/\d+"`. Regexes are checked with Python's `re`;
VictoriaMetrics runs them as Go RE2, which has no lookarounds or backreferences.

Compiled MetricsQL (to_metricsql) returns one series per (device, labels) for which the condition holds now,
labels kept (device_id, device, ifName...), valued by the function:

    last(x, w=10m)   last_over_time(x[w])       LAST_LOOKBACK: a series silent for longer has no last value
    avg(x, w=5m)     avg_over_time(x[w])        likewise min, max, sum, count: *_over_time
    rate(x, w=5m)    rate(x[w])                 per second
    delta(x, w=5m)   delta(x[w])
    f(x) > 90        f(x) > 90                  filtering comparison, never `bool`; `90 < f(x)` -> `f(x) > 90`
    A and B          A and on(device_id) B      combined per device: A's series of devices where B holds
    A or B           A or on(device_id) B       A's series, and B's of devices where A does not hold
    nodata(x, w)     lag(x[1d]) > w             seen within NODATA_LOOKBACK (1d), no sample for w seconds

The `for` clause is not compiled: the engine holds the condition for held_for() seconds. A condition made only
of nodata(...) recovers when data is present again (recovery_metricsql); any other recovers when it stops holding.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.parsers.lalr_interactive_parser import InteractiveParser

from wardsite.durations import format_duration, parse_duration
from wardsite.text import QUOTE_LIMIT, shorten
from wardsite.exposition import escape_label_value

DEFAULT_WINDOW = 300  # seconds, for every function but last
LAST_LOOKBACK = 600  # seconds: how far back last() looks for the newest sample
NODATA_LOOKBACK = 86400  # seconds: series silent for longer are forgotten by nodata() (VM cannot list them)
ROLLUPS = {
    "last": "last_over_time", "avg": "avg_over_time", "min": "min_over_time", "max": "max_over_time",
    "sum": "sum_over_time", "count": "count_over_time", "rate": "rate", "delta": "delta",
}
FLIPPED = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "==": "==", "!=": "!="}

_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")
_STRING_ESCAPE = re.compile(r'\\([\\"])')

# NUMBER and DURATION are looser than the language so that "5x" or "1.2.3" is one token we can name in an error.
_GRAMMAR = r"""
start: or_test [_FOR DURATION]
?or_test: and_test (_OR and_test)*
?and_test: atom (_AND atom)*
?atom: value COMPARATOR NUMBER -> comparison
     | NUMBER COMPARATOR value -> flipped_comparison
     | NODATA "(" selector ["," DURATION] ")" -> nodata
     | "(" or_test ")"
value: NAME "(" selector ["," DURATION] ")" -> rollup
     | selector -> last_value
selector: NAME [labels]
labels: "{" [matcher ("," matcher)*] "}"
matcher: LABEL MATCH_OP STRING

_FOR: "for"
_AND: "and"
_OR: "or"
NODATA: "nodata"
NAME: /[a-zA-Z_][a-zA-Z0-9_]*/
LABEL: /[a-zA-Z_][a-zA-Z0-9_]*/
COMPARATOR: ">=" | "<=" | "==" | "!=" | ">" | "<"
MATCH_OP: "=~" | "!~" | "!=" | "="
NUMBER: /[-+]?\.?[0-9](?:[eE][-+]|[\w.])*/
DURATION: /[0-9][\w.]*/
STRING: /"(?:[^"\\\n]|\\.)*"/
%ignore /\s+/
"""

# What each terminal is called in "expected ..." messages, in the order they are listed.
_WORDS = {
    "NODATA": "a condition such as avg(cpu_usage) > 90",
    "NUMBER": "a number",
    "COMPARATOR": "a comparison operator (>, >=, <, <=, ==, !=)",
    "NAME": "a metric name",
    "LABEL": "a label name",
    "MATCH_OP": "a label operator (=, !=, =~, !~)",
    "STRING": "a double-quoted string",
    "DURATION": "a duration such as 5m",
    "_AND": "'and'", "_OR": "'or'", "_FOR": "'for'",
    "COMMA": "','", "LPAR": "'('", "RPAR": "')'", "LBRACE": "'{'", "RBRACE": "'}'",
    "$END": "the end of the expression",
}
# Alternatives not worth listing next to the main one: a condition may start with a name, number or '(';
# after `cpu_usage`, '{' and '(' are possible too but a comparison is what is missing.
_IMPLIED = {"NODATA": {"NAME", "NUMBER", "LPAR"}, "COMPARATOR": {"LBRACE", "LPAR"}}


class ExpressionError(ValueError):
    """An expression that does not parse or validate; position/line/column point at the offending text."""

    def __init__(self, message: str, position: int | None = None, line: int | None = None,
                 column: int | None = None) -> None:
        self.message = message
        self.position = position
        self.line = line
        self.column = column
        super().__init__(f"line {line}, column {column}: {message}" if line is not None else message)

    @classmethod
    def at(cls, text: str, position: int, message: str) -> ExpressionError:
        """The error at a 0-based offset of `text`."""
        line = text.count("\n", 0, position) + 1
        return cls(message, position, line, position - (text.rfind("\n", 0, position) + 1) + 1)

    @classmethod
    def at_token(cls, token: Token, message: str) -> ExpressionError:
        return cls(message, token.start_pos, token.line, token.column)


@dataclass(frozen=True)
class Matcher:
    """A label filter: `ifName=~"Gi.*"`."""

    label: str
    operator: str  # = != =~ !~
    value: str  # unescaped


@dataclass(frozen=True)
class Selector:
    """A metric with its label filters."""

    metric: str
    matchers: tuple[Matcher, ...] = ()


@dataclass(frozen=True)
class Rollup:
    """A function of a selector over a window: `avg(cpu_usage, 5m)`."""

    function: str  # a key of ROLLUPS
    selector: Selector
    window: int  # seconds


@dataclass(frozen=True)
class Comparison:
    """`value operator threshold`, the value always on the left."""

    value: Rollup
    operator: str
    threshold: float


@dataclass(frozen=True)
class NoData:
    """`nodata(selector, window)`: a series that had no sample for `window` seconds."""

    selector: Selector
    window: int


@dataclass(frozen=True)
class And:
    conditions: tuple[Test, ...]


@dataclass(frozen=True)
class Or:
    conditions: tuple[Test, ...]


Test = Comparison | NoData | And | Or


@dataclass(frozen=True)
class Condition:
    """A parsed expression: what must hold, and for how long (None: no `for` clause)."""

    test: Test
    for_seconds: int | None = None


@v_args(inline=True)
class _Builder(Transformer):
    """Builds the tree while the LALR parser reduces, validating what the grammar lets through."""

    def start(self, test: Test, duration: Token | None) -> Condition:
        return Condition(test, None if duration is None else _seconds(duration))

    def or_test(self, *tests: Test) -> Or:
        return Or(tests)

    def and_test(self, *tests: Test) -> And:
        return And(tests)

    def comparison(self, value: Rollup, operator: Token, number: Token) -> Comparison:
        return Comparison(value, operator.value, _number(number))

    def flipped_comparison(self, number: Token, operator: Token, value: Rollup) -> Comparison:
        return Comparison(value, FLIPPED[operator.value], _number(number))

    def nodata(self, name: Token, selector: Selector, window: Token | None) -> NoData:
        if window is None:
            raise ExpressionError.at_token(name, f"nodata needs a window, e.g. nodata({selector.metric}, 5m)")
        return NoData(selector, _seconds(window))

    def rollup(self, name: Token, selector: Selector, window: Token | None) -> Rollup:
        if name.value not in ROLLUPS:
            raise ExpressionError.at_token(
                name, f"unknown function '{name.value}': use {', '.join(ROLLUPS)} or nodata")
        default = LAST_LOOKBACK if name.value == "last" else DEFAULT_WINDOW
        return Rollup(name.value, selector, default if window is None else _seconds(window))

    def last_value(self, selector: Selector) -> Rollup:
        return Rollup("last", selector, LAST_LOOKBACK)

    def selector(self, name: Token, matchers: tuple[Matcher, ...] | None) -> Selector:
        return Selector(name.value, matchers or ())

    def labels(self, *matchers: Matcher | None) -> tuple[Matcher, ...]:
        return tuple(m for m in matchers if m is not None)

    def matcher(self, label: Token, operator: Token, string: Token) -> Matcher:
        value = _STRING_ESCAPE.sub(r"\1", string.value[1:-1])
        if operator.value in ("=~", "!~"):
            try:
                re.compile(value)
            except re.error as exc:
                raise ExpressionError.at_token(string, f"{shorten(string.value, QUOTE_LIMIT)} is not a regular expression: {exc.msg}")
        return Matcher(label.value, operator.value, value)


_PARSER = Lark(_GRAMMAR, parser="lalr", transformer=_Builder())


def _seconds(token: Token) -> int:
    try:
        return parse_duration(token.value)
    except ValueError as exc:
        raise ExpressionError.at_token(token, str(exc)) from None


def _number(token: Token) -> float:
    if not _NUMBER.fullmatch(token.value) or math.isinf(value := float(token.value)):
        raise ExpressionError.at_token(token, f"{_quoted(token.value)} is not a number")
    return value


def parse(text: str) -> Condition:
    """The condition `text` states; ExpressionError pointing at the first problem."""
    interactive = _PARSER.parse_interactive(text)
    tokens: list[Token] = []
    try:
        for token in interactive.iter_parse():  # yields each token before feeding it to the parser
            tokens.append(token)
        return interactive.feed_eof(tokens[-1] if tokens else None)
    except UnexpectedInput as exc:
        raise _syntax_error(text, exc, tokens, _expected(text, exc, tokens, interactive)) from None


def _expected(text: str, exc: UnexpectedInput, tokens: list[Token], interactive: InteractiveParser) -> set[str]:
    """The terminals the parser would have taken where it failed.

    LALR may reduce on a lookahead it then refuses, which leaves the parser past the point of failure: the tokens
    before the refused one are replayed into a fresh parser instead. A lexer error happens before any feeding.
    """
    if isinstance(exc, UnexpectedToken) and exc.token.type == "$END":
        accepted = tokens
    elif isinstance(exc, UnexpectedToken) and tokens and exc.token is tokens[-1]:
        accepted = tokens[:-1]
    else:
        return interactive.accepts()
    replay = _PARSER.parse_interactive(text)
    for token in accepted:
        replay.feed_token(token)
    return replay.accepts()


def _syntax_error(text: str, exc: UnexpectedInput, tokens: list[Token], expected: set[str]) -> ExpressionError:
    """What was expected where, after which token, and what was found instead."""
    found = None
    if isinstance(exc, UnexpectedCharacters):
        position = exc.pos_in_stream
        if text[position] == '"':
            return ExpressionError.at(text, position, 'unterminated string: a closing " is missing')
        found = text[position]
    elif isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        position, found = exc.token.start_pos, exc.token.value
    else:  # the text ended early: point just after its last token
        position = tokens[-1].end_pos if tokens else 0
    for main, implied in _IMPLIED.items():
        if main in expected:
            expected -= implied
    words = [word for terminal, word in _WORDS.items() if terminal in expected]
    message = f"expected {words[0] if len(words) == 1 else ', '.join(words[:-1]) + ' or ' + words[-1]}"
    before = [token for token in tokens if token.end_pos <= position]
    if before:
        message += f" after {_quoted(before[-1].value)}"
    if found is not None:
        message += f", found {_quoted(found)}"
    return ExpressionError.at(text, position, message)


def _quoted(text: str) -> str:
    text = text if len(text) <= 30 else f"{text[:29]}…"
    return f'"{text}"' if "'" in text else f"'{text}'"


def metrics(condition: Condition) -> set[str]:
    """The metric names the condition reads."""
    return {selector.metric for selector in _selectors(condition.test)}


def _selectors(test: Test) -> list[Selector]:
    if isinstance(test, (And, Or)):
        return [selector for part in test.conditions for selector in _selectors(part)]
    return [test.selector if isinstance(test, NoData) else test.value.selector]


def held_for(condition: Condition) -> int | None:
    """Seconds of the trailing `for` clause, or None."""
    return condition.for_seconds


def to_metricsql(condition: Condition) -> str:
    """One MetricsQL query returning the series for which the condition holds now (see the module docstring)."""
    return _compile(condition.test)


def recovery_metricsql(condition: Condition) -> str | None:
    """For a condition made only of nodata(...): the query of the series whose data is present again, else None.

    lag() forgets a series silent for NODATA_LOOKBACK, so "nodata no longer holds" would resolve such alerts
    while the device is still silent; this query resolves them only once samples arrive again.
    """
    return _recovery(condition.test)


def _recovery(test: Test) -> str | None:
    """The negation of a nodata-only tree (De Morgan: and <-> or), None if it holds a comparison."""
    if isinstance(test, NoData):
        return f"present_over_time({_selector(test.selector)}[{format_duration(test.window)}])"
    if isinstance(test, Comparison):
        return None
    parts = [_recovery(part) for part in test.conditions]
    if None in parts:
        return None
    operator = "or" if isinstance(test, And) else "and"
    return f" {operator} on(device_id) ".join(
        text if isinstance(part, NoData) else f"({text})" for text, part in zip(parts, test.conditions))


def _compile(test: Test) -> str:
    if isinstance(test, Comparison):
        value = test.value
        rollup = f"{ROLLUPS[value.function]}({_selector(value.selector)}[{format_duration(value.window)}])"
        return f"{rollup} {test.operator} {_number_text(test.threshold)}"
    if isinstance(test, NoData):
        return f"lag({_selector(test.selector)}[{format_duration(NODATA_LOOKBACK)}]) > {test.window}"
    operator = "and" if isinstance(test, And) else "or"
    return f" {operator} on(device_id) ".join(
        f"({_compile(part)})" if isinstance(part, (And, Or)) else _compile(part) for part in test.conditions)


def _selector(selector: Selector) -> str:
    if not selector.matchers:
        return selector.metric
    matchers = ", ".join(f'{m.label}{m.operator}"{escape_label_value(m.value)}"'
                         for m in selector.matchers)
    return f"{selector.metric}{{{matchers}}}"


def _number_text(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)

"""Zabbix trigger expressions -> our trigger language (docs/templates.md "Trigger expressions"), or why not."""
from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from decimal import Decimal, DivisionByZero, InvalidOperation
from typing import Any

from templates_app.zabbix.common import (
    LLD_MACRO, NUMBER, USER_MACRO, _Macros, _Skip, _number_text, _seconds, _unescape, _zabbix_number)
from templates_app.zabbix.drafts import _Draft
from wardsite.durations import format_duration
from wardsite.text import quote

FUNCTIONS = {"last", "avg", "min", "max", "sum", "count", "nodata", "rate"}
LINEAR = {"last", "avg", "min", "max", "sum", "rate"}  # scale with the item's value: thresholds follow a multiplier
OURS = {"=": "==", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
FLIPPED = {"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
OPERATIONS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "=": operator.eq,
              "<>": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


class _Parser:
    """Zabbix 6.0+ expressions to a tree: ('num', Decimal) ('macro', text) ('str', text) ('lld', text)
    ('call', name, (host, key) or None, args) ('neg', x) ('not', x) (operator, left, right)."""

    def __init__(self, text: str) -> None:
        self.text, self.pos = text, 0

    def parse(self) -> tuple:
        node = self._or()
        self._space()
        if self.pos < len(self.text):
            raise _Skip(f"cannot read the expression at {quote(self.text[self.pos:self.pos + 30])}")
        return node

    def _binary(self, operators: tuple[str, ...], operand) -> tuple:
        node = operand()
        while op := self._operator(operators):
            node = (op, node, operand())
        return node

    def _or(self) -> tuple:
        return self._binary(("or",), self._and)

    def _and(self) -> tuple:
        return self._binary(("and",), self._not)

    def _not(self) -> tuple:
        return ("not", self._not()) if self._operator(("not",)) else self._binary(("=", "<>"), self._relational)

    def _relational(self) -> tuple:
        return self._binary(("<=", ">=", "<", ">"), self._additive)

    def _additive(self) -> tuple:
        return self._binary(("+", "-"), self._multiplicative)

    def _multiplicative(self) -> tuple:
        return self._binary(("*", "/"), self._unary)

    def _unary(self) -> tuple:
        return ("neg", self._unary()) if self._operator(("-",)) else self._primary()

    def _operator(self, operators: tuple[str, ...]) -> str | None:
        self._space()
        for op in operators:
            end = self.pos + len(op)
            if not self.text.startswith(op, self.pos):
                continue
            following = self.text[end:end + 1]
            if op.isalpha() and (following.isalnum() or following == "_"):
                continue
            if op == "<" and following == ">":
                continue
            self.pos = end
            return op
        return None

    def _primary(self) -> tuple:
        self._space()
        if self._take("("):
            node = self._or()
            self._expect(")")
            return node
        for kind, pattern in (("num", NUMBER), ("macro", USER_MACRO), ("str", re.compile(r'"((?:[^"\\]|\\.)*)"')),
                              ("lld", LLD_MACRO)):
            match = pattern.match(self.text, self.pos)
            if match:
                self.pos = match.end()
                if kind == "num":
                    return (kind, _zabbix_number(match[0]))
                return (kind, _unescape(match[1]) if kind == "str" else match[0])
        match = re.compile(r"([a-z_][a-z0-9_]*)\s*\(").match(self.text, self.pos)
        if not match:
            raise _Skip(f"cannot read the expression at {quote(self.text[self.pos:self.pos + 30])}")
        self.pos = match.end()
        return self._call(match[1])

    def _call(self, name: str) -> tuple:
        self._space()
        if self.text.startswith("/", self.pos):  # a history function: /host/key, then plain arguments
            query = self._raw_argument().strip()
            slash = query.find("/", 1)
            if slash < 0:
                raise _Skip(f"cannot read the item {quote(query)}")
            args = []
            while self._take(","):
                args.append(self._raw_argument().strip())
            self._expect(")")
            return ("call", name, (query[1:slash], query[slash + 1:]), args)
        args = []
        if not self._take(")"):
            args.append(self._or())
            while self._take(","):
                args.append(self._or())
            self._expect(")")
        return ("call", name, None, args)

    def _raw_argument(self) -> str:
        """Text up to the next ',' or ')' outside brackets and quotes."""
        start, depth, quoted = self.pos, 0, False
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if quoted:
                if char == "\\":
                    self.pos += 1
                elif char == '"':
                    quoted = False
            elif char == '"':
                quoted = True
            elif char in "[(":
                depth += 1
            elif char in "])" and depth:
                depth -= 1
            elif char in ",)" and not depth:
                break
            self.pos += 1
        return self.text[start:self.pos]

    def _space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def _take(self, token: str) -> bool:
        self._space()
        if self.text.startswith(token, self.pos):
            self.pos += len(token)
            return True
        return False

    def _expect(self, token: str) -> None:
        if not self._take(token):
            raise _Skip(f"cannot read the expression: expected {quote(token)} at "
                        f"{quote(self.text[self.pos:self.pos + 30])}")


@dataclass
class _Value:
    """A history function of one item: `avg(metric, 5m)`."""

    function: str
    item: _Draft
    window: str | None = None

    @property
    def text(self) -> str:
        return f"{self.function}({self.item.metric}{f', {self.window}' if self.window else ''})"


@dataclass
class _Condition:
    """A translated condition; `for_text` is the same with min/max over a window as `last` held `for_window`."""

    text: str
    precedence: str = "atom"  # atom | and | or
    for_text: str | None = None
    for_window: str | None = None


class _Translator:
    """Zabbix trigger expressions -> our trigger subset (docs/templates.md "Trigger expressions"), or _Skip why not."""

    def __init__(self, template: str, macros: _Macros, items: dict[str, _Draft | str]) -> None:
        """`template` names the template, `items` maps its Zabbix item keys to drafts (or why not imported)."""
        self.template, self.macros, self.items = template, macros, items
        self.rules: set[str | None] = set()  # LLD rules of the items referred to (None: scalar items)

    def condition(self, expression: str) -> _Condition:
        result = self._as_condition(self._node(_Parser(expression).parse()))
        if isinstance(result, bool):
            raise _Skip(f"always {'true' if result else 'false'} once macros are resolved")
        return result

    def _node(self, node: tuple) -> Decimal | bool | _Value | _Condition:
        kind = node[0]
        if kind == "num":
            return node[1]
        if kind == "macro":
            return _zabbix_number(self.macros.value(node[1]), node[1])
        if kind == "str":
            raise _Skip(f'compares with the text "{node[1]}" (only numbers are compared)')
        if kind == "lld":
            raise _Skip(f"uses {node[1]} outside an item key")
        if kind == "call":
            return self._call(node[1], node[2], node[3])
        if kind in ("neg", "not"):
            operand = self._node(node[1])
            if kind == "neg" and isinstance(operand, Decimal):
                return -operand
            if kind == "not" and isinstance(operand, bool):
                return not operand
            raise _Skip("negates an item value" if kind == "neg" else "not(...) has no equivalent")
        op, left, right = node[0], self._node(node[1]), self._node(node[2])
        if op in ("and", "or"):
            return self._logical(op, self._as_condition(left), self._as_condition(right))
        if op in ("+", "-", "*", "/"):
            return self._arithmetic(op, left, right)
        return self._compare(op, left, right)

    def _call(self, name: str, query: tuple[str, str] | None, args: list) -> _Value:
        if query is None or name not in FUNCTIONS:
            raise _Skip(f"function {name}() has no equivalent")
        item = self._item(*query)
        if name == "last":
            if args and args[0] not in ("", "#1"):
                raise _Skip(f"last() of an older value ({args[0]}) has no equivalent")
            return _Value("last", item)
        if not args or not args[0]:
            raise _Skip(f"{name}() without a time window")
        if name == "count" and any(args[1:]):
            raise _Skip("count() with an operator or pattern has no equivalent")
        if name == "nodata" and any(a.strip('"') for a in args[1:]):
            raise _Skip(f"nodata() mode {args[1]} has no equivalent")
        return _Value(name, item, self._window(args[0]))

    def _item(self, host: str, key: str) -> _Draft:
        if host and host != self.template:
            raise _Skip(f"refers to item {key} of another template ({host})")
        ref = self.items.get(key)
        if ref is None:
            raise _Skip(f"refers to item {key}, which the template does not have")
        if isinstance(ref, str):
            raise _Skip(f"refers to item {key}, which was not imported: {ref}")
        self.rules.add(ref.rule)
        return ref

    def _window(self, text: str) -> str:
        resolved = self.macros.resolve(text)
        if resolved.startswith("#"):
            raise _Skip(f"a window of the last {resolved[1:]} values ({text}) has no equivalent")
        if ":" in resolved:
            raise _Skip(f"the time shift in {text} has no equivalent")
        return format_duration(_seconds(resolved, "window"))

    def _as_condition(self, value: Any) -> bool | _Condition:
        if isinstance(value, (bool, _Condition)):
            return value
        if isinstance(value, _Value) and value.function == "nodata":
            return _Condition(value.text)
        raise _Skip(f"uses {value.text if isinstance(value, _Value) else value} as a condition (no equivalent)")

    def _logical(self, op: str, left: bool | _Condition, right: bool | _Condition) -> bool | _Condition:
        for constant, other in ((left, right), (right, left)):
            if isinstance(constant, bool):
                if op == "and":
                    return other if constant else False
                return True if constant else other
        if op == "or":  # parentheses where and/or mix, though and binds tighter: easier to read
            return _Condition(" or ".join(f"({c.text})" if c.precedence == "and" else c.text for c in (left, right)),
                              "or")
        text = " and ".join(f"({c.text})" if c.precedence == "or" else c.text for c in (left, right))
        both_for = left.for_text and right.for_text and left.for_window == right.for_window
        return _Condition(text, "and", f"{left.for_text} and {right.for_text}" if both_for else None,
                          left.for_window if both_for else None)

    def _arithmetic(self, op: str, left: Any, right: Any) -> Decimal:
        if not (isinstance(left, Decimal) and isinstance(right, Decimal)):
            raise _Skip("arithmetic on item values has no equivalent")
        try:
            return OPERATIONS[op](left, right)
        except (DivisionByZero, InvalidOperation):
            raise _Skip("divides by zero") from None

    def _compare(self, op: str, left: Any, right: Any) -> bool | _Condition:
        if isinstance(left, Decimal) and isinstance(right, Decimal):
            return OPERATIONS[op](left, right)
        if isinstance(left, Decimal) and isinstance(right, _Value):
            left, right, op = right, left, FLIPPED[op]
        if not (isinstance(left, _Value) and isinstance(right, Decimal)):
            raise _Skip("compares two item values" if isinstance(right, _Value) else "compares conditions")
        if left.function == "nodata":
            if (op, right) in (("=", 1), ("<>", 0)):
                return _Condition(left.text)
            raise _Skip("nodata() is translated only as nodata(...)=1")
        if left.item.row_scale and left.function in LINEAR:
            raise _Skip(f"{left.item.zabbix_key} is stored without its per-row multiplier {left.item.row_scale}")
        scale = left.item.scale if left.function in LINEAR else None
        if scale is not None:
            right = right / scale
            op = FLIPPED[op] if scale < 0 else op
        text = f"{OURS[op]} {_number_text(right)}"
        held = (left.function, op) in (("min", ">"), ("min", ">="), ("max", "<"), ("max", "<="))
        return _Condition(f"{left.text} {text}", "atom", f"last({left.item.metric}) {text}" if held else None,
                          left.window if held else None)

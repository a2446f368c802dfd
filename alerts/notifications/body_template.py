"""Webhook body templates: Django's template syntax cut down to placeholders and `{% if %}`, rendered within bounds.

The context is every field of a message as a JSON value, i.e. text, so a `{% for %}` could only walk the characters
of a text, and nested it grows the body ~50x per level (depth 4 took 5 s). Loops, filters (`center:"100000000"`)
and every tag but `if` and `comment` are refused when the template is read; nesting, the template's length, the
rendered length and the rendering time have limits. The output is checked after every node, so a render that passes
a limit stops there.
"""
from __future__ import annotations

import time
from typing import Any

from django.template import Context, Engine, Library, TemplateSyntaxError, defaulttags
from django.template.base import Lexer, NodeList, TokenType
from django.utils.safestring import SafeString

from wardsite.text import quote, shorten

MAX_TEMPLATE_CHARS = 10_000
MAX_NESTING = 5  # {% if %} inside {% if %}…
MAX_RENDERED_CHARS = 100_000
MAX_RENDER_SECONDS = 1.0
_OPENING = {"if": "endif", "comment": "endcomment"}
_ALLOWED = {*_OPENING, *_OPENING.values(), "elif", "else"}

register = Library()  # the engine's only builtins: the tags above, no filters
register.tag("if", defaulttags.do_if)
register.tag("comment", defaulttags.comment)


class BodyTemplateError(ValueError):
    """A body template refused when read, or a render that passed a limit."""


class _BodyEngine(Engine):
    default_builtins = [__name__]


_ENGINE = _BodyEngine()


class _Budget:
    def __init__(self) -> None:
        self.chars, self.deadline = 0, time.monotonic() + MAX_RENDER_SECONDS

    def spend(self, chars: int) -> None:
        self.chars += chars
        if self.chars > MAX_RENDERED_CHARS:
            raise BodyTemplateError(f"the rendered body is longer than {MAX_RENDERED_CHARS:,} characters")
        if time.monotonic() > self.deadline:
            raise BodyTemplateError(f"rendering the body took longer than {MAX_RENDER_SECONDS:g} s")


class _BoundedNodeList(NodeList):
    """Renders node by node, counting what it gives against the context's budget."""

    def render(self, context: Context) -> SafeString:
        parts = []
        for node in self:
            part = node.render_annotated(context)
            context.budget.spend(len(part))
            parts.append(part)
        return SafeString("".join(parts))


def render(template: str, values: dict[str, Any]) -> str:
    """`template` rendered with `values` (no escaping); BodyTemplateError if it is refused or passes a limit."""
    _check_tags(template)
    try:
        compiled = _ENGINE.from_string(template)
    except TemplateSyntaxError as exc:
        raise BodyTemplateError(f"the body template is not valid: {shorten(str(exc))}") from None
    _bound(compiled.nodelist)
    context = Context(values, autoescape=False)
    context.budget = _Budget()
    return compiled.render(context)


def _check_tags(template: str) -> None:
    """Length, tags and nesting, from the tokens alone: nothing is compiled or rendered before these pass."""
    if len(template) > MAX_TEMPLATE_CHARS:
        raise BodyTemplateError(f"the body template has {len(template):,} characters, {MAX_TEMPLATE_CHARS:,} at most")
    open_tags: list[str] = []
    for token in Lexer(template).tokenize():
        if open_tags and open_tags[-1] == "comment" and token.contents != "endcomment":
            continue  # a comment's content is not read
        if token.token_type is TokenType.VAR and "|" in token.contents:
            raise BodyTemplateError(f"line {token.lineno}: filters ({quote(token.contents, 30)}) are not allowed "
                                    "in a body template")
        if token.token_type is not TokenType.BLOCK:
            continue
        name = token.contents.split()[0] if token.contents.split() else ""
        if name not in _ALLOWED:
            raise BodyTemplateError(f"line {token.lineno}: {{% {name[:30]} %}} is not allowed in a body "
                                    "template: placeholders such as {{ title }}, {% if %} and {% comment %} only")
        if name in _OPENING:
            open_tags.append(name)
            if len(open_tags) > MAX_NESTING:
                raise BodyTemplateError(f"line {token.lineno}: tags nested more than {MAX_NESTING} deep")
        elif open_tags and name == _OPENING[open_tags[-1]]:
            open_tags.pop()


def _bound(nodelist: NodeList) -> None:
    """Make every node list of the compiled template count its output (only {% if %} nodes hold others)."""
    nodelist.__class__ = _BoundedNodeList
    for node in nodelist:
        for _, child in getattr(node, "conditions_nodelists", ()):
            _bound(child)

"""YAML from outside (template imports): safe types only, and no alias of a node that itself holds aliases.

An alias repeats what its anchor holds, so a few hundred bytes of aliases of aliases stand for millions of nodes
(the "billion laughs"). One level, such as a value map shared by several items of our library, costs at most
the size of the text times the number of aliases, so that is allowed; deeper nesting is refused where it appears.
"""
from __future__ import annotations

from typing import Any

import yaml


class _OneLevelAliasLoader(yaml.SafeLoader):
    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._aliases, self._nesting = 0, set()  # aliases seen so far; anchors whose node holds an alias

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in self._nesting:
                raise yaml.composer.ComposerError(
                    None, None, f"YAML aliases of nodes that hold aliases (*{event.anchor[:40]}) are not accepted",
                    event.start_mark)
            self._aliases += 1
            return super().compose_node(parent, index)
        before = self._aliases
        node = super().compose_node(parent, index)
        if getattr(event, "anchor", None) and self._aliases > before:
            self._nesting.add(event.anchor)
        return node


def load(text: str) -> Any:
    """The data of a YAML text; yaml.YAMLError for bad YAML or an alias of a node holding aliases."""
    return yaml.load(text, Loader=_OneLevelAliasLoader)  # noqa: S506 (a SafeLoader)

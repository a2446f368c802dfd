"""YAML from outside (template imports): safe types only, and no aliases.

An alias repeats what its anchor holds, so a few hundred bytes of nested aliases stand for millions of nodes (the
"billion laughs"); nothing we read needs them, so they are refused where they appear.
"""
from __future__ import annotations

from typing import Any

import yaml


class _NoAliasLoader(yaml.SafeLoader):
    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, f"YAML aliases (*{event.anchor[:40]}) are not accepted",
                                              event.start_mark)
        return super().compose_node(parent, index)


def load(text: str) -> Any:
    """The data of a YAML text; yaml.YAMLError for bad YAML or an alias."""
    return yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 (a SafeLoader)

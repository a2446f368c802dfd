"""Alerts suppressed before suppression was typed keep their words and get their type (migration 0007)."""
from __future__ import annotations

from importlib import import_module

import pytest

migration = import_module("alerts.migrations.0007_typed_suppression")


@pytest.mark.parametrize("text, suppression", [
    ("maintenance 'core-1 upgrade'", "maintenance"),
    ("flapping: fired 5 times in 10 min", "flapping"),
    ("core-1 is down", "device_down"),
    ("core-1 is down (edge-1 depends on it)", "parent_down"),
    ("core-1 was down until 14:02:11", "recovering"),
    ("core-1 was down until 14:02:11 (edge-1 depends on it)", "parent_recovering"),
])
def test_every_text_the_engine_wrote_gets_its_type(text, suppression):
    assert migration.suppression_of(text) == suppression

"""Template triggers are in the rule language: every shipped trigger and every one the Zabbix importer writes
parses (wardsite.expressions)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from templates_app.zabbix import convert
from wardsite.expressions import metrics, parse

TEMPLATES_APP = Path(__file__).resolve().parents[1]
ZABBIX_EXPORTS = TEMPLATES_APP / "tests" / "data" / "zabbix"


def _expressions(triggers: list[dict]) -> list[str]:
    return [text for trigger in triggers for text in (trigger["expression"], trigger.get("recovery_expression"))
            if text]


def _default_trigger_expressions() -> list[str]:
    found = []
    for path in sorted((TEMPLATES_APP / "defaults").glob("*.yaml")):
        found += _expressions(yaml.safe_load(path.read_text()).get("triggers") or [])
    return sorted(set(found))


def _zabbix_trigger_expressions() -> list[str]:
    found = []
    for path in sorted(ZABBIX_EXPORTS.iterdir()):
        for result in convert(path.read_text(), filename=path.name):
            found += _expressions(result.document.get("triggers") or [])
    return sorted(set(found))


@pytest.mark.parametrize("expression", _default_trigger_expressions())
def test_every_default_template_trigger_parses(expression):
    assert metrics(parse(expression))


@pytest.mark.parametrize("expression", _zabbix_trigger_expressions())
def test_every_trigger_the_zabbix_importer_writes_parses(expression):
    assert metrics(parse(expression))


def test_the_zabbix_exports_give_triggers_of_every_shape():
    """Guards the test above: the importer still writes ==, !=, parentheses, and/or and nodata."""
    expressions = " ".join(_zabbix_trigger_expressions())
    assert all(part in expressions for part in ("==", "!=", "(", " and ", " or ", "nodata("))

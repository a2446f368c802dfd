"""The default library: loaded, upgraded when unedited, never clobbering local edits."""
from __future__ import annotations

import copy

import pytest
import yaml

from templates_app.choices import TemplateOrigin
from templates_app.document import parse_document
from templates_app.library import canonical, default_specs, load_defaults, save_spec, spec_of
from templates_app.models import MonitoringTemplate
from templates_app.tests.test_document import GOOD

pytestmark = pytest.mark.django_db

BASE = {"format": "wardflux-template/1", "key": "lab-base", "name": "Lab base",
        "items": [{"key": "uptime_ticks", "oid": "1.3.6.1.2.1.1.3.0", "value_type": "integer"}]}


def ship(directory, *documents: dict) -> None:
    for document in documents:
        (directory / f"{document['key']}.yaml").write_text(yaml.safe_dump(document))


def test_defaults_load_in_include_order_and_a_second_load_changes_nothing(tmp_path):
    ship(tmp_path, {**GOOD, "includes": ["lab-base"]}, BASE)
    assert load_defaults(tmp_path).created == ["lab-base", "lab-linux"]
    assert MonitoringTemplate.objects.get(key="lab-linux").origin == TemplateOrigin.BUILTIN
    assert load_defaults(tmp_path).unchanged == ["lab-base", "lab-linux"]


def test_an_unedited_default_is_upgraded_and_an_edited_one_kept(tmp_path):
    ship(tmp_path, GOOD, BASE)
    load_defaults(tmp_path)
    edited = MonitoringTemplate.objects.get(key="lab-base")
    edited.items.update(interval_seconds=10)  # an operator's change in the admin

    newer = copy.deepcopy(GOOD)
    newer.update(version=3, description="now with more")
    ship(tmp_path, newer, {**BASE, "version": 2, "description": "v2"})
    report = load_defaults(tmp_path)

    assert report.upgraded == ["lab-linux"] and report.kept_local_edits == ["lab-base"]
    assert MonitoringTemplate.objects.get(key="lab-linux").description == "now with more"
    base = MonitoringTemplate.objects.get(key="lab-base")
    assert base.version == 1 and base.available_version == 2 and base.items.get().interval_seconds == 10


def test_a_local_template_with_a_default_key_is_left_alone(tmp_path):
    save_spec(parse_document(BASE))
    ship(tmp_path, BASE)
    assert load_defaults(tmp_path).kept_local_edits == ["lab-base"]
    assert MonitoringTemplate.objects.get(key="lab-base").origin == TemplateOrigin.LOCAL


def test_every_shipped_default_is_valid_and_loaded_by_migrate():
    specs = default_specs()
    loaded = {t.key: t for t in MonitoringTemplate.objects.filter(origin=TemplateOrigin.BUILTIN)}
    assert set(loaded) == {spec.key for spec in specs}
    for spec in specs:
        assert spec_of(loaded[spec.key]) == canonical(spec)

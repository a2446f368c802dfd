"""Template triggers as alert rules: made and kept in line with the template, scoped to the devices it is applied
to (also through templates that include it), with per-device overrides that survive re-import."""
from __future__ import annotations

import copy

import pytest

from alerts.models import Alert, AlertRule, NotificationChannel, RuleOverride
from alerts.tests.test_engine import evaluate, every, write
from devices.models import Device
from templates_app.document import parse_document
from templates_app.library import save_spec
from templates_app.models import TemplateAssignment, TemplateTrigger

pytestmark = pytest.mark.usefixtures("victoria_url")

BASE = {"format": "wardflux-template/1", "key": "lab-base", "name": "Lab base",
        "items": [{"key": "lab_cpu", "name": "CPU", "oid": "1.3.6.1.4.1.99.1.0"}],
        "triggers": [{"name": "High CPU", "expression": "last(lab_cpu) > 90", "severity": "high", "for": "1m"}]}
TOP = {"format": "wardflux-template/1", "key": "lab-top", "name": "Lab top", "includes": ["lab-base"]}


def test_every_default_trigger_has_its_rule(db):
    triggers = TemplateTrigger.objects.all()
    assert triggers.count() > 20
    assert {t.pk for t in triggers} == set(AlertRule.objects.filter(template_trigger__isnull=False)
                                           .values_list("template_trigger", flat=True))
    rule = AlertRule.objects.get(template_trigger__template__key="generic-snmp", template_trigger__name="Device restarted")
    assert rule.name == "Generic SNMP: Device restarted" and rule.expression == "last(snmp_uptime_seconds) < 600"
    assert [t.key for t in rule.templates.all()] == ["generic-snmp"]


def test_re_importing_keeps_the_rule_and_what_the_operator_set(db):
    template = save_spec(parse_document(BASE))
    rule = AlertRule.objects.get(template_trigger__template=template)
    hook = NotificationChannel.objects.create(name="hook", kind="webhook", settings={"url": "http://127.0.0.1:9/"})
    rule.channels.add(hook)
    device = Device.objects.create(name="core-1", address="127.0.0.1")
    RuleOverride.objects.create(rule=rule, device=device, expression="last(lab_cpu) > 99")
    changed = copy.deepcopy(BASE)
    changed["triggers"][0].update(expression="last(lab_cpu) > 95", severity="critical")
    save_spec(parse_document(changed))
    again = AlertRule.objects.get(template_trigger__template=template)
    assert (again.pk, again.expression, again.severity) == (rule.pk, "last(lab_cpu) > 95", "critical")
    assert list(again.channels.all()) == [hook] and again.overrides.get().expression == "last(lab_cpu) > 99"
    changed["triggers"] = []
    save_spec(parse_document(changed))
    assert not AlertRule.objects.filter(pk=rule.pk).exists()  # the trigger is gone, so is its rule


def test_a_template_rule_covers_devices_through_including_templates_with_their_overrides(db):
    base = save_spec(parse_document(BASE))
    top = save_spec(parse_document(TOP))
    devices = {name: Device.objects.create(name=name, address=f"127.0.2.{i}")
               for i, name in enumerate(["plain", "override", "off", "untemplated"], start=1)}
    for name in ("plain", "override", "off"):
        TemplateAssignment.objects.create(device=devices[name], template=top)
    for device in devices.values():
        write(device, "lab_cpu", every(0, 10, 97))
    rule = AlertRule.objects.get(template_trigger__template=base)
    RuleOverride.objects.create(rule=rule, device=devices["override"], expression="last(lab_cpu) > 99")
    RuleOverride.objects.create(rule=rule, device=devices["off"], enabled=False)
    evaluate(rule, 5)
    events = evaluate(rule, 7).events  # held for the trigger's minute
    assert [Alert.objects.get(pk=e.alert_id).device.name for e in events] == ["plain"]


def test_an_override_with_a_bad_expression_is_refused(db):
    rule = AlertRule.objects.get(template_trigger__template__key="generic-snmp", template_trigger__name="Device restarted")
    override = RuleOverride(rule=rule, device=Device.objects.create(name="d", address="127.0.0.1"),
                            expression="last(snmp_uptime_second) < 60")
    with pytest.raises(Exception, match="unknown metric 'snmp_uptime_second'"):
        override.full_clean()


def test_an_override_is_added_on_the_rule_page_and_a_bad_one_is_refused(admin_client, db):
    rule = AlertRule.objects.get(template_trigger__template__key="generic-snmp", template_trigger__name="Device restarted")
    device = Device.objects.create(name="core-1", address="127.0.0.1")
    page = f"/admin/alerts/alertrule/{rule.pk}/change/"
    assert "Generic SNMP: Device restarted" in admin_client.get(page).content.decode()
    form = {"name": rule.name, "expression": rule.expression, "severity": rule.severity, "enabled": "on",
            "repeat_minutes": 0, "overrides-TOTAL_FORMS": 1, "overrides-INITIAL_FORMS": 0,
            "overrides-0-device": device.pk, "overrides-0-enabled": "on", "overrides-0-expression": "last(snmp_uptime_seconds) <"}
    response = admin_client.post(page, form)
    assert response.status_code == 200 and "expected a number after" in response.content.decode()
    assert not RuleOverride.objects.exists()
    form["overrides-0-expression"] = "last(snmp_uptime_seconds) < 60"
    assert admin_client.post(page, form).status_code == 302
    assert rule.overrides.get().expression == "last(snmp_uptime_seconds) < 60"

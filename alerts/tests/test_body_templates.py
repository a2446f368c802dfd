"""Webhook body templates are rendered in a sandbox: loops, filters and other tags are refused when the channel is
saved (API 400 naming settings/body, admin form error), and a render that grows past its limit at delivery is a
permanent failure with a short reason."""
from __future__ import annotations

import json
import time

import pytest

from alerts import services
from alerts.models import Delivery, NotificationChannel
from alerts.notifications import body_template
from alerts.notifications.channels.webhook import render_body
from alerts.notifications.message import Message
from alerts.tests.test_notifications import alert, channel  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

CHANNELS = "/api/v1/monitoring/alerts/channels/"
# four nested loops over a title's ~45 characters: 45**4 (4 million) copies, 5 s with Django's full engine
NESTED_LOOPS = '{"t": "' + "".join(f"{{% for c{n} in title %}}" for n in range(4)) + "x" + "{% endfor %}" * 4 + '"}'


def save(api, body: str):
    return api.post(CHANNELS, {"name": "hook", "kind": "webhook", "settings": {
        "url": "http://127.0.0.1:9/", "body": body}}, format="json")


def test_the_documented_placeholders_and_if_keep_working():
    message = Message.test("hook")
    assert render_body('{"summary": {{ title }}, "value": {{ value }}, "labels": {{ labels }}}', message) == {
        "summary": "[TEST] Test notification on channel hook (info)", "value": None, "labels": {}}
    template = '{% if severity == \'"info"\' %}{"quiet": true}{% else %}{"text": {{ title }}}{% endif %}'
    assert render_body(template, message) == {"quiet": True}
    assert render_body('{# a note #}{% comment %}{% for %}{% endcomment %}{"e": {{ event }}}', message) == {"e": "test"}


def test_nested_loops_are_refused_at_save_with_a_clear_message(api):
    started = time.perf_counter()
    answer = save(api, NESTED_LOOPS)
    print(f"nested loops refused in {1000 * (time.perf_counter() - started):.1f} ms (API round trip)")
    assert answer.status_code == 400
    assert answer.json()["settings"] == [
        "body: line 1: {% for %} is not allowed in a body template: placeholders such as {{ title }}, {% if %} and "
        "{% comment %} only"]
    assert not NotificationChannel.objects.exists()


@pytest.mark.parametrize("body, problem", [
    ("{{ title|center:'100000000' }}", "filters (\"title|center:'100000000'\") are not allowed"),
    ("{% if event %}" * 6 + "1" + "{% endif %}" * 6, "tags nested more than 5 deep"),
    ("{%if a%}" * 1000, "tags nested more than 5 deep"),  # would be deeper than the parser's recursion limit
    ("{% load i18n %}1", "{% load %} is not allowed"),
    ("{% include 'x.html' %}", "{% include %} is not allowed"),
    (" " * 10_001 + "1", "the body template has 10,002 characters, 10,000 at most"),
    ("{% if %}1{% endif %}", "the body template is not valid"),
])
def test_what_the_sandbox_does_not_take_is_refused_naming_it(api, body, problem):
    answer = save(api, body)
    assert answer.status_code == 400
    (said,) = answer.json()["settings"]
    assert said.startswith("body: ") and problem in said and len(said) < 300, said


def test_the_admin_form_says_why(admin_client):
    answer = admin_client.post("/admin/alerts/notificationchannel/add/", {
        "name": "hook", "kind": "webhook", "enabled": "on", "secret": "",
        "settings": json.dumps({"url": "http://127.0.0.1:9/", "body": NESTED_LOOPS})})
    assert answer.status_code == 200 and not NotificationChannel.objects.exists()
    assert "{% for %} is not allowed in a body template" in str(answer.context["adminform"].form.errors["settings"])


def test_a_render_past_the_size_limit_is_a_permanent_failure_with_a_short_reason(alert, http_receiver):  # noqa: F811
    hook = channel("webhook", http_receiver.url, body='{"d": [' + ", ".join(["{{ description }}"] * 30) + "]}")
    alert.rule.description = "d" * 5_000  # 30 copies: 150 kB, past the 100 kB limit
    alert.rule.save()
    record = services.send_notification(alert.pk, hook.pk, "firing")
    assert (record.status, record.error) == (
        "failed", f"the rendered body is longer than {body_template.MAX_RENDERED_CHARS:,} characters")
    assert Delivery.objects.get().status == "failed" and http_receiver.requests == []


def test_a_render_past_the_time_limit_stops(monkeypatch):
    monkeypatch.setattr(body_template, "MAX_RENDER_SECONDS", -1.0)  # already late at the first node
    with pytest.raises(body_template.BodyTemplateError, match="rendering the body took longer than -1 s"):
        render_body('{"a": {{ title }}}', Message.test("hook"))

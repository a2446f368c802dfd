"""What scans may cost: credentials only for who may use them, targets only inside the allow-list (nothing sent
otherwise), scans at once per user and in total, rate and TCP port maxima, and schedules no more frequent than
DISCOVERY_MIN_SCHEDULE_MINUTES. Each refusal names the limit and its setting."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from discovery import limits, scanner, tasks
from discovery.models import DiscoveryRule, DiscoveryRun
from snmp.models import SNMPCredential
from tests.fixtures import api_client_for, user_with

pytestmark = pytest.mark.django_db
API = "/api/v1/monitoring/discovery"
RULES = "/admin/discovery/discoveryrule/"


@pytest.fixture(autouse=True)
def loopback(settings) -> None:
    settings.DISCOVERY_ALLOWED_NETWORKS = "127.0.0.0/24"
    settings.DISCOVERY_REVERSE_DNS = False  # no DNS traffic from tests


@pytest.fixture
def credential() -> SNMPCredential:
    return SNMPCredential.objects.create(name="core", version="v2c", community="s3cret-community", timeout_ms=200,
                                         retries=0)


def scanner_user(*extra: str) -> User:
    return user_with("discovery.add_discoveryrun", *extra)


class TestCredentialsAndTargets:
    def test_an_ad_hoc_scan_with_credentials_needs_the_right_to_use_them(self, credential):
        body = {"targets": "127.0.0.9", "credentials": ["core"]}
        refused = api_client_for(scanner_user()).post(f"{API}/scan", body, format="json")
        assert refused.status_code == 403 and "snmp.use_snmpcredential" in refused.json()["detail"]
        assert not DiscoveryRun.objects.exists()
        allowed = api_client_for(scanner_user("snmp.use_snmpcredential")).post(f"{API}/scan", body, format="json")
        assert allowed.status_code == 202
        plain = api_client_for(scanner_user()).post(f"{API}/scan", {"targets": "127.0.0.9"}, format="json")
        assert plain.status_code == 202  # no credential: ping only, for anyone who may scan

    def test_a_scan_outside_the_allow_list_is_refused_and_sends_nothing(self, api, credential, udp_listener):
        outside, inside = udp_listener("127.0.66.6", 161), udp_listener("127.0.0.9", 161)
        refused = api.post(f"{API}/scan", {"targets": "127.0.66.6", "credentials": ["core"]}, format="json")
        assert refused.status_code == 400 and "refused by the allow-list: 127.0.66.6/32" in refused.json()["targets"][0]
        assert not DiscoveryRun.objects.exists() and outside.received() == []
        # the control: inside the allow-list the worker's scan sends the credential
        accepted = api.post(f"{API}/scan", {"targets": "127.0.0.9", "credentials": ["core"]}, format="json")
        assert accepted.status_code == 202
        scanner.execute(accepted.json()["run"])
        assert any(b"s3cret-community" in datagram for datagram in inside.received())

    def test_the_size_limit_counts_every_target_of_a_scan(self, api, settings):
        settings.DISCOVERY_MAX_ADDRESSES = 300
        answer = api.post(f"{API}/scan", {"targets": "127.0.0.0/25, 127.0.0.128/25, 127.0.0.1-127.0.0.60"},
                          format="json")
        assert answer.status_code == 400
        assert "316 addresses, more than DISCOVERY_MAX_ADDRESSES (300)" in answer.json()["targets"][0]


class TestScansAtOnce:
    def test_a_user_may_have_two_scans_at_once_then_gets_a_429_naming_the_setting(self):
        client = api_client_for(scanner_user())
        for _ in range(2):
            assert client.post(f"{API}/scan", {"targets": "127.0.0.9"}, format="json").status_code == 202
        third = client.post(f"{API}/scan", {"targets": "127.0.0.9"}, format="json")
        assert third.status_code == 429 and "DISCOVERY_MAX_SCANS_PER_USER" in third.json()["detail"]
        assert api_client_for(scanner_user()).post(f"{API}/scan", {"targets": "127.0.0.9"},
                                                   format="json").status_code == 202  # another user may

    def test_the_total_counts_every_users_scans_and_the_command(self, settings):
        settings.DISCOVERY_MAX_SCANS = 3
        for _ in range(3):
            assert api_client_for(scanner_user()).post(f"{API}/scan", {"targets": "127.0.0.9"},
                                                       format="json").status_code == 202
        refused = api_client_for(scanner_user()).post(f"{API}/scan", {"targets": "127.0.0.9"}, format="json")
        assert refused.status_code == 429 and "3 scans are queued or running already" in refused.json()["detail"]
        assert "DISCOVERY_MAX_SCANS" in refused.json()["detail"]
        with pytest.raises(CommandError, match="DISCOVERY_MAX_SCANS") as refusal:
            call_command("discover", "127.0.0.9")
        assert refusal.value.returncode == 2

    def test_finished_and_stale_runs_do_not_count(self, settings):
        settings.DISCOVERY_MAX_SCANS_PER_USER = 1
        user = scanner_user()
        client = api_client_for(user)
        assert client.post(f"{API}/scan", {"targets": "127.0.0.9"}, format="json").status_code == 202
        assert client.post(f"{API}/scan", {"targets": "127.0.0.9"}, format="json").status_code == 429
        # its worker died: still "running" after DISCOVERY_RUN_STALE_MINUTES, it no longer blocks
        DiscoveryRun.objects.filter(requested_by=user).update(
            state="running", created=timezone.now() - timedelta(minutes=settings.DISCOVERY_RUN_STALE_MINUTES + 1))
        assert client.post(f"{API}/scan", {"targets": "127.0.0.9"}, format="json").status_code == 202
        DiscoveryRun.objects.filter(requested_by=user).update(state="finished")
        assert client.post(f"{API}/scan", {"targets": "127.0.0.9"}, format="json").status_code == 202

    def test_scan_now_in_the_admin_says_why_it_refused(self, admin_client, settings):
        settings.DISCOVERY_MAX_SCANS = 1
        rules = [DiscoveryRule.objects.create(name=name, targets="127.0.0.9") for name in ("one", "two")]
        page = admin_client.post(RULES, {"action": "scan_now", "_selected_action": [r.pk for r in rules]},
                                 follow=True)
        shown = sorted(str(m) for m in page.context["messages"])
        assert shown[0].startswith("one: run #") and "DISCOVERY_MAX_SCANS" in shown[1]
        assert DiscoveryRun.objects.count() == 1


class TestRateAndPorts:
    def test_a_rule_above_the_rate_or_port_maxima_is_a_400_naming_the_setting(self, api):
        fast = api.post(f"{API}/rules", {"name": "fast", "targets": "127.0.0.0/24", "rate_limit": 5001},
                        format="json")
        assert fast.status_code == 400 and "DISCOVERY_MAX_RATE (5000)" in fast.json()["rate_limit"][0]
        ports = ", ".join(str(port) for port in range(1, 66))
        many = api.post(f"{API}/rules", {"name": "ports", "targets": "127.0.0.0/24", "tcp_ports": ports},
                        format="json")
        assert many.status_code == 400 and "65 TCP ports" in many.json()["tcp_ports"][0]
        assert "DISCOVERY_MAX_TCP_PORTS (64)" in many.json()["tcp_ports"][0]
        assert not DiscoveryRule.objects.exists()

    def test_a_rule_saved_before_the_maxima_is_refused_when_scanned(self, api):
        rule = DiscoveryRule.objects.create(name="old", targets="127.0.0.9")
        DiscoveryRule.objects.filter(pk=rule.pk).update(rate_limit=100_000)
        answer = api.post(f"{API}/scan", {"rule": "old"}, format="json")
        assert answer.status_code == 400 and "DISCOVERY_MAX_RATE" in answer.json()["rule"][0]
        assert not DiscoveryRun.objects.exists()

    def test_the_admin_form_refuses_a_rate_above_the_maximum(self, admin_client):
        from discovery.tests.test_admin import rule_form

        page = admin_client.post(f"{RULES}add/", rule_form(targets="127.0.0.0/24", rate_limit="100000"))
        assert "DISCOVERY_MAX_RATE" in page.context["adminform"].form.errors["rate_limit"][0]


class TestSchedules:
    @pytest.mark.parametrize("cron, gap", [
        ("* * * * *", 1), ("*/30 * * * *", 30), ("0 * * * *", 60), ("0 0,23 * * *", 60), ("0 3 * * *", 1440),
        ("0 0,23 * * 1,3,5", 1380),  # never two days in a row: 23:00 to 00:00 does not happen
        ("0 0,23 1,31 * *", 60),  # the 31st at 23:00, then the 1st at 00:00
    ])
    def test_the_shortest_gap_of_a_schedule(self, cron, gap):
        assert limits.shortest_gap_minutes(cron) == gap

    def test_a_schedule_more_frequent_than_the_minimum_is_a_400_and_a_form_error(self, api, admin_client,
                                                                                  settings):
        from discovery.tests.test_admin import rule_form

        answer = api.post(f"{API}/rules", {"name": "every", "targets": "127.0.0.0/24", "schedule": "* * * * *"},
                          format="json")
        assert answer.status_code == 400
        assert "every 1 minute(s)" in answer.json()["schedule"][0]
        assert "DISCOVERY_MIN_SCHEDULE_MINUTES" in answer.json()["schedule"][0]
        page = admin_client.post(f"{RULES}add/", rule_form(targets="127.0.0.0/24", schedule_cron="*/30 * * * *"))
        assert "DISCOVERY_MIN_SCHEDULE_MINUTES" in page.context["adminform"].form.errors["schedule_cron"][0]
        assert not DiscoveryRule.objects.exists()
        assert api.post(f"{API}/rules", {"name": "hourly", "targets": "127.0.0.0/24", "schedule": "0 * * * *"},
                        format="json").status_code == 201
        settings.DISCOVERY_MIN_SCHEDULE_MINUTES = 30
        assert api.post(f"{API}/rules", {"name": "half", "targets": "127.0.0.0/24", "schedule": "*/30 * * * *"},
                        format="json").status_code == 201

    def test_a_scheduled_run_too_soon_after_the_last_is_skipped(self, caplog):
        rule = DiscoveryRule.objects.create(name="edited", targets="127.0.0.9")
        DiscoveryRun.objects.create(rule=rule, targets=rule.targets, state="finished")  # the schedule's last run
        tasks.run_rule(rule.pk)  # its Periodic task was edited to run every minute
        assert DiscoveryRun.objects.filter(rule=rule).count() == 1
        assert "scheduled run skipped" in caplog.text and "DISCOVERY_MIN_SCHEDULE_MINUTES" in caplog.text

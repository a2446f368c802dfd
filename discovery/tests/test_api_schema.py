"""Discovery's responses match the API schema (found by the API fuzz, tests/test_fuzz_api.py): a rule shows its
credentials and schedule, an ad-hoc run has no rule and no duration until it ends, a result may have no credential
and no matched device."""
import pytest

from discovery.models import DiscoveryResult, DiscoveryRule, DiscoveryRun
from snmp.models import SNMPCredential
from tests.openapi import assert_conforms

pytestmark = pytest.mark.django_db


def test_a_rule_is_shown_with_its_credentials_and_schedule(api):
    SNMPCredential.objects.create(name="lab", community="public")
    response = api.post("/api/v1/monitoring/discovery/rules/", {"name": "lab", "targets": "10.0.0.0/30",
                                                                "credentials": ["lab"], "schedule": "daily"},
                        format="json")
    assert response.status_code == 201, response.content
    assert response.json()["credentials"] == ["lab"] and response.json()["schedule"]
    assert_conforms(response, "post", "/api/v1/monitoring/discovery/rules/")
    assert_conforms(api.get("/api/v1/monitoring/discovery/rules/"), "get", "/api/v1/monitoring/discovery/rules/")


def test_an_ad_hoc_run_and_its_result_may_have_nulls(api):
    run = DiscoveryRun.objects.create(targets="10.0.0.1")
    DiscoveryResult.objects.create(run=run, ip="10.0.0.1")
    runs = api.get("/api/v1/monitoring/discovery/runs/")
    assert runs.json()["results"][0]["rule"] is None and runs.json()["results"][0]["duration_seconds"] is None
    assert_conforms(runs, "get", "/api/v1/monitoring/discovery/runs/")
    results = api.get("/api/v1/monitoring/discovery/results/")
    assert results.json()["results"][0]["credential"] is None
    assert_conforms(results, "get", "/api/v1/monitoring/discovery/results/")
    assert DiscoveryRule.objects.count() == 0

"""/healthz, /metrics and the admin's health banner against a VictoriaMetrics of this module's own (stopped and
started again here), the test Redis and a closed port standing for a Redis that is gone."""
from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from tests.services import RedisServer, VictoriaServer, free_port, own_victoria
from wardsite import health, heartbeats, kv, task_metrics

pytestmark = pytest.mark.django_db
TOKEN = "scrape-token-for-tests-0123456789"


@pytest.fixture(scope="module")
def health_victoria(tmp_path_factory) -> Iterator[VictoriaServer]:
    """A VictoriaMetrics only these tests stop and start."""
    with own_victoria(tmp_path_factory.mktemp("health-vm")) as server:
        yield server


@pytest.fixture
def healthy(health_victoria, settings) -> VictoriaServer:
    """Every part up: our VictoriaMetrics, every watched loop just ticked, no task waiting on a queue."""
    health_victoria.start()
    settings.VICTORIA_URL = health_victoria.url
    settings.METRICS_TOKEN = TOKEN
    _drop_waiting_tasks()
    for loop in heartbeats.watched():
        heartbeats.beat(loop.name)
    return health_victoria


def _drop_waiting_tasks() -> None:
    """Tasks earlier tests queued with no worker to take them (this test Redis database's own queues only)."""
    from wardsite.queues import known_queues

    connection = kv.connection()
    for queue in known_queues(connection):
        connection.delete(queue, *(f"{queue}\x06\x16{step}" for step in (3, 6, 9)))
    cache.delete(health.QUEUES_CACHE_KEY)


def get_health(client: Client | None = None):
    response = (client or Client()).get("/healthz")
    return response.status_code, response.json()


def test_it_is_healthy_with_everything_up_and_shows_details_to_staff_only(healthy, admin_client):
    status, body = get_health()
    assert (status, body) == (200, {"status": "ok", "failing": []})  # anonymous: the verdict only
    status, body = get_health(admin_client)
    assert status == 200 and body["problems"] == []
    assert {"database", "victoria", "redis", "beat", "icmp", "snmp", "alerts", "queues", "spool"} <= set(body["parts"])
    icmp = body["parts"]["icmp"]
    assert icmp["age_seconds"] < 30 and abs(icmp["lateness_seconds"] - max(0, icmp["age_seconds"] - 1)) < 0.2
    assert "chunks" in body["parts"]["spool"]


def test_a_stopped_victoria_is_named_and_recovery_is_seen(healthy, admin_client):
    healthy.stop()
    try:
        status, body = get_health()
        assert status == 503 and body == {"status": "unhealthy", "failing": ["victoria"]}
        assert "VictoriaMetrics is unreachable" in get_health(admin_client)[1]["problems"]
    finally:
        healthy.start()
    assert get_health() == (200, {"status": "ok", "failing": []})


def test_a_hung_victoria_is_named_after_the_health_timeout_and_recovery_is_seen(healthy, admin_client, settings):
    settings.HEALTH_TIMEOUT_SECONDS = 0.5
    healthy.pause()  # accepts connections, never answers
    try:
        status, body = get_health(admin_client)
        assert status == 503 and body["failing"] == ["victoria"]
        assert "VictoriaMetrics is unreachable" in body["problems"]
    finally:
        healthy.resume()
    assert get_health() == (200, {"status": "ok", "failing": []})


def test_an_unreachable_redis_is_named_without_its_password(healthy, admin_client, settings):
    settings.REDIS_URL = f"redis://:redis-secret-pass@127.0.0.1:{free_port()}/0"
    status, body = get_health(admin_client)
    assert status == 503 and body["failing"] == ["redis"] and "Redis is unreachable" in body["problems"]
    assert "redis-secret-pass" not in str(body)


def test_a_restarted_redis_is_unhealthy_while_down_and_healthy_again_after(healthy, settings, tmp_path):
    server = RedisServer(tmp_path / "redis")  # appendonly, as docker-compose's: the heartbeats survive the restart
    server.start()
    try:
        settings.REDIS_URL = server.url
        for loop in heartbeats.watched():
            heartbeats.beat(loop.name)
        assert get_health() == (200, {"status": "ok", "failing": []})
        server.stop()
        assert get_health() == (503, {"status": "unhealthy", "failing": ["redis"]})
        server.start()
        assert get_health() == (200, {"status": "ok", "failing": []})
    finally:
        server.stop()


def test_a_stale_icmp_cycle_is_unhealthy_until_it_ticks_again(healthy, admin_client):
    heartbeats.beat("icmp", at=time.time() - 600)
    status, body = get_health(admin_client)
    assert status == 503 and body["failing"] == ["icmp"]
    assert body["problems"] == ["no ICMP cycle for 10 minutes"]
    assert body["parts"]["icmp"]["lateness_seconds"] >= 590
    heartbeats.beat("icmp")
    assert get_health()[0] == 200


def test_a_loop_that_never_ticked_is_unhealthy(healthy):
    kv.connection().delete(heartbeats.KEY.format(name="alerts"))
    assert get_health() == (503, {"status": "unhealthy", "failing": ["alerts"]})


def test_the_admin_shows_a_banner_while_a_part_is_unhealthy(healthy, admin_client):
    assert 'id="health-banner"' not in admin_client.get("/admin/").content.decode()
    heartbeats.beat("icmp", at=time.time() - 130)
    page = admin_client.get("/admin/").content.decode()
    assert 'id="health-banner"' in page and "no ICMP cycle for 2 minutes" in page


# --- /metrics -----------------------------------------------------------------------------------------------------

def scrape(**headers) -> dict[str, list]:
    response = Client().get("/metrics", **headers)
    assert response.status_code == 200, response.content
    return {family.name: family.samples for family in text_string_to_metric_families(response.content.decode())}


def sample(families: dict[str, list], name: str, **labels) -> float:
    family = next(samples for samples in families.values() if any(s.name == name for s in samples))
    return next(s.value for s in family if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", f"Token {TOKEN}", "Bearer "])
def test_metrics_are_refused_without_the_token(healthy, authorization):
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    response = Client().get("/metrics", **headers)
    assert response.status_code == 401 and b"wardflux" not in response.content


def test_an_empty_token_setting_lets_only_staff_scrape(healthy, settings, client, admin_client, viewer):
    settings.METRICS_TOKEN = ""
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401
    client.force_login(viewer)  # logged in but not staff
    assert client.get("/metrics").status_code == 401
    assert admin_client.get("/metrics").status_code == 200


def test_metrics_parse_as_prometheus_text_and_count_real_task_runs(healthy):
    from wardsite.tasks import heartbeat

    bearer = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}
    before = scrape(**bearer)
    runs_before = _runs(before, "wardsite.heartbeat")
    cpu_before = _runs(before, "wardsite.heartbeat", "wardflux_task_cpu_seconds_total")
    heartbeat.apply()  # Celery's task_prerun/task_postrun signals fire as in a worker
    task_metrics.record("tests.failing", 0.7, 0.25, failed=True)
    after = scrape(**bearer)
    assert _runs(after, "wardsite.heartbeat") == runs_before + 1
    assert _runs(after, "wardsite.heartbeat", "wardflux_task_cpu_seconds_total") > cpu_before
    assert sample(after, "wardflux_task_cpu_seconds_total", task="tests.failing") >= 0.25
    assert sample(after, "wardflux_task_failures_total", task="tests.failing") >= 1
    assert sample(after, "wardflux_task_duration_seconds_bucket", task="tests.failing", le="1.0") >= 1
    assert sample(after, "wardflux_part_healthy", part="victoria") == 1
    assert 0 <= sample(after, "wardflux_loop_lateness_seconds", loop="icmp") < 30
    assert sample(after, "wardflux_deliveries", status="sent") == 0
    assert "wardflux_spool" in after
    # the heartbeat task wrote each loop's wardflux_loop_stopped (the built-in "Collection stopped" rule's series)
    assert (sample(after, "wardflux_samples_total", outcome="sent")
            >= _samples_sent(before) + len(heartbeats.watched()))


def _samples_sent(families: dict[str, list]) -> float:
    try:
        return sample(families, "wardflux_samples_total", outcome="sent")
    except StopIteration:
        return 0.0


def _runs(families: dict[str, list], task: str, name: str = "wardflux_task_runs_total") -> float:
    try:
        return sample(families, name, task=task)
    except StopIteration:
        return 0.0

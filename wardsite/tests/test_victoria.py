"""The VictoriaMetrics client against a real VictoriaMetrics and Redis."""
from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis
import requests

from tests.services import VictoriaServer, die_with_parent, free_port, stop_process
from tests.worker import wait_for
from wardsite import health
from wardsite.victoria import Sample, VictoriaClient, VictoriaError, format_samples, get_client, service_url

LABEL_VALUES = {
    "quote": 'say "hi"',
    "backslash": "C:\\temp\\",
    "newline": "line one\nline two",
    "unicode": "Zürich – 東京 ✓",
}


def _ms_ago(seconds: float) -> int:
    # Instant queries look at least 1 s into the past, so points meant for them are written a little earlier.
    return int((time.time() - seconds) * 1000)


def _exported(url: str, metric: str) -> dict[str, dict]:
    """Stored raw points per series of `metric`, keyed by its `phase`/`chunk` label (from /api/v1/export)."""
    # An explicit end: by default export, like queries, leaves out the last second.
    params = {"match[]": metric, "end": time.time() + 60}
    response = requests.get(f"{url}/api/v1/export", params=params, timeout=10)
    response.raise_for_status()
    series = [json.loads(line) for line in response.text.splitlines() if line]
    return {s["metric"].get("phase") or s["metric"].get("chunk"): s for s in series}


class _DownWorker(VictoriaClient):
    """A worker whose VictoriaMetrics does not answer, sharing the spool with the test's other clients; the
    breaker it opens closes after 1 ms, and a write returns once it has, so the others replay at once."""

    def write(self, samples) -> None:
        super().write(samples)
        wait_for(lambda: not self.spool.is_open(), 5, "the 1 ms breaker to close", interval=0.001)


def _client_while_vm_is_down(redis_url: str, spool_key: str) -> VictoriaClient:
    return _DownWorker(f"http://127.0.0.1:{free_port()}", breaker_seconds=0.001, redis_url=redis_url,
                       spool_key=spool_key)


def test_it_formats_exposition_lines_with_escaped_values_and_ms_timestamps():
    text = format_samples(
        [Sample("ifHCInOctets", {"ifName": 'Gi0/1 "a"\\\n'}, 5, 1700000000123), Sample("up", {}, float("nan"))],
        now_ms=42,
    )
    assert text == 'ifHCInOctets{ifName="Gi0/1 \\"a\\"\\\\\\n"} 5.0 1700000000123\nup NaN 42\n'


def test_samples_sharing_labels_and_samples_made_on_the_fly_each_get_their_own_labels():
    shared = {"device": "a"}

    def fresh():  # each sample's labels are dropped once it is formatted: their memory (and id) is reused
        for k in range(200):
            yield Sample("m", {"k": str(k)}, k, 1)

    lines = format_samples([Sample("x", shared, 1, 1), Sample("y", shared, 2, 1), *fresh()]).splitlines()
    assert lines[:2] == ['x{device="a"} 1.0 1', 'y{device="a"} 2.0 1']
    assert lines[2:] == [f'm{{k="{k}"}} {float(k)} 1' for k in range(200)]
    assert format_samples(fresh()).splitlines() == lines[2:]


def test_a_name_valid_for_a_metric_is_not_taken_for_a_valid_label_name():
    Sample("has:colon", {}, 1.0)
    with pytest.raises(ValueError, match="invalid label name"):
        Sample("ok", {"has:colon": "x"}, 1.0)


@pytest.mark.parametrize(
    ("name", "labels"),
    [("1st", {}), ("has-dash", {}), ("", {}), ("ok", {"bad-label": "x"}), ("ok", {"has:colon": "x"}),
     ("ok", {"0digit": "x"}), ("ok", {"device": "a", "": "x"}), ("ok", {"device": "a", 7: "x"})],
)
def test_it_rejects_invalid_names_when_the_sample_is_built(name, labels):
    # Raised while building the sample, so a bad name never gets as far as a write.
    with pytest.raises(ValueError, match="invalid"):
        Sample(name, labels, 1.0)


def test_it_writes_and_reads_back_values_and_labels(victoria_url, redis_spool):
    client = get_client()
    at = _ms_ago(5)
    samples = [Sample("wf_test_labels", {"case": case, "text": text}, i + 0.5, at)
               for i, (case, text) in enumerate(LABEL_VALUES.items())]

    assert client.write(samples) == len(LABEL_VALUES)
    client.flush()

    rows = client.query("wf_test_labels")
    assert {row["metric"]["case"]: (row["metric"]["text"], float(row["value"][1])) for row in rows} == {
        case: (text, i + 0.5) for i, (case, text) in enumerate(LABEL_VALUES.items())
    }


def test_it_returns_points_for_a_range_query(victoria_url, redis_spool):
    client = get_client()
    start = int(time.time()) // 10 * 10 - 60  # aligned to the step, so points fall exactly on written samples
    client.write(Sample("wf_test_range", {"device": "sw1"}, float(k), (start + 10 * k) * 1000) for k in range(6))
    client.flush()

    [series] = client.query_range("wf_test_range", start, start + 50, "10s")

    assert series["metric"] == {"__name__": "wf_test_range", "device": "sw1"}
    assert [(t, float(v)) for t, v in series["values"]] == [(start + 10 * k, float(k)) for k in range(6)]


def test_it_raises_vm_message_for_bad_metricsql(victoria_url):
    with pytest.raises(VictoriaError, match="HTTP 422.*unparsed data"):
        get_client().query("sum(rate(wf_test_range[5m])")
    with pytest.raises(VictoriaError, match='cannot parse "step"'):
        get_client().query_range("wf_test_range", 0, 60, "often")


def test_it_says_vm_is_unreachable_when_a_query_cannot_connect():
    with pytest.raises(VictoriaError, match="unreachable"):
        VictoriaClient(f"http://127.0.0.1:{free_port()}").query("up")


def test_it_stores_a_large_write_completely(victoria_url, redis_spool):
    client = get_client()
    total = 25_000  # two full chunks and a partial one
    at = _ms_ago(5)

    assert client.write(Sample("wf_test_bulk", {"ifIndex": str(i)}, float(i), at) for i in range(total)) == total
    client.flush()

    assert client.query("count(wf_test_bulk)")[0]["value"][1] == str(total)
    assert client.query("sum(wf_test_bulk)")[0]["value"][1] == str(sum(range(total)))
    assert client.spool_size() == 0


def test_it_raises_instead_of_spooling_a_write_vm_rejects(victoria_url, redis_spool, settings):
    client = VictoriaClient(f"{victoria_url}/wrong-prefix", redis_url=settings.VICTORIA_SPOOL_URL, spool_key=redis_spool)

    with pytest.raises(VictoriaError, match="HTTP 400.*unsupported path"):
        client.write([Sample("wf_test_rejected", {}, 1.0)])
    assert client.spool_size() == 0


def test_it_spools_the_outage_minute_and_replays_it_with_original_timestamps(
    victoria: VictoriaServer, victoria_url, redis_spool, settings
):
    settings.VICTORIA_BREAKER_SECONDS = 1
    client = get_client()
    client.write([Sample("wf_test_outage", {"phase": "before"}, 1.0, _ms_ago(90))])

    victoria.stop()
    try:
        now = time.time()
        outage = [Sample("wf_test_outage", {"phase": "outage"}, float(k), int((now - 60 + 10 * k) * 1000))
                  for k in range(7)]
        written_from = int(time.time() * 1000)
        assert client.write([*outage, Sample("wf_test_outage", {"phase": "stamped"}, 7.0)]) == 8
        written_until = int(time.time() * 1000)
        assert client.spool_size() > 0
    finally:
        victoria.start()

    wait_for(lambda: client.spool_stats()["breaker_open_until"] is None, 10, "the write breaker to close")
    client.write([Sample("wf_test_outage", {"phase": "after"}, 2.0, _ms_ago(1))])
    client.flush()

    assert client.spool_size() == 0
    series = _exported(victoria_url, "wf_test_outage")
    assert set(series) == {"before", "outage", "stamped", "after"}  # "before" also survived the restart
    assert series["outage"]["timestamps"] == [sample.timestamp_ms for sample in outage]
    assert series["outage"]["values"] == [float(k) for k in range(7)]
    # Stamped when the write failed, not when the spool was replayed.
    assert written_from <= series["stamped"]["timestamps"][0] <= written_until


def test_it_replays_spooled_chunks_oldest_first_up_to_max_chunks(victoria_url, redis_spool, settings):
    down = _client_while_vm_is_down(settings.VICTORIA_SPOOL_URL, redis_spool)
    for k in range(3):
        down.write([Sample("wf_test_order", {"chunk": str(k)}, float(k), _ms_ago(30 - k))])
    client = get_client()

    assert client.replay_spool(max_chunks=1) == 1
    assert client.spool_size() == 2
    assert set(_exported(victoria_url, "wf_test_order")) == {"0"}

    assert client.replay_spool() == 2
    assert client.spool_size() == 0
    assert set(_exported(victoria_url, "wf_test_order")) == {"0", "1", "2"}


def test_it_leaves_the_spool_alone_while_another_worker_replays(victoria_url, redis_spool, settings):
    down = _client_while_vm_is_down(settings.VICTORIA_SPOOL_URL, redis_spool)
    down.write([Sample("wf_test_locked", {"chunk": "0"}, 1.0, _ms_ago(10))])
    client = get_client()
    other_worker = redis.Redis.from_url(settings.VICTORIA_SPOOL_URL).lock(f"{redis_spool}:lock", timeout=60)
    assert other_worker.acquire(blocking=False)
    try:
        assert client.replay_spool() == 0
        assert client.write([Sample("wf_test_locked", {"chunk": "1"}, 2.0, _ms_ago(5))]) == 1
        assert client.spool_size() == 1
    finally:
        other_worker.release()

    assert client.replay_spool() == 1
    assert client.spool_size() == 0
    assert set(_exported(victoria_url, "wf_test_locked")) == {"0", "1"}


class _LockStealingSession(requests.Session):
    """Lets the replay lock run out during the POST and another worker take it (the POST itself is real)."""

    def __init__(self, connection: redis.Redis, lock_key: str) -> None:
        super().__init__()
        self.thief = connection.lock(lock_key, timeout=60)
        self._connection = connection

    def request(self, *args, **kwargs) -> requests.Response:
        self._connection.delete(self.thief.name)
        self.thief.acquire(blocking=False)
        return super().request(*args, **kwargs)


def test_it_keeps_the_chunk_when_its_replay_lock_runs_out_mid_post(victoria_url, redis_spool, settings):
    down = _client_while_vm_is_down(settings.VICTORIA_SPOOL_URL, redis_spool)
    down.write([Sample("wf_test_slow", {"chunk": "0"}, 1.0, _ms_ago(10))])
    session = _LockStealingSession(redis.Redis.from_url(settings.VICTORIA_SPOOL_URL), f"{redis_spool}:lock")
    client = VictoriaClient(victoria_url, redis_url=settings.VICTORIA_SPOOL_URL, spool_key=redis_spool, session=session)

    assert client.replay_spool() == 0
    assert client.spool_size() == 1  # left for the worker that holds the lock now
    assert session.thief.owned()


def test_it_raises_a_clear_error_when_vm_and_redis_are_both_down():
    client = VictoriaClient(
        f"http://127.0.0.1:{free_port()}", redis_url=f"redis://127.0.0.1:{free_port()}/0"
    )
    with pytest.raises(VictoriaError, match="VictoriaMetrics and the Redis spool are both down"):
        client.write([Sample("wf_test_lost", {}, 1.0)])


def test_it_raises_when_vm_is_down_and_no_spool_is_configured():
    with pytest.raises(VictoriaError, match="no Redis spool is configured"):
        VictoriaClient(f"http://127.0.0.1:{free_port()}").write([Sample("wf_test_lost", {}, 1.0)])


def test_it_builds_one_client_per_settings(victoria_url, redis_spool, settings):
    client = get_client()
    assert client is get_client()
    assert (client.base_url, client.spool_key) == (victoria_url, redis_spool)

    settings.VICTORIA_SPOOL_KEY = f"{redis_spool}:other"
    assert get_client().spool_key == f"{redis_spool}:other"


@pytest.fixture
def vmagent(victoria_url, tmp_path) -> Iterator[str]:
    """A real vmagent (Debian's victoria-metrics package) forwarding what it is sent to the test VictoriaMetrics
    with the label via="vmagent": what may stand in front of VictoriaMetrics or a cluster's vminsert."""
    port = free_port()
    with (tmp_path / "vmagent.log").open("wb") as log:
        agent = subprocess.Popen(
            ["vmagent", f"-httpListenAddr=127.0.0.1:{port}", f"-remoteWrite.url={victoria_url}/api/v1/write",
             f"-remoteWrite.tmpDataPath={tmp_path / 'vmagent'}", "-remoteWrite.flushInterval=100ms",
             "-remoteWrite.label=via=vmagent", "-loggerLevel=WARN"], stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(f"{url}/health"), 30, "vmagent to start",
                 seen=lambda: (tmp_path / "vmagent.log").read_text()[-1000:])
        yield url
    finally:
        stop_process(agent)


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).ok
    except requests.RequestException:
        return False


def test_writes_go_to_the_write_url_and_queries_to_the_read_url(vmagent, victoria_url, settings, redis_spool):
    settings.VICTORIA_URL = f"http://127.0.0.1:{free_port()}"  # nothing listens: neither side may use it
    settings.VICTORIA_WRITE_URL, settings.VICTORIA_READ_URL = vmagent, victoria_url
    client = get_client()
    assert client.write([Sample("wf_test_via_agent", {}, 42.0)]) == 1
    assert client.sample_counts()["sent"] == 1  # taken by vmagent at once, not spooled
    found = wait_for(lambda: client.flush() or client.query("wf_test_via_agent"), 30,
                     "the sample written through vmagent to be found on the read side")
    assert [(row["metric"].get("via"), row["value"][1]) for row in found] == [("vmagent", "42")]  # through it
    assert health.check_victoria().ok  # both sides answer /health


def test_a_cluster_url_is_checked_at_its_root():
    assert service_url("http://vmselect:8481/select/0/prometheus", "/health") == "http://vmselect:8481/health"
    assert service_url("http://vminsert:8480/insert/7:3/prometheus", "/flags") == "http://vminsert:8480/flags"
    assert service_url("http://127.0.0.1:8428", "/health") == "http://127.0.0.1:8428/health"

"""The spool that cannot hurt and the write breaker, against a real VictoriaMetrics and Redis."""
from __future__ import annotations

import json
import logging
import time

import pytest
import requests
from django.core.exceptions import ImproperlyConfigured

from tests.services import free_port
from tests.worker import wait_for
from wardsite.env import redis_url_next_db
from wardsite.victoria import CHUNK_LINES, Sample, VictoriaClient, VictoriaError, get_client, spool_stats
from wardsite.victoria_spool import HEADER_PREFIX

# VictoriaMetrics refuses a request with a line over 256 KiB ("too long line"): a chunk it will always reject.
TOO_LONG = "x" * 2_000_000


def _ms_ago(seconds: float) -> int:
    return int((time.time() - seconds) * 1000)


def _exported_chunks(url: str, metric: str) -> set[str]:
    """The `chunk` labels of the series of `metric` stored in VictoriaMetrics."""
    requests.get(f"{url}/internal/force_flush", timeout=10).raise_for_status()
    response = requests.get(f"{url}/api/v1/export", params={"match[]": metric, "end": time.time() + 60}, timeout=10)
    response.raise_for_status()
    return {json.loads(line)["metric"]["chunk"] for line in response.text.splitlines() if line}


def _down(settings, spool_key: str, **options) -> VictoriaClient:
    """A client whose VictoriaMetrics refuses connections; its breaker closes after 1 ms unless told otherwise."""
    options.setdefault("breaker_seconds", 0.001)
    return VictoriaClient(f"http://127.0.0.1:{free_port()}", redis_url=settings.VICTORIA_SPOOL_URL,
                          spool_key=spool_key, **options)


def _replay() -> int:
    """Replay the spool once the breaker a down client opened (for 1 ms) has closed: replay skips it while open."""
    wait_for(lambda: spool_stats()["breaker_open_until"] is None, 10, "the write breaker to close")
    return get_client().replay_spool()


def _spool_chunk(client: VictoriaClient, chunk: str, *, label: str = "", metric: str = "wf_test_spool") -> None:
    client.write([Sample(metric, {"chunk": chunk, "pad": label}, 1.0, _ms_ago(10))])


def test_it_drops_the_oldest_chunks_at_the_cap_and_counts_them(victoria_url, redis_spool, settings, caplog):
    down = _down(settings, redis_spool, spool_max_bytes=2500)
    pad = "p" * 900  # each chunk is about 1 KB: two fit under the cap, the third pushes the oldest out
    with caplog.at_level(logging.ERROR, logger="wardsite.victoria_spool"):
        for k in range(5):
            _spool_chunk(down, str(k), label=pad)

    stats = down.spool_stats()
    assert (stats["chunks"], stats["dropped_chunks"], stats["dropped_samples"]) == (2, 3, 3)
    assert 2000 < stats["bytes"] <= 2500
    assert "is full" in caplog.text and "dropped the oldest 1 chunks, 1 samples" in caplog.text

    assert _replay() == 2
    assert _exported_chunks(victoria_url, "wf_test_spool") == {"3", "4"}  # the newest were kept
    assert spool_stats()["bytes"] == 0 and spool_stats()["dropped_chunks"] == 3


def test_it_drops_a_chunk_larger_than_the_whole_cap(redis_spool, settings):
    down = _down(settings, redis_spool, spool_max_bytes=500)
    _spool_chunk(down, "big", label="p" * 600)
    assert down.spool_stats() | {"breaker_open_until": None} == {
        "chunks": 0, "bytes": 0, "dropped_chunks": 1, "dropped_samples": 1, "dead_letters": 0,
        "dead_letter_samples": 0, "dead_letters_kept": 0, "breaker_open_until": None}


def test_it_moves_a_chunk_vm_rejects_to_the_dead_letters_and_replays_the_next(victoria_url, redis_spool, settings,
                                                                              caplog):
    down = _down(settings, redis_spool)
    _spool_chunk(down, "0")
    _spool_chunk(down, "1", label=TOO_LONG)
    _spool_chunk(down, "2")

    with caplog.at_level(logging.ERROR, logger="wardsite.victoria"):
        assert _replay() == 2

    assert _exported_chunks(victoria_url, "wf_test_spool") == {"0", "2"}
    stats = spool_stats()
    assert (stats["chunks"], stats["bytes"]) == (0, 0)
    assert (stats["dead_letters"], stats["dead_letter_samples"], stats["dead_letters_kept"]) == (1, 1, 1)
    assert "too long line" in caplog.text and f"{redis_spool}:dead" in caplog.text
    assert get_client().sample_counts() == {"sent": 0, "replayed": 2, "spooled": 3}
    [dead] = get_client().spool.redis.lrange(f"{redis_spool}:dead", 0, -1)
    assert dead.startswith(HEADER_PREFIX) and TOO_LONG.encode() in dead  # kept whole, for a look


def test_it_keeps_only_the_newest_dead_letters_but_counts_them_all(victoria_url, redis_spool, settings):
    settings.VICTORIA_DEAD_LETTER_MAX_CHUNKS = 2
    down = _down(settings, redis_spool)
    for k in range(3):
        _spool_chunk(down, f"bad{k}", label=TOO_LONG)
    assert _replay() == 0
    stats = spool_stats()
    assert (stats["chunks"], stats["dead_letters"], stats["dead_letters_kept"]) == (0, 3, 2)


def test_it_stops_the_replay_and_keeps_the_chunks_when_vm_refuses_even_an_empty_write(victoria_url, redis_spool,
                                                                                     settings):
    # A wrong URL (here a path VictoriaMetrics does not serve) is refused with 400 too, but it is not the data's
    # fault: nothing may go to the dead letters.
    down = _down(settings, redis_spool)
    for k in range(2):
        _spool_chunk(down, str(k))
    wrong = VictoriaClient(f"{victoria_url}/wrong-prefix", redis_url=settings.VICTORIA_SPOOL_URL,
                           spool_key=redis_spool)
    assert wrong.replay_spool() == 0
    assert (spool_stats()["chunks"], spool_stats()["dead_letters"]) == (2, 0)


def test_a_live_write_keeps_a_rejected_chunk_as_a_dead_letter_and_sends_the_others(victoria_url, redis_spool):
    client = get_client()
    at = _ms_ago(5)
    samples = [Sample("wf_test_live", {"chunk": "first", "pad": TOO_LONG}, 1.0, at),
               *(Sample("wf_test_live", {"chunk": "first", "i": str(i)}, 1.0, at) for i in range(CHUNK_LINES - 1)),
               *(Sample("wf_test_live", {"chunk": "second", "i": str(i)}, 1.0, at) for i in range(5))]
    with pytest.raises(VictoriaError, match="too long line.*1 chunks kept as dead letters"):
        client.write(samples)
    assert _exported_chunks(victoria_url, "wf_test_live") == {"second"}
    stats = spool_stats()
    assert (stats["chunks"], stats["dead_letters"], stats["dead_letter_samples"]) == (0, 1, CHUNK_LINES)
    assert client.sample_counts() == {"sent": 5, "replayed": 0, "spooled": 0}


def test_an_open_breaker_sends_every_process_writes_to_the_spool_until_it_closes(victoria_url, redis_spool,
                                                                                settings):
    settings.VICTORIA_BREAKER_SECONDS = 1
    tripping = _down(settings, redis_spool, breaker_seconds=1)
    _spool_chunk(tripping, "down")
    assert spool_stats()["breaker_open_until"] > time.time()

    client = get_client()  # its VictoriaMetrics is fine, but the breaker is shared: no write is tried
    _spool_chunk(client, "during")
    assert client.spool_size() == 2 and client.replay_spool() == 0
    assert _exported_chunks(victoria_url, "wf_test_spool") == set()

    deadline = time.monotonic() + 10
    while spool_stats()["breaker_open_until"] is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    _spool_chunk(client, "after")  # the probe write goes through, closes the breaker and replays the spool
    assert _exported_chunks(victoria_url, "wf_test_spool") == {"down", "during", "after"}
    assert spool_stats()["chunks"] == 0


def test_only_one_process_probes_vm_after_the_breaker_runs_out(redis_spool, settings):
    a, b = _down(settings, redis_spool), _down(settings, redis_spool)
    a.spool.trip(0.001)
    time.sleep(0.01)
    assert [a.spool.may_write(5), b.spool.may_write(5)] == [True, False]  # b spools while a tries
    a.spool.close_breaker()
    assert [a.spool.may_write(5), b.spool.may_write(5)] == [True, True]


def test_it_writes_to_vm_when_the_spool_redis_is_down(victoria_url, settings):
    client = VictoriaClient(victoria_url, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    assert client.write([Sample("wf_test_spool", {"chunk": "no-redis"}, 1.0, _ms_ago(5))]) == 1
    assert _exported_chunks(victoria_url, "wf_test_spool") == {"no-redis"}
    with pytest.raises(VictoriaError, match="failed while reading its figures"):
        client.spool_stats()


def test_it_reports_zero_figures_without_a_spool():
    assert VictoriaClient("http://127.0.0.1:9").spool_stats() == {
        "chunks": 0, "bytes": 0, "dropped_chunks": 0, "dropped_samples": 0, "dead_letters": 0,
        "dead_letter_samples": 0, "dead_letters_kept": 0, "breaker_open_until": None}


@pytest.mark.parametrize(("broker", "spool"), [
    ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379/1"), ("redis://:pw@redis:6379/0", "redis://:pw@redis:6379/1"),
    ("redis://h:6379/15", "redis://h:6379/14"),
    ("rediss://h:6380/3?ssl_cert_reqs=none", "rediss://h:6380/4?ssl_cert_reqs=none"),
])
def test_the_spool_defaults_to_the_next_database_of_the_broker(broker, spool):
    assert redis_url_next_db(broker) == spool


def test_it_refuses_a_broker_url_whose_database_is_not_a_number():
    with pytest.raises(ImproperlyConfigured, match="'zero' is not a number"):
        redis_url_next_db("redis://h:6379/zero")

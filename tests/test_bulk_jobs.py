"""Bulk actions on the device list: a big selection runs as a background job (wardsite/jobs.py) on a real worker,
its page shows done/total, each failure with its reason, and the result; only its starter sees it."""
from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
import redis
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.test import Client

from devices.models import Device, DeviceGroup
from snmp.models import MonitoringItem, SNMPCredential
from templates_app.document import parse_document
from templates_app.library import save_spec
from templates_app.models import TemplateAssignment
from tests.snmp_agents import free_udp_port
from tests.worker import run_worker, wait_for
from wardsite import jobs, kv

pytestmark = pytest.mark.usefixtures("victoria_url")  # the device list reads availability from it

DEVICES_URL = "/admin/devices/device/"
TEMPLATE = {"format": "wardflux-template/1", "key": "bulk-lab", "name": "Bulk lab", "version": 1,
            "items": [{"key": "load_1m", "oid": "1.3.6.1.4.1.2021.10.1.3.1", "interval": 60, "units": ""}]}


@pytest.fixture
def worker(transactional_db, victoria_url, tmp_path) -> Iterator[None]:
    """One worker process (no beat: nothing but the jobs runs), the broker's database emptied first."""
    redis.Redis.from_url(django_settings.REDIS_URL).flushdb()
    with run_worker(tmp_path / "worker.log", "--concurrency", "2"):
        yield


def make_devices(count: int, prefix: str = "bulk", **fields) -> list[Device]:
    return Device.objects.bulk_create(
        Device(name=f"{prefix}-{n:04d}", address=f"127.1.{n // 250}.{n % 250 + 1}", icmp_enabled=False, **fields)
        for n in range(count))


def run_on_all(client: Client, action: str, **extra) -> str:
    """Run an action on every device (the admin's "select all"); the URL it answered with."""
    response = client.post(DEVICES_URL, {"action": action, "select_across": "1",
                                         "_selected_action": [Device.objects.first().pk], **extra})
    assert response.status_code == 302 and response["Location"].startswith("/admin/jobs/"), response
    return response["Location"]


def box(client: Client, url: str) -> str:
    """The progress box, as htmx asks for it."""
    response = client.get(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    return response.content.decode()


def follow(client: Client, url: str, timeout: float = 300) -> str:
    """The progress box once the job has finished."""
    def finished() -> str | None:
        page = box(client, url)
        return page if "Finished" in page else None

    return wait_for(finished, timeout, "the job to finish", interval=1, seen=lambda: box(client, url)[:400])


def counts(page: str) -> tuple[int, int, int, int]:
    found = re.search(r"(\d+) of (\d+) done: (\d+) succeeded, (\d+) failed", page)
    assert found, page[:500]
    return tuple(int(n) for n in found.groups())


def test_it_applies_a_template_to_2000_devices_as_a_job_and_shows_each_failure(worker, admin_client):
    template = save_spec(parse_document(TEMPLATE))
    devices = make_devices(2000)
    clashing = devices[::400]  # 5 devices with an item of the template item's name on another OID: refused
    MonitoringItem.objects.bulk_create(MonitoringItem(device=device, name="load_1m", metric="load_5m",
                                                      oid="1.3.6.1.4.1.2021.10.1.3.2")
                                       for device in clashing)
    admin_client.get(DEVICES_URL)  # the first request of a session loads the admin: not the action's time
    started = time.monotonic()
    url = run_on_all(admin_client, "apply_template", template=template.pk)
    answered = time.monotonic() - started
    assert re.fullmatch(r"/admin/jobs/[0-9a-f]{32}/", url)
    page = admin_client.get(url).content.decode()
    assert 'hx-trigger="every 2s"' in page and "htmx.min.js" in page  # refreshed in place while it runs

    done = follow(admin_client, url)
    print(f"\napply a template to 2,000 devices: the action answered in {answered:.2f} s, the job finished "
          f"{time.monotonic() - started:.1f} s after the click")
    assert counts(done) == (2000, 2000, 1995, 5)
    assert "hx-trigger" not in done  # finished: no more refreshes
    for device in clashing:
        assert f"<td>{device.name}</td><td>load_1m: the device has another item of that name</td>" in done
    assert TemplateAssignment.objects.filter(template=template).count() == 2000
    assert MonitoringItem.objects.filter(template_item__template=template).count() == 1995


def test_a_snmp_test_job_gives_each_device_its_reason(worker, admin_client):
    unreachable = SNMPCredential.objects.create(name="nobody", version="v2c", community="public", timeout_ms=200,
                                                retries=0)
    make_devices(25, prefix="plain")
    silent = make_devices(5, prefix="silent", snmp_credential=unreachable, snmp_port=free_udp_port())
    url = run_on_all(admin_client, "test_snmp")
    done = follow(admin_client, url)
    assert counts(done) == (30, 30, 0, 30)
    assert "<td>plain-0000</td><td>no SNMP credential: choose one on the device</td>" in done
    assert re.search(rf"<td>{silent[0].name}</td><td>[^<]*(timeout|No SNMP response)[^<]*</td>", done, re.I), done


@pytest.fixture
def staff(db) -> tuple[Client, Client, Client]:
    """Logged-in clients of two operators and a viewer (staff users of the roles)."""
    from django.contrib.auth.models import Group

    clients = []
    for name, role in (("op1", "Operator"), ("op2", "Operator"), ("look", "Viewer")):
        user = User.objects.create_user(name, is_staff=True)
        user.groups.add(Group.objects.get(name=role))
        client = Client()
        client.force_login(user)
        clients.append(client)
    return tuple(clients)


def test_only_whoever_started_a_job_sees_it_and_a_viewer_cannot_start_one(staff, admin_client):
    kv.connection().flushdb()
    starter, other, viewer = staff
    make_devices(30)
    url = run_on_all(starter, "test_snmp")  # queued only: no worker here
    assert "0 of 30 done" in box(starter, url)
    assert admin_client.get(url).status_code == 200  # a superuser sees every job
    assert other.get(url).status_code == 404
    assert Client().get(url).status_code == 302  # to the login

    response = viewer.post(DEVICES_URL, {"action": "test_snmp", "select_across": "1",
                                         "_selected_action": [Device.objects.first().pk]})
    assert response.status_code == 200  # the list again, and no job: the viewer has no actions
    assert 'value="test_snmp"' not in response.content.decode()
    assert len(list(kv.connection().scan_iter("wardflux:job:*[0-9a-f]"))) == 1


def test_the_starter_cancels_a_job_from_its_page_and_nobody_else_can(staff):
    kv.connection().flushdb()
    starter, other, viewer = staff
    make_devices(30)
    url = run_on_all(starter, "test_snmp")  # queued only: no worker here
    assert 'action="/admin/jobs/' in box(starter, url) and "Cancel the rest" in box(starter, url)
    cancel_url = f"{url}cancel/"
    assert other.post(cancel_url).status_code == 404 and viewer.post(cancel_url).status_code == 404
    assert starter.get(cancel_url).status_code == 405  # a link followed, a page prefetched: never cancels
    assert "Running for" in box(starter, url)

    response = starter.post(cancel_url, follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "Cancelled: no more batches run; what was done stays done."]
    page = box(starter, url)
    assert "<b>Cancelled</b>" in page and "0 of 30 done" in page and "the other 30 not run" in page
    assert "hx-trigger" not in page and "Cancel the rest" not in page
    job_id = url.split("/")[-2]
    assert jobs.run_batch(job_id, 0) is None  # the queued batch, when a worker takes it: nothing runs
    assert [str(m) for m in starter.post(cancel_url, follow=True).context["messages"]] == [
        "The job had already finished."]


def test_a_job_cancelled_between_batches_keeps_what_was_done(db):
    kv.connection().flushdb()
    jobs.register(jobs.JobKind("tests.record", "Record", record_batch, batch_size=10))
    job_id = jobs.start("tests.record", list(range(1, 26)), {}, user_id=1)
    assert jobs.run_batch(job_id, 0) == 10
    assert jobs.cancel(job_id) is True
    assert jobs.run_batch(job_id, 10) is None
    job = jobs.progress(job_id)
    assert (job.done, job.left, job.stopped, job.finished == job.cancelled) == (10, 15, True, True)
    assert jobs.cancel(job_id) is False  # once
    assert jobs.cancel("f" * 32) is False  # unknown: nothing made
    assert not kv.connection().exists(jobs.KEY.format(id="f" * 32))


@pytest.mark.parametrize("job_id", ["0" * 32, "not-a-job", "A" * 32])
def test_an_unknown_job_is_404(admin_client, job_id):
    assert admin_client.get(f"/admin/jobs/{job_id}/").status_code == 404


def test_a_small_selection_runs_at_once_with_a_message_per_device(admin_client):
    make_devices(3)
    response = admin_client.post(DEVICES_URL, {"action": "test_snmp", "_selected_action": list(
        Device.objects.values_list("pk", flat=True))}, follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        f"bulk-000{n}: no SNMP credential: choose one on the device" for n in range(3)]


def explode(ids: list[int], params: dict) -> jobs.BatchResult:
    if ids[0] == params["bad_first"]:
        raise RuntimeError("wires crossed")
    return jobs.BatchResult(failures=[(f"#{ids[-1]}", "last of its batch")])


def test_a_batch_that_raises_fails_its_items_and_a_redelivered_batch_counts_once(db):
    kv.connection().flushdb()
    jobs.register(jobs.JobKind("tests.explode", "Explode", explode, batch_size=10))
    job_id = jobs.start("tests.explode", list(range(1, 26)), {"bad_first": 11}, user_id=1)  # queued, never run
    assert jobs.run_batch(job_id, 0) == 10
    assert jobs.run_batch(job_id, 0) is None  # the same batch again (a redelivered task): not recorded twice
    assert jobs.run_batch(job_id, 10) == 20
    assert jobs.run_batch(job_id, 20) is None  # the last one
    job = jobs.progress(job_id)
    assert (job.done, job.failed, job.finished is not None) == (25, 12, True)
    assert job.failures[0] == ("#10", "last of its batch")
    assert job.failures[1] == ("#11", "the batch failed: RuntimeError: wires crossed")
    assert kv.connection().ttl(jobs.KEY.format(id=job_id)) > 0


def record_batch(ids: list[int], params: dict) -> jobs.BatchResult:
    return jobs.BatchResult(failures=[(f"#{pk}", "seen") for pk in ids])


def test_a_routed_jobs_batches_go_to_each_devices_queue_and_never_span_two(db):
    kv.connection().flushdb()
    far = {2, 4, 5}
    jobs.register(jobs.JobKind("tests.routed", "Routed", record_batch, batch_size=2,
                               route=lambda ids: {pk: "site-far" if pk in far else "" for pk in ids}))
    job_id = jobs.start("tests.routed", [1, 2, 3, 4, 5], {}, user_id=1)
    broker = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    assert broker.llen(django_settings.CELERY_TASK_DEFAULT_QUEUE) == 1 and broker.llen("site-far") == 0
    assert jobs.run_batch(job_id, 0) == 2  # 1 and 3: the central ones, cut where the far ones begin
    jobs.send(job_id, 2)
    assert broker.llen("site-far") == 1  # the next batch waits for the far site's poller
    assert jobs.run_batch(job_id, 2) == 4 and jobs.run_batch(job_id, 4) is None
    assert [label for label, _ in jobs.progress(job_id).failures] == ["#1", "#3", "#2", "#4", "#5"]


def test_pinging_a_remote_sites_devices_now_runs_on_its_own_poller(transactional_db, victoria_url, tmp_path,
                                                                  admin_client):
    redis.Redis.from_url(django_settings.REDIS_URL).flushdb()
    group = DeviceGroup.objects.create(name="far", poller_queue="site-far")
    make_devices(3, prefix="far", group=group)
    Device.objects.update(icmp_enabled=True)
    response = admin_client.post(DEVICES_URL, {"action": "ping_now", "_selected_action": list(
        Device.objects.values_list("pk", flat=True))})  # 3: few enough to run at once, were they central
    assert response.status_code == 302 and response["Location"].startswith("/admin/jobs/"), response
    with run_worker(tmp_path / "far.log", "-Q", "site-far", "--concurrency", "1"):  # the site's poller, alone
        assert counts(follow(admin_client, response["Location"], timeout=120)) == (3, 3, 3, 0)


def test_the_last_days_jobs_are_listed_for_their_starter_and_all_for_a_superuser(staff, admin_client):
    kv.connection().flushdb()
    starter, other, _ = staff
    make_devices(30)
    mine = run_on_all(starter, "test_snmp")
    theirs = run_on_all(other, "test_snmp")
    starter.post(f"{mine}cancel/")
    assert 'href="/admin/jobs/"' in starter.get(DEVICES_URL).content.decode()  # from the device list
    page = starter.get("/admin/jobs/").content.decode()
    assert f'href="{mine}"' in page and f'href="{theirs}"' not in page
    assert re.search(r"<td>0 of 30</td><td>0</td>\s*<td>cancelled</td>", page), page
    everyone = admin_client.get("/admin/jobs/").content.decode()
    assert everyone.index(f'href="{theirs}"') < everyone.index(f'href="{mine}"')  # newest first
    assert "<td>op1</td>" in everyone and "<td>op2</td>" in everyone and "<td>running</td>" in everyone
    assert Client().get("/admin/jobs/").status_code == 302  # to the login
    kv.connection().delete(jobs.KEY.format(id=mine.split("/")[-2]))  # expired
    assert f'href="{mine}"' not in starter.get("/admin/jobs/").content.decode()
    assert "No job in the last day." in starter.get("/admin/jobs/").content.decode()

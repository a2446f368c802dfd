"""Workers leave their startup objects out of garbage collection (wardsite.celery.freeze_startup_objects): a full
collection walking them was a third of an SNMP batch's CPU (docs/performance.md)."""
import gc
import pytest
from celery.signals import worker_process_init, worker_ready

from wardsite.celery import app


class Worker:
    """What the worker_ready receivers read of their sender."""

    app = app


@pytest.fixture
def unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()


@pytest.mark.parametrize("signal", [worker_ready, worker_process_init], ids=["worker ready", "prefork process"])
def test_a_worker_freezes_what_it_loaded_once_it_is_ready(unfrozen, signal, db):
    assert gc.get_freeze_count() == 0
    signal.send(sender=Worker())
    assert gc.get_freeze_count() > 10_000  # Django, the apps and Celery, loaded by now

"""The Celery application; schedules live in django-celery-beat's tables (see each app's schedules)."""
import gc
import logging
import logging.config
import os

from celery import Celery
from celery.signals import setup_logging, task_postrun, task_prerun, worker_process_init, worker_ready
from django.db import close_old_connections

from wardsite.queues import TimeLimitsByQueue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wardsite.settings")

app = Celery("wardsite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.conf.imports = ("wardsite.tasks",)
app.conf.task_annotations = (TimeLimitsByQueue(),)

logger = logging.getLogger(__name__)


@setup_logging.connect
def use_django_logging(**kwargs) -> None:
    """Workers and beat log through the settings' LOGGING (`LOG_LEVEL`), not Celery's own `--loglevel`."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@worker_ready.connect  # the worker's own process (a pool of threads runs here)
@worker_process_init.connect  # each process of a prefork pool
def freeze_startup_objects(**kwargs) -> None:
    """Leave what the worker loaded at startup (Django, the apps, Celery: some 140,000 objects) out of every later
    garbage collection. Each full collection walked them all: a third of an SNMP batch's CPU (docs/performance.md)."""
    gc.collect()
    gc.freeze()


@task_prerun.connect
@task_postrun.connect
def close_obsolete_connections(task, **kwargs) -> None:
    """A task in a worker starts and ends as a web request does: database connections past DATABASE_CONN_MAX_AGE,
    or broken, are closed; the others are kept for the next task (settings.CELERY_DB_REUSE_MAX) and checked at its
    first query. A task run in the caller's process (eager) leaves the caller's connection alone."""
    if not task.request.is_eager:
        close_old_connections()


@worker_ready.connect
def warn_about_evicting_broker(sender, **kwargs) -> None:
    """An evicting Redis silently drops queued tasks (it happened to the earlier system): say so loudly."""
    import redis
    from django.conf import settings

    try:
        policy = redis.Redis.from_url(settings.REDIS_URL).config_get("maxmemory-policy").get("maxmemory-policy")
    except redis.RedisError:
        return
    if policy and policy != "noeviction":
        logger.error("Redis maxmemory-policy is %r: queued tasks may be evicted; set it to 'noeviction'", policy)


@worker_ready.connect
def warn_about_short_visibility_timeout(sender, **kwargs) -> None:
    """A message not acknowledged within the broker's visibility timeout is handed to another worker: a task that
    acknowledges late and may run longer than that would run twice."""
    from django.conf import settings

    late = [task.time_limit or 0 for task in sender.app.tasks.values() if task.acks_late]
    if late and settings.CELERY_VISIBILITY_TIMEOUT <= max(late):
        logger.warning("CELERY_VISIBILITY_TIMEOUT=%d is not above the longest time limit of a late-acknowledged "
                       "task (%d s): such a task may run twice", settings.CELERY_VISIBILITY_TIMEOUT, max(late))

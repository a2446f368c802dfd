"""The Celery application; schedules live in django-celery-beat's tables (see each app's schedules)."""
import logging
import logging.config
import os

from celery import Celery
from celery.signals import setup_logging, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wardsite.settings")

app = Celery("wardsite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.conf.imports = ("wardsite.tasks",)

logger = logging.getLogger(__name__)


@setup_logging.connect
def use_django_logging(**kwargs) -> None:
    """Workers and beat log through the settings' LOGGING (`LOG_LEVEL`), not Celery's own `--loglevel`."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


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

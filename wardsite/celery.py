"""The Celery application; schedules live in django-celery-beat's tables (see each app's schedules)."""
import logging
import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wardsite.settings")

app = Celery("wardsite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.conf.imports = ("wardsite.tasks",)

logger = logging.getLogger(__name__)


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

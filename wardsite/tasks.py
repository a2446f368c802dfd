from celery import shared_task

from wardsite.victoria import get_client


@shared_task(name="wardsite.replay_spool")
def replay_spool() -> int:
    """Replay metric writes spooled while VictoriaMetrics was unreachable."""
    return get_client().replay_spool()

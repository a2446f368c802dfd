import os
import sys

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Run the monitoring engine: a Celery worker with the beat scheduler embedded "
        "(one process tree; for several machines run `celery -A wardsite worker` and one `celery -A wardsite beat`). "
        "What it logs is set by LOG_LEVEL."
    )

    def add_arguments(self, parser):
        parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 2, help="worker processes")
        parser.add_argument("--queues", default="celery", help="comma-separated queues to consume (poller groups)")

    def handle(self, *args, concurrency: int, queues: str, **options) -> None:
        argv = [sys.executable, "-m", "celery", "-A", "wardsite", "worker", "--beat", "--concurrency",
                str(concurrency), "--queues", queues]
        os.execv(sys.executable, argv)

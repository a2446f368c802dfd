"""What the whole-stack benchmarks share: a PostgreSQL database of their own, migrated, and a VictoriaMetrics in
a temporary directory (Redis database 11, emptied). Import it first: it sets the environment Django reads."""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere
DATABASE = "wardflux_bench"
os.environ.update(DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{DATABASE}", REDIS_URL="redis://127.0.0.1:6379/11",
                  DJANGO_SETTINGS_MODULE="wardsite.settings", DATABASE_CONN_MAX_AGE="0")

import tests.bootstrap  # noqa: E402,F401  (per-run keys, as for the tests)
from tests.services import VictoriaServer, free_port  # noqa: E402


@contextmanager
def stack() -> Iterator[tuple[Path, VictoriaServer]]:
    """A fresh database (migrated, Django set up), an empty Redis database and a running VictoriaMetrics
    (VICTORIA_URL set); yields (a work directory, the VictoriaMetrics server) and removes them after."""
    import psycopg2

    admin = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        cursor.execute(f"CREATE DATABASE {DATABASE}")
    admin.close()
    work = Path(tempfile.mkdtemp(prefix="wardflux-bench-"))
    victoria = VictoriaServer(shutil.which("victoria-metrics") or "victoria-metrics", work / "victoria", free_port())
    victoria.start()
    os.environ["VICTORIA_URL"] = victoria.url
    try:
        import django

        django.setup()
        import redis
        from django.conf import settings
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        redis.Redis.from_url(settings.REDIS_URL).flushdb()
        yield work, victoria
    finally:
        victoria.stop()
        shutil.rmtree(work, ignore_errors=True)

"""What the whole-stack benchmarks share: a PostgreSQL database of their own, migrated, and a VictoriaMetrics in
a temporary directory (Redis database 10, emptied). Import it first: it sets the environment Django reads.
`own_services()` (entered before `stack()`) puts the database and Redis on a PostgreSQL cluster and a redis-server
of the bench's own instead, so that their CPU and memory are the bench's alone."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere
DATABASE = "wardflux_bench"
os.environ.update(DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{DATABASE}", REDIS_URL="redis://127.0.0.1:6379/10",
                  DJANGO_SETTINGS_MODULE="wardsite.settings", DATABASE_CONN_MAX_AGE="0")

import tests.bootstrap  # noqa: E402,F401  (per-run keys, as for the tests)
from tests import make_run  # noqa: E402
from tests.services import VictoriaServer, die_with_parent, free_port  # noqa: E402


def machine_speed() -> str:
    """This machine's speed at plain Python, measured now: a loop of 10 M additions (best of 3 runs, CPU seconds).
    A figure of CPU per device depends on it as much as on our code; printed beside such figures, it lets runs on
    different days' machines be compared (session 11's machine: 0.65 s; session 12's: 0.90-1.05 s)."""
    loop = compile("total = 0\nfor i in range(10_000_000):\n    total += i", "<machine speed>", "exec")
    runs = []
    for _ in range(3):  # at module level, as `python3 -c` runs it (global names: slower than a function's locals)
        started = time.process_time()
        exec(loop, {})
        runs.append(time.process_time() - started)
    return f"a loop of 10 M additions in Python takes {min(runs):.2f} s of CPU here (best of 3)"


def process_env(**extra: str) -> dict[str, str]:
    """The environment of a process of the stack under test (web, worker, beat): the bench's own, but with the
    database connections persistent, as `make run` keeps them (DATABASE_CONN_MAX_AGE's default), not closed after
    each task as in the bench process."""
    env = {**os.environ, **extra}
    env.pop("DATABASE_CONN_MAX_AGE", None)
    return env


@dataclass
class Services:
    """The PostgreSQL cluster and redis-server of `own_services()`: the processes whose figures are ours."""

    postgres: subprocess.Popen
    redis: subprocess.Popen
    postgres_port: int


@contextmanager
def own_services() -> Iterator[Services]:
    """A PostgreSQL cluster (initdb'd in a temporary directory) and a redis-server on free loopback ports, with
    DATABASE_URL and REDIS_URL pointing at them; both removed after. Redis runs with `make run`'s options."""
    from tests.postgres_cluster import PostgresCluster

    cluster = PostgresCluster()
    redis_dir = Path(tempfile.mkdtemp(prefix="wardflux-bench-redis-"))
    redis_port = free_port()
    redis = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(redis_port), "--dir", str(redis_dir),
                              *make_run.REDIS_OPTIONS, "--logfile", str(redis_dir / "redis.log")],
                             stdin=subprocess.DEVNULL, preexec_fn=die_with_parent)
    try:
        cluster.start()
        os.environ.update(DATABASE_URL=f"postgres://postgres@127.0.0.1:{cluster.port}/{DATABASE}",
                          REDIS_URL=f"redis://127.0.0.1:{redis_port}/0")
        yield Services(cluster._process, redis, cluster.port)
    finally:
        redis.terminate()
        redis.wait()
        cluster.remove()
        shutil.rmtree(redis_dir, ignore_errors=True)


@contextmanager
def stack() -> Iterator[tuple[Path, VictoriaServer]]:
    """A fresh database (migrated, Django set up), an empty Redis database and a running VictoriaMetrics
    (VICTORIA_URL set); yields (a work directory, the VictoriaMetrics server) and removes them after."""
    import psycopg2

    server = urlsplit(os.environ["DATABASE_URL"])
    admin = psycopg2.connect(host=server.hostname, port=server.port or 5432, user="postgres", dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        cursor.execute(f"CREATE DATABASE {DATABASE}")
    admin.close()
    work = Path(tempfile.mkdtemp(prefix="wardflux-bench-"))
    victoria = VictoriaServer(shutil.which("victoria-metrics") or "victoria-metrics", work / "victoria", free_port(),
                              make_run.VICTORIA_FLAGS)
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

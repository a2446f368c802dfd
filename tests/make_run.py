"""What scripts/run.sh starts, for the benches to start the same: the WARD FLUX processes and the options of Redis
and VictoriaMetrics. tests/test_container.py keeps these equal to run.sh's and docker-compose.yml's."""
from __future__ import annotations

from pathlib import Path

REDIS_OPTIONS = ("--appendonly", "yes", "--maxmemory", "1gb", "--maxmemory-policy", "noeviction")
VICTORIA_FLAGS = ("-retentionPeriod=12", "-search.latencyOffset=0s")


def processes(web_port: int, beat_schedule: Path) -> dict[str, list[str]]:
    """Web, the three workers and beat, each a command of the venv's bin/."""
    return {
        "web": ["gunicorn", "wardsite.wsgi", "-b", f"127.0.0.1:{web_port}", "--workers", "2", "--threads", "4"],
        "icmp worker": ["celery", "-A", "wardsite", "worker", "-Q", "dispatch,icmp", "--pool", "threads",
                        "--concurrency", "4", "-n", "icmp@%h"],
        "snmp worker": ["celery", "-A", "wardsite", "worker", "-Q", "snmp", "--pool", "threads", "--concurrency", "8",
                        "-n", "snmp@%h"],
        "worker": ["celery", "-A", "wardsite", "worker", "-X", "dispatch,icmp,snmp", "--concurrency", "2",
                   "-n", "main@%h"],
        "beat": ["celery", "-A", "wardsite", "beat", "--schedule", str(beat_schedule)],
    }

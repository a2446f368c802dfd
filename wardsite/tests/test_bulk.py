"""update_rows: one UPDATE … FROM (VALUES …) per batch, on PostgreSQL here and on the embedded SQLite in a
subprocess, with the values a collector saves (floats, NULLs, quotes, datetimes)."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from devices.models import Device
from icmp.models import PingStatus
from wardsite.bulk import update_rows

ROOT = Path(__file__).resolve().parents[2]
FIELDS = ["rtt_avg_ms", "error", "checked_at", "consecutive_failures"]
# Run in the subprocess: three statuses, two updated (one with NULLs only), printed back as JSON.
SCRIPT = """
import json
from datetime import datetime, timezone
from devices.models import Device
from icmp.models import PingStatus
from wardsite.bulk import update_rows
at = datetime(2026, 12, 6, 12, 30, tzinfo=timezone.utc)
rows = [PingStatus.objects.create(device=Device.objects.create(name=f"d{i}", address=f"127.0.0.{i + 1}"))
        for i in range(3)]
rows[0].rtt_avg_ms, rows[0].error, rows[0].checked_at, rows[0].consecutive_failures = 1.5, "", at, 0
rows[1].rtt_avg_ms, rows[1].error, rows[1].checked_at, rows[1].consecutive_failures = None, "it's down", None, 4
print(json.dumps([update_rows(rows[:2], %r), [[s.rtt_avg_ms, s.error, s.checked_at and s.checked_at.isoformat(),
                  s.consecutive_failures] for s in PingStatus.objects.order_by("device__name")]]))
""" % FIELDS


def _three() -> list[PingStatus]:
    return [PingStatus.objects.create(device=Device.objects.create(name=f"d{i}", address=f"127.0.0.{i + 1}"))
            for i in range(3)]


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [1000, 1])
def test_it_saves_each_rows_own_values_in_one_statement_and_leaves_the_others(batch_size):
    rows, at = _three(), timezone.now().replace(microsecond=0)
    untouched = PingStatus.objects.get(pk=rows[2].pk)
    rows[0].rtt_avg_ms, rows[0].error, rows[0].checked_at, rows[0].consecutive_failures = 1.5, "", at, 0
    rows[1].rtt_avg_ms, rows[1].error, rows[1].checked_at, rows[1].consecutive_failures = None, "it's down", None, 4
    rows[2].error = "not saved: not passed"
    with CaptureQueriesContext(connection) as queries:
        assert update_rows(rows[:2], FIELDS, batch_size=batch_size) == 2
    assert len(queries) == math.ceil(2 / batch_size)  # a statement per batch
    saved = {s.pk: (s.rtt_avg_ms, s.error, s.checked_at, s.consecutive_failures) for s in PingStatus.objects.all()}
    assert saved == {rows[0].pk: (1.5, "", at, 0), rows[1].pk: (None, "it's down", None, 4),
                     rows[2].pk: (None, "", untouched.checked_at, 0)}


@pytest.mark.django_db
def test_a_column_of_nulls_only_is_typed_by_the_table():
    rows = _three()
    PingStatus.objects.update(rtt_avg_ms=3.0, checked_at=timezone.now() - timedelta(minutes=1))
    for row in rows:
        row.rtt_avg_ms = row.checked_at = None
    assert update_rows(rows, ["rtt_avg_ms", "checked_at"]) == 3
    assert set(PingStatus.objects.values_list("rtt_avg_ms", "checked_at")) == {(None, None)}


def test_it_does_the_same_on_the_embedded_sqlite(tmp_path):
    env = {**os.environ, "WARDFLUX_VAR_DIR": str(tmp_path / "var"), "DEBUG": "1"}
    env.pop("DATABASE_URL", None)
    run = {"cwd": ROOT, "env": env, "capture_output": True, "text": True, "timeout": 300}
    migrated = subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], **run)
    assert migrated.returncode == 0, migrated.stderr
    result = subprocess.run([sys.executable, "manage.py", "shell", "--no-imports", "-c", SCRIPT], **run)
    assert result.returncode == 0, result.stderr
    count, saved = json.loads(result.stdout.strip().splitlines()[-1])
    assert count == 2
    assert saved == [[1.5, "", "2026-12-06T12:30:00+00:00", 0], [None, "it's down", None, 4], [None, "", None, 0]]

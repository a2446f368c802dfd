#!/usr/bin/env bash
# make run: install what is missing, start Redis + VictoriaMetrics + web + Celery worker + beat; Ctrl-C stops all.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
PORT="${PORT:-8000}"
VICTORIA_PORT="${VICTORIA_PORT:-8428}"
export WARDFLUX_VAR_DIR="$VAR"
ensure_venv
ensure_apt redis-server:redis-server victoria-metrics:victoria-metrics snmp:snmpget
mkdir -p "$VAR"

# Keys are made on first start and kept in var/ (never committed): losing them loses the stored SNMP secrets.
if [ ! -f "$VAR/secrets.env" ]; then
  (umask 077; "$PY" - > "$VAR/secrets.env" <<'PY'
import secrets
from cryptography.fernet import Fernet
print(f"SECRET_KEY={secrets.token_urlsafe(50)}")
print(f"FERNET_KEYS={Fernet.generate_key().decode()}")
PY
  )
  say "generated var/secrets.env (SECRET_KEY, FERNET_KEYS)"
fi
set -a; source "$VAR/secrets.env"; set +a
export ALLOWED_HOSTS="${ALLOWED_HOSTS:-127.0.0.1,localhost}"
export VICTORIA_URL="${VICTORIA_URL:-http://127.0.0.1:$VICTORIA_PORT}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
export LOG_LEVEL="${LOG_LEVEL:-INFO}"
# served over plain HTTP on 127.0.0.1: no redirect to HTTPS, no HSTS, cookies over HTTP (docs/configuration.md)
export HTTPS_ONLY="${HTTPS_ONLY:-0}"
# What this instance uses: the settings read it, so `manage.py ...` in the checkout talks to this instance.
{
  echo "# written by make run at $(date -u +%FT%TZ); manage.py reads it (the environment wins)"
  echo "VICTORIA_URL=$VICTORIA_URL"
  echo "REDIS_URL=$REDIS_URL"
  echo "ALLOWED_HOSTS=$ALLOWED_HOSTS"
  [ -z "${DATABASE_URL:-}" ] || echo "DATABASE_URL=$DATABASE_URL"
} > "$VAR/instance.env"

trap 'say "stopping"; stop_started' EXIT
trap 'exit 130' INT TERM
start_redis 6379
start_victoria "$VICTORIA_PORT"

"$PY" manage.py migrate --no-input -v 0
"$PY" manage.py collectstatic --no-input -v 0
"$PY" manage.py ensure_admin

ACCESS_LOG=()  # every HTTP request: only with LOG_LEVEL=DEBUG
[ "$LOG_LEVEL" != DEBUG ] || ACCESS_LOG=(--access-logfile -)
"$VENV/bin/gunicorn" wardsite.wsgi -b "127.0.0.1:$PORT" --workers 2 --threads 4 "${ACCESS_LOG[@]}" &
STARTED_PIDS+=($!)
# Three workers (docs/architecture.md, "Queues and workers"): pinging and SNMP polling wait on the network, so the
# dispatchers and the icmp queue, and the snmp queue, have threads of their own (a batch waiting on a silent
# device's timeout holds a thread, not a process); the other worker does the rest.
"$VENV/bin/celery" -A wardsite worker -Q dispatch,icmp --pool threads --concurrency 4 -n icmp@%h &
STARTED_PIDS+=($!)
"$VENV/bin/celery" -A wardsite worker -Q snmp --pool threads --concurrency 8 -n snmp@%h &
STARTED_PIDS+=($!)
"$VENV/bin/celery" -A wardsite worker -X dispatch,icmp,snmp --concurrency 2 -n main@%h &
STARTED_PIDS+=($!)
"$VENV/bin/celery" -A wardsite beat --schedule "$VAR/celerybeat-schedule" &
STARTED_PIDS+=($!)
wait_port 127.0.0.1 "$PORT" "the web app"
say "WARD FLUX is up: http://127.0.0.1:$PORT/admin/ (user admin) - API at /api/v1/ - Ctrl-C stops everything"
wait -n

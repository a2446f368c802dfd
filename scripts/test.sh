#!/usr/bin/env bash
# make test: the whole suite against real PostgreSQL, Redis, VictoriaMetrics and a real Celery worker.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_venv
ensure_apt victoria-metrics:victoria-metrics nftables:nft iproute2:ip fping:fping redis-server:redis-server snmpd:snmpd snmp:snmpget \
  chromium:chromium jq:jq systemd:systemd-analyze postgresql-client:pg_restore "${ZABBIX_APT[@]}"
trap stop_started EXIT
start_redis 6379
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/wardflux}"
case "$DATABASE_URL" in
  postgres*) port_open 127.0.0.1 5432 || [[ "$DATABASE_URL" != *127.0.0.1:5432* ]] \
               || die "PostgreSQL is not listening on 127.0.0.1:5432 (set DATABASE_URL to yours)";;
esac
"$PY" -m pytest "$@"

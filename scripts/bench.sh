#!/usr/bin/env bash
# make bench: the benchmarks in bench/, each printed beside its baseline measured in the same run.
# scripts/bench.sh icmp|icmp-cycle|snmp|alerts|cycle|discovery|zabbix|api|device-page|dashboard|fleet [ARGS] runs one of them with ARGS; anything else runs all (ARGS go to icmp_sweep).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_venv
ensure_apt fping:fping nftables:nft iproute2:ip snmpd:snmpd snmp:snmpbulkwalk redis-server:redis-server \
  victoria-metrics:victoria-metrics postgresql:/usr/lib/postgresql \
  prometheus-snmp-exporter:prometheus-snmp-exporter "${ZABBIX_APT[@]}"
case "${1:-}" in
  icmp) shift; "$PY" bench/icmp_sweep.py "$@" ;;
  icmp-cycle) shift; "$PY" bench/icmp_cycle.py "$@" ;;
  snmp) shift; "$PY" bench/snmp_poll.py "$@" ;;
  alerts) shift; "$PY" bench/alert_latency.py "$@" ;;
  cycle) shift; "$PY" bench/alert_cycle.py "$@" ;;
  discovery) shift; "$PY" bench/discovery_sweep.py "$@" ;;
  zabbix) shift; "$PY" bench/zabbix_sync.py "$@" ;;
  api) shift; "$PY" bench/api_latency.py "$@" ;;
  fleet) shift; "$PY" bench/fleet.py "$@" ;;
  device-page) shift; "$PY" bench/device_page.py "$@" ;;
  dashboard) shift; "$PY" bench/dashboard.py "$@" ;;
  *) "$PY" bench/icmp_sweep.py "$@"; "$PY" bench/icmp_cycle.py; "$PY" bench/snmp_poll.py; "$PY" bench/alert_latency.py
     "$PY" bench/alert_latency.py --trials 3 --fleet 10000
     "$PY" bench/alert_cycle.py; "$PY" bench/discovery_sweep.py; "$PY" bench/zabbix_sync.py
     "$PY" bench/api_latency.py; "$PY" bench/device_page.py; "$PY" bench/dashboard.py; "$PY" bench/fleet.py ;;
esac

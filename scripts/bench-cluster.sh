#!/usr/bin/env bash
# The measurements behind BENCHMARKS.md's "Scale-out behind sglang-router" section: replicas in
# network namespaces behind smg (scripts/cluster.sh), load from tools/cluster_load.py, figures from
# the replicas' own /metrics. Each experiment brings its cluster up and down; results (JSON) go to
# $OUT (default /tmp/peregrine-bench-cluster). Needs root (namespaces, cgroups).
#
#   scripts/bench-cluster.sh tenants [RUNS] [KV]  cache_aware vs round_robin, alternating, RUNS each
#                                                 (default 3), KV budget per replica (default 96MiB)
#   scripts/bench-cluster.sh p2                   power_of_two vs round_robin with one replica loaded
#                                                 behind the router's back: where requests go
#   scripts/bench-cluster.sh kill [POLICY]        kill -9 a replica 30 s into a 90 s run
#   scripts/bench-cluster.sh drain [POLICY]       SIGTERM a replica 30 s into a 90 s run
#   scripts/bench-cluster.sh throughput [RUNS]    3 replicas through the router vs 1 direct, alternating
#
# Every replica runs with --threads 1 under a CPU quota of $CPUS (0.66: this machine has 2 cores, so
# three replicas share them; a one-replica baseline gets the same share).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/peregrine-bench-cluster}
CPUS=${CPUS:-0.66}
mkdir -p "$OUT"
LOAD=(python3 tools/cluster_load.py)

up() { scripts/cluster.sh up --cpus "$CPUS" "$@" >/dev/null; }
down() { scripts/cluster.sh down; }
trap down EXIT
router() { scripts/cluster.sh urls | head -1; }
replica_args() { scripts/cluster.sh urls | tail -n +2 | sed 's/^/--replica /' | tr '\n' ' '; }
flush_all() { for u in $(scripts/cluster.sh urls | tail -n +2); do curl -s -o /dev/null -XPOST "$u/flush_cache"; done; }

summary() {
  python3 - "$@" <<'PY'
import json, sys
for path in sys.argv[1:]:
    d = json.load(open(path))
    c, s = d["client"], d.get("server") or {}
    def f(x, fmt="{:.2f}"):
        return "-" if x is None else fmt.format(x)
    line = (f"{path.rsplit('/', 1)[-1]}: {c['ok']}/{c['requests']} ok, client TTFT p50 {f(c['ttft_p50_s'])} s"
            f" p90 {f(c['ttft_p90_s'])} s, {f(c['output_tokens_per_s'], '{:.1f}')} out tok/s")
    if s:
        line += (f" | replicas: hit rate {f(s['hit_rate'], '{:.3f}')}, TTFT p50 {f(s['ttft_p50_s'])} s, requests "
                 + "/".join(str(r["requests"]) for r in s["replicas"]))
    if d.get("event"):
        line += " | event " + json.dumps({k: v for k, v in d["event"].items() if k not in ("at", "command")})
    print(line)
PY
}

tenants() {
  local runs=${1:-3} kv=${2:-96MiB}
  up --replicas 3 --policy cache_aware --kv-cache-memory "$kv"
  local files=()
  for run in $(seq 1 "$runs"); do
    for policy in cache_aware round_robin; do
      scripts/cluster.sh router "$policy" >/dev/null
      flush_all
      local f=$OUT/tenants-$kv-$policy-$run.json
      # shellcheck disable=SC2046
      "${LOAD[@]}" tenants --url "$(router)" $(replica_args) --tenants 8 --system-tokens 1000 --questions 8 \
        --concurrency 4 --max-tokens 16 --seed "$run" --json "$f" >/dev/null
      summary "$f"
      files+=("$f")
    done
  done
  down
  python3 - "${files[@]}" <<'PY'
import json, statistics, sys
by = {}
for path in sys.argv[1:]:
    policy = path.rsplit("-", 2)[-2]
    d = json.load(open(path))
    by.setdefault(policy, []).append(d)
for policy, runs in by.items():
    hit = statistics.median(r["server"]["hit_rate"] for r in runs)
    sttft = statistics.median(r["server"]["ttft_p50_s"] for r in runs)
    cttft = statistics.median(r["client"]["ttft_p50_s"] for r in runs)
    print(f"median of {len(runs)}: {policy}: hit rate {hit:.3f}, replica TTFT p50 {sttft:.2f} s, client TTFT p50 {cttft:.2f} s")
PY
}

p2() {
  for policy in power_of_two round_robin; do
    up --replicas 3 --policy "$policy" --kv-cache-memory 256MiB --router-log-level debug
    local r1
    r1=$(scripts/cluster.sh urls | sed -n 2p)
    # Two long requests at a time straight at replica 1, for the whole run.
    "${LOAD[@]}" hog --url "$r1" --concurrency 2 --seconds 95 --max-tokens 256 --hog-words 700 \
      --json "$OUT/p2-$policy-hog.json" >/dev/null &
    local hog=$!
    sleep 15
    # shellcheck disable=SC2046
    "${LOAD[@]}" throughput --url "$(router)" $(replica_args) --concurrency 3 --seconds 60 --max-tokens 16 \
      --json "$OUT/p2-$policy.json" >/dev/null
    wait "$hog"
    cp "${CLUSTER_DIR:-/tmp/peregrine-cluster}/router.log" "$OUT/p2-$policy-router.log"
    summary "$OUT/p2-$policy.json"
    python3 - "$OUT/p2-$policy.json" "$OUT/p2-$policy-hog.json" "$OUT/p2-$policy-router.log" <<'PY'
import json, re, sys
d, hog = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
served = [r["requests"] for r in d["server"]["replicas"]]
print(f"  finished per replica (replica 1 includes {hog['client']['ok']} hog requests): {served}")
sel, loads = {}, {}
pattern = re.compile(r"Power-of-two selection: (\S+)=(-?\d+) vs (\S+)=(-?\d+) -> selected (\S+)")
for line in open(sys.argv[3], errors="replace"):
    m = pattern.search(re.sub(r"\x1b\[[0-9;]*m", "", line))
    if m:
        a, la, b, lb, chosen = m.groups()
        sel[chosen] = sel.get(chosen, 0) + 1
        loads.setdefault(a, []).append(int(la))
        loads.setdefault(b, []).append(int(lb))
if sel:
    print("  power_of_two selections:", {k: sel[k] for k in sorted(sel)})
    print("  mean load (num_tokens) it compared:", {k: round(sum(v) / len(v)) for k, v in sorted(loads.items())})
PY
    down
  done
}

event_run() {
  local what=$1 policy=$2 stream_flag=${3:-}
  up --replicas 3 --policy "$policy" --kv-cache-memory 256MiB
  local name=$OUT/$what-$policy${stream_flag:+-nostream}.json
  local action=kill
  [[ $what == drain ]] && action=term
  # shellcheck disable=SC2046
  "${LOAD[@]}" steady --url "$(router)" $(replica_args) --concurrency 6 --seconds 90 --max-tokens 32 \
    --at 30 --run "scripts/cluster.sh $action 2" --watch 2 $stream_flag --json "$name" >/dev/null
  cp "${CLUSTER_DIR:-/tmp/peregrine-cluster}/replica2.events" "$OUT/$what-$policy-events.txt"
  summary "$name"
  down
}

throughput() {
  local runs=${1:-3}
  for run in $(seq 1 "$runs"); do
    up --replicas 1 --policy round_robin --kv-cache-memory 256MiB
    # shellcheck disable=SC2046
    "${LOAD[@]}" throughput --url "$(scripts/cluster.sh urls | sed -n 2p)" $(replica_args) --concurrency 8 \
      --seconds 60 --max-tokens 64 --seed "$run" --json "$OUT/throughput-1direct-$run.json" >/dev/null
    summary "$OUT/throughput-1direct-$run.json"
    down
    up --replicas 3 --policy round_robin --kv-cache-memory 256MiB
    # shellcheck disable=SC2046
    "${LOAD[@]}" throughput --url "$(router)" $(replica_args) --concurrency 24 --seconds 60 --max-tokens 64 \
      --seed "$run" --json "$OUT/throughput-3router-$run.json" >/dev/null
    summary "$OUT/throughput-3router-$run.json"
    down
  done
}

case ${1:-} in
  tenants) shift; tenants "$@" ;;
  p2) p2 ;;
  kill) event_run kill "${2:-cache_aware}" "${3:-}" ;;
  drain) event_run drain "${2:-cache_aware}" ;;
  throughput) shift; throughput "$@" ;;
  *) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac

#!/usr/bin/env bash
# Serving, side by side in one sitting: llama-server (the reference table's flags) and
# `peregrine serve`, each driven by the same load tool, `peregrine bench serve --url` (closed loop,
# levels 1,4,8,16, ~219-token unique prompts, 128 output tokens, prompt caching off).
#   scripts/bench-serve-vs-llama-server.sh [MODEL.gguf]
#   env: LLAMA_SERVER (/tmp/llama.cpp/build/bin/llama-server), LEVELS (1,4,8,16), THREADS (2),
#        NUMERICS (exact; fast = `serve --numerics fast`), RUN_ROUNDS (3: `peregrine run` baseline for C=1),
#        KV_CACHE_TYPE (f16; q8_0 = `serve --kv-cache-type q8_0`)
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${1:-$HOME/.cache/peregrine/models/SmolLM2-135M-Instruct.Q4_1.gguf}
LLAMA_SERVER=${LLAMA_SERVER:-/tmp/llama.cpp/build/bin/llama-server}
LEVELS=${LEVELS:-1,4,8,16}
THREADS=${THREADS:-2}
NUMERICS=${NUMERICS:-exact}
KV_CACHE_TYPE=${KV_CACHE_TYPE:-f16}
RUN_ROUNDS=${RUN_ROUNDS:-3}
BIN=${PEREGRINE:-.build/release/peregrine}
OUT=$(mktemp -d /tmp/bench-serve.XXXXXX)
[ -x "$BIN" ] || swift build -c release --product peregrine >/dev/null

# The load's prompt text, and the same text for the `peregrine run` baseline.
PROMPT_FILE=$OUT/prompt.txt
"$BIN" bench serve --print-prompt >"$PROMPT_FILE"

wait_ready() { for _ in $(seq 1 3000); do curl -sf "http://127.0.0.1:$1/health" >/dev/null && return 0; sleep 0.1; done; return 1; }

run_one() { # name port command...
  local name=$1 port=$2; shift 2
  "$@" >"$OUT/$name.log" 2>&1 &
  local pid=$!
  wait_ready "$port" || { echo "$name did not start" >&2; tail "$OUT/$name.log" >&2; kill $pid; return 1; }
  "$BIN" bench serve --url "http://127.0.0.1:$port" --concurrency "$LEVELS" --no-prefix-caching \
    --prompt-file "$PROMPT_FILE" --json >"$OUT/$name.json"
  kill -TERM $pid; wait $pid 2>/dev/null || true
}

echo "## llama-server (-t $THREADS -np 16 -c 32768 --cont-batching)"
run_one llama 8391 "$LLAMA_SERVER" -m "$MODEL" -t "$THREADS" -np 16 -c 32768 --cont-batching --port 8391
echo "## peregrine serve (--threads $THREADS --numerics $NUMERICS --kv-cache-type $KV_CACHE_TYPE)"
run_one peregrine 8392 "$BIN" serve --model "$MODEL" --threads "$THREADS" --port 8392 --usage-db none \
  --numerics "$NUMERICS" --kv-cache-type "$KV_CACHE_TYPE"
# C=1 baseline: `peregrine run` on the load test's prompt (raw, greedy, 128 tokens, EOS ignored).
PROMPT="[run-c1-r0] $(cat "$PROMPT_FILE")"
for r in $(seq "$RUN_ROUNDS"); do
  "$BIN" run --model "$MODEL" --threads "$THREADS" --numerics "$NUMERICS" --raw --temperature 0 --ignore-eos \
    --max-tokens 128 --json -p "$PROMPT" 2>/dev/null >"$OUT/run-$r.json"
done
python3 - "$OUT" <<'PY'
import json, sys
d = sys.argv[1]
a = {l["concurrency"]: l for l in json.load(open(f"{d}/llama.json"))}
b = {l["concurrency"]: l for l in json.load(open(f"{d}/peregrine.json"))}
import glob, statistics
runs = [json.load(open(f))["timings"] for f in sorted(glob.glob(f"{d}/run-*.json"))]
if runs:
    e2e = statistics.median(t["ttft_ms"] / 1000 + 127 / t["decode_tokens_per_second"] for t in runs)
    itl = statistics.median(1000 / t["decode_tokens_per_second"] for t in runs)
    one = b.get(1)
    print(f"\nperegrine run, same prompt, 128 tokens (median of {len(runs)}): e2e {e2e:.2f} s, per token {itl:.2f} ms")
    if one:
        per_request = one["wall_s"] / one["completed"]  # closed loop, one worker: requests back to back
        print(f"peregrine serve C=1: e2e mean {per_request:.2f} s, ITL p50 {one['itl']['p50'] * 1e3:.2f} ms "
              f"(serve/run e2e {per_request / e2e:.2f})")
print("\n| C | llama-server tok/s | peregrine tok/s | ratio | llama-server TTFT p50 s | peregrine TTFT p50 s | TTFT ratio | llama ITL p50 ms | peregrine ITL p50 ms |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for c in sorted(a):
    x, y = a[c], b[c]
    tx, ty = x["output_tokens_per_second"], y["output_tokens_per_second"]
    print(f"| {c} | {tx:.1f} | {ty:.1f} | {ty/tx:.2f}× | {x['ttft']['p50']:.3f} | {y['ttft']['p50']:.3f} | "
          f"{y['ttft']['p50']/x['ttft']['p50']:.2f} | {x['itl']['p50']*1e3:.1f} | {y['itl']['p50']*1e3:.1f} |")
PY
echo "raw: $OUT"

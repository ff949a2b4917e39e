#!/usr/bin/env bash
# Peregrine against llama.cpp's llama-bench on the same GGUF file and thread count, runs alternating
# in one sitting (one repetition of each tool per round, after each tool's own warm-up run), then the
# median tokens/s of each test per tool.
#
#   scripts/bench-vs-llamacpp.sh [MODEL.gguf]
#   env: THREADS (2), ROUNDS (5), PROMPT (512), GEN (128),
#        PEREGRINE (.build/release/peregrine), LLAMA_BENCH (/tmp/llama.cpp-build/bin/llama-bench)
#
# llama.cpp is built locally and never committed; see BENCHMARKS.md for how.
set -euo pipefail
MODEL=${1:-$HOME/.cache/peregrine/models/SmolLM2-135M-Instruct.Q4_1.gguf}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-5}
PROMPT=${PROMPT:-512}
GEN=${GEN:-128}
PEREGRINE=${PEREGRINE:-.build/release/peregrine}
LLAMA_BENCH=${LLAMA_BENCH:-/tmp/llama.cpp-build/bin/llama-bench}
OUT=$(mktemp -d /tmp/peregrine-bench.XXXXXX)

for tool in "$PEREGRINE" "$LLAMA_BENCH"; do
  [ -x "$tool" ] || { echo "missing $tool" >&2; exit 1; }
done
echo "model $MODEL, $THREADS threads, $ROUNDS rounds, pp$PROMPT / tg$GEN; raw results in $OUT" >&2
for r in $(seq 1 "$ROUNDS"); do
  "$PEREGRINE" bench -m "$MODEL" -p "$PROMPT" -n "$GEN" -r 1 -t "$THREADS" --json > "$OUT/peregrine-$r.json"
  "$LLAMA_BENCH" -m "$MODEL" -p "$PROMPT" -n "$GEN" -r 1 -t "$THREADS" -o json > "$OUT/llama-$r.json" 2>/dev/null
  echo "round $r done" >&2
done

python3 - "$OUT" "$ROUNDS" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
runs = {"peregrine": {}, "llama.cpp": {}}
for r in range(1, rounds + 1):
    for t in json.load(open(f"{out}/peregrine-{r}.json")):
        runs["peregrine"].setdefault(t["test"], []).append(t["tokens_per_second"])
    for t in json.load(open(f"{out}/llama-{r}.json")):
        test = f"pp{t['n_prompt']}" if t["n_gen"] == 0 else f"tg{t['n_gen']}"
        runs["llama.cpp"].setdefault(test, []).append(t["avg_ts"])
print("| test | peregrine t/s (median) | llama.cpp t/s (median) | ratio | peregrine runs | llama.cpp runs |")
print("| --- | ---: | ---: | ---: | --- | --- |")
for test in sorted(runs["peregrine"], key=lambda s: (s[:2], int(s[2:]))):
    p, l = runs["peregrine"][test], runs["llama.cpp"].get(test, [])
    mp = statistics.median(p)
    ml = statistics.median(l) if l else float("nan")
    fmt = lambda xs: ", ".join(f"{x:.1f}" for x in xs)
    print(f"| {test} | {mp:.1f} | {ml:.1f} | {mp / ml:.2f}× | {fmt(p)} | {fmt(l)} |")
PY

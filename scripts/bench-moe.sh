#!/usr/bin/env bash
# Mixture-of-experts decode speed (issue 17): the qwen3moe test model (8 experts, 2 used per token)
# against its dense twin with the same active parameters (qwen3-dense2x: the same attention, one FFN
# twice as wide), in Peregrine and in llama.cpp's llama-bench, all four runs alternating in one
# sitting (one repetition each per round), medians per tool, model and test.
#
#   scripts/bench-moe.sh
#   env: THREADS (2), ROUNDS (5), PROMPT (64), GEN (128), PEREGRINE (.build/release/peregrine),
#        LLAMA_BENCH (/tmp/llama.cpp/build/bin/llama-bench)
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-5}
PROMPT=${PROMPT:-64}
GEN=${GEN:-128}
PEREGRINE=${PEREGRINE:-.build/release/peregrine}
LLAMA_BENCH=${LLAMA_BENCH:-/tmp/llama.cpp/build/bin/llama-bench}
SOURCE=${SOURCE:-$HOME/.cache/peregrine/models/SmolLM2-135M-Instruct.Q4_1.gguf}
DIR=$(python3 tools/make_test_models.py --source "$SOURCE" --cache-root "$HOME/.cache/peregrine/test-models" \
  --only qwen3moe,qwen3-dense2x | tail -1)
OUT=$(mktemp -d /tmp/peregrine-bench-moe.XXXXXX)
echo "models in $DIR, $THREADS threads, $ROUNDS rounds, pp$PROMPT / tg$GEN; raw results in $OUT" >&2
for r in $(seq 1 "$ROUNDS"); do
  for m in qwen3moe qwen3-dense2x; do
    "$PEREGRINE" bench -m "$DIR/$m.gguf" -p "$PROMPT" -n "$GEN" -r 1 -t "$THREADS" --json > "$OUT/peregrine-$m-$r.json"
    "$LLAMA_BENCH" -m "$DIR/$m.gguf" -p "$PROMPT" -n "$GEN" -r 1 -t "$THREADS" -o json > "$OUT/llama-$m-$r.json" 2>/dev/null
  done
  echo "round $r done ($(cut -d' ' -f1-3 /proc/loadavg) load)" >&2
done
python3 - "$OUT" "$ROUNDS" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
runs = {}
for r in range(1, rounds + 1):
    for m in ["qwen3moe", "qwen3-dense2x"]:
        for t in json.load(open(f"{out}/peregrine-{m}-{r}.json")):
            runs.setdefault(("peregrine", m, t["test"]), []).append(t["tokens_per_second"])
        for t in json.load(open(f"{out}/llama-{m}-{r}.json")):
            test = f"pp{t['n_prompt']}" if t["n_gen"] == 0 else f"tg{t['n_gen']}"
            runs.setdefault(("llama.cpp", m, test), []).append(t["avg_ts"])
med = {k: statistics.median(v) for k, v in runs.items()}
fmt = lambda xs: ", ".join(f"{x:.1f}" for x in xs)
print("| tool | model | test | t/s (median) | runs |")
print("| --- | --- | --- | ---: | --- |")
for k in sorted(runs):
    print(f"| {k[0]} | {k[1]} | {k[2]} | {med[k]:.1f} | {fmt(runs[k])} |")
tests = sorted({k[2] for k in runs})
for test in tests:
    moe, dense = med.get(("peregrine", "qwen3moe", test)), med.get(("peregrine", "qwen3-dense2x", test))
    ref = med.get(("llama.cpp", "qwen3moe", test))
    if moe and dense and ref:
        print(f"{test}: Peregrine MoE / Peregrine dense twin = {moe / dense:.2f}x; Peregrine MoE / llama.cpp MoE = {moe / ref:.2f}x")
PY

#!/usr/bin/env bash
# Peregrine against llama.cpp at the sizes people run: random-weight GGUFs at real models' shapes
# (tools/make_random_gguf.py), quantized with llama.cpp's llama-quantize, then `peregrine bench` and
# llama-bench alternately on the same file and thread count (one repetition of each per round, after
# each tool's own warm-up), medians per tool, with the read bandwidth Peregrine's probe measures and
# each tool's decode share of it (weight bytes a token streams × tokens/s ÷ bandwidth).
#
#   scripts/bench-scale.sh                 # everything below at its defaults
#   SHAPES=tinyllama-1.1b TYPES="Q4_0 Q8_0" THREADS=2 ROUNDS=3 scripts/bench-scale.sh
#   scripts/bench-scale.sh --report DIR    # print the tables of an earlier run again
#
# Issue 23's done-means table (1.1B and 3B; Q4_0, Q4_K_M, Q8_0, Q6_K; 2 and 1 threads; medians of 5;
# read bandwidth and each run's share of it), on a quiet machine, after `swift build -c release`:
#
#   SHAPES="tinyllama-1.1b llama-3.2-3b" TYPES="Q4_0 Q4_K_M Q8_0 Q6_K" THREADS="2 1" ROUNDS=5 scripts/bench-scale.sh
#
# Timed on 2 Zen 5 cores once the files exist (2026-12-03): both shapes, the four types, ROUNDS=3 took
# 36 min with THREADS="2 1" and 15 min with THREADS=2 (1 thread takes about twice 2 threads); ROUNDS=5
# is about 5/3 of that. Writing the 3B F16 source and quantizing it takes ~15 min once. Disk in
# MODELS: the four 1.1B files 3.4 GB, the four 3B files ~10 GB, plus the shape's F16 source while it
# is being quantized (2.2 GB for 1.1B, 6.4 GB for 3B, 16 GB for 8B; deleted after unless
# KEEP_F16=1), so ~20 GB free at the peak. Files already in MODELS are reused.
#
# env: SHAPES ("tinyllama-1.1b llama-3.2-3b llama-3.1-8b"; see `tools/make_random_gguf.py --list`),
#      TYPES ("Q4_0 Q4_K_M Q5_K_M Q6_K Q8_0 IQ4_NL"), THREADS ("1 2"), ROUNDS (5), PROMPT (512),
#      GEN (128), NUMERICS (exact), MODELS ($HOME/.cache/peregrine-scale), KEEP_F16 (0: delete each
#      F16 source once its quantized files exist), PEREGRINE (.build/release/peregrine),
#      LLAMA_BIN (/tmp/llama.cpp/build/bin), OUT (a new /tmp/peregrine-scale.XXXXXX).
# Weight files are large (the 8B F16 source is 16 GB) and never belong in git. Needs python3 with
# `gguf` and `numpy` (pip) to make the files.
set -euo pipefail
cd "$(dirname "$0")/.."

report() {
  python3 - "$1" <<'PY'
import json, os, statistics, sys
out = sys.argv[1]
rows = [json.loads(l) for l in open(os.path.join(out, "results.jsonl"))]
bw = {}
for r in rows:
    if r["tool"] == "peregrine" and r.get("read_bandwidth"):
        bw.setdefault(r["threads"], []).append(r["read_bandwidth"])
bw = {t: statistics.median(v) for t, v in bw.items()}
streamed = {r["file"]: r["weight_bytes_per_token"] for r in rows if r.get("weight_bytes_per_token")}
meta = json.load(open(os.path.join(out, "meta.json")))
print(f"sitting {meta['started']} – {meta['finished']}, {meta['rounds']} alternating rounds, pp{meta['prompt']} / "
      f"tg{meta['gen']}, --numerics {meta['numerics']}; load average at start {meta['load_start']}, at end "
      f"{meta['load_end']}")
print("read bandwidth (Peregrine's probe, median): " + ", ".join(f"{t} thread{'s' if t > 1 else ''} {v / 1e9:.1f} GB/s" for t, v in sorted(bw.items())))
shapes = []
for r in rows:
    if r["shape"] not in shapes:
        shapes.append(r["shape"])
for shape in shapes:
    print(f"\n#### {shape}\n")
    print("| file | threads | test | Peregrine t/s | llama.cpp t/s | ratio | Peregrine % of bw | llama.cpp % of bw | Peregrine runs | llama.cpp runs |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    keys = []
    for r in rows:
        k = (r["file"], r["type"], r["threads"], r["test"])
        if r["shape"] == shape and k not in keys:
            keys.append(k)
    for f, typ, th, test in keys:
        runs = {tool: [r["tps"] for r in rows if (r["file"], r["threads"], r["test"], r["tool"]) == (f, th, test, tool)]
                for tool in ("peregrine", "llama.cpp")}
        p = statistics.median(runs["peregrine"]) if runs["peregrine"] else float("nan")
        l = statistics.median(runs["llama.cpp"]) if runs["llama.cpp"] else float("nan")
        share = lambda v: (f"{100 * streamed[f] * v / bw[th]:.0f} %" if test.startswith("tg") and f in streamed and th in bw else "")
        fmt = lambda xs: ", ".join(f"{x:.1f}" for x in xs)
        print(f"| {typ} | {th} | {test} | {p:.1f} | {l:.1f} | **{p / l:.2f}×** | {share(p)} | {share(l)} | {fmt(runs['peregrine'])} | {fmt(runs['llama.cpp'])} |")
PY
}

if [ "${1:-}" = "--report" ]; then
  report "$2"
  exit 0
fi

SHAPES=${SHAPES:-tinyllama-1.1b llama-3.2-3b llama-3.1-8b}
TYPES=${TYPES:-Q4_0 Q4_K_M Q5_K_M Q6_K Q8_0 IQ4_NL}
THREADS=${THREADS:-1 2}
ROUNDS=${ROUNDS:-5}
PROMPT=${PROMPT:-512}
GEN=${GEN:-128}
NUMERICS=${NUMERICS:-exact}
MODELS=${MODELS:-$HOME/.cache/peregrine-scale}
KEEP_F16=${KEEP_F16:-0}
PEREGRINE=${PEREGRINE:-.build/release/peregrine}
LLAMA_BIN=${LLAMA_BIN:-/tmp/llama.cpp/build/bin}
OUT=${OUT:-$(mktemp -d /tmp/peregrine-scale.XXXXXX)}
mkdir -p "$MODELS" "$OUT"
for tool in "$PEREGRINE" "$LLAMA_BIN/llama-bench" "$LLAMA_BIN/llama-quantize"; do
  [ -x "$tool" ] || { echo "missing $tool (swift build -c release; llama.cpp: see BENCHMARKS.md)" >&2; exit 1; }
done

# 1. The files: generate each shape's F16 source when a quantized file is missing, quantize, drop the source.
for shape in $SHAPES; do
  src="$MODELS/$shape-F16.gguf"
  for type in $TYPES; do
    file="$MODELS/$shape-$type.gguf"
    [ -s "$file" ] && continue
    if [ ! -s "$src" ]; then
      echo "writing $src" >&2
      python3 tools/make_random_gguf.py "$shape" "$src.part" && mv "$src.part" "$src"
    fi
    echo "quantizing $file" >&2
    "$LLAMA_BIN/llama-quantize" "$src" "$file.part" "$type" "$(nproc)" > "$OUT/quantize-$shape-$type.log" 2>&1
    mv "$file.part" "$file"
  done
  if [ "$KEEP_F16" = 0 ] && [ -e "$src" ]; then rm -f "$src"; fi
done

load() { cut -d' ' -f1-3 /proc/loadavg; }
cat > "$OUT/meta.json" <<EOF
{"started": "$(date -u +%FT%TZ)", "rounds": $ROUNDS, "prompt": $PROMPT, "gen": $GEN, "numerics": "$NUMERICS",
 "load_start": "$(load)", "cpu": "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs)"}
EOF
echo "results in $OUT" >&2

# 2. Alternating rounds: per round, every file and thread count, Peregrine then llama.cpp.
for r in $(seq 1 "$ROUNDS"); do
  for shape in $SHAPES; do
    for type in $TYPES; do
      file="$MODELS/$shape-$type.gguf"
      for t in $THREADS; do
        p=$("$PEREGRINE" bench -m "$file" -p "$PROMPT" -n "$GEN" -r 1 -t "$t" --numerics "$NUMERICS" --json)
        l=$("$LLAMA_BIN/llama-bench" -m "$file" -p "$PROMPT" -n "$GEN" -r 1 -t "$t" -o json 2>/dev/null)
        python3 - "$shape" "$type" "$file" "$t" "$p" "$l" >> "$OUT/results.jsonl" <<'PY'
import json, sys
shape, typ, f, threads, p, l = sys.argv[1:]
for t in json.loads(p):
    print(json.dumps({"tool": "peregrine", "shape": shape, "type": typ, "file": f, "threads": int(threads),
                      "test": t["test"], "tps": t["tokens_per_second"], "read_bandwidth": t.get("read_bandwidth"),
                      "weight_bytes_per_token": t.get("weight_bytes_per_token")}))
for t in json.loads(l):
    test = f"pp{t['n_prompt']}" if t["n_gen"] == 0 else f"tg{t['n_gen']}"
    print(json.dumps({"tool": "llama.cpp", "shape": shape, "type": typ, "file": f, "threads": int(threads),
                      "test": test, "tps": t["avg_ts"]}))
PY
        echo "round $r: $shape $type $t threads done" >&2
      done
    done
  done
done
python3 - "$OUT/meta.json" "$(date -u +%FT%TZ)" "$(load)" <<'PY'
import json, sys
m = json.load(open(sys.argv[1])); m["finished"], m["load_end"] = sys.argv[2], sys.argv[3]
json.dump(m, open(sys.argv[1], "w"))
PY
report "$OUT"

#!/usr/bin/env bash
# Launch to first token and peak resident memory, Peregrine (`peregrine run --max-tokens 1`) against
# llama.cpp (`llama-simple -n 1`) on the same files, warm page cache (each tool runs once untimed),
# runs alternating, medians. Wall time is the whole process: load, repack, the prompt, one
# generated token, exit. The prompt is the shortest prefix of TEXT that the file's tokenizer turns
# into at least PROMPT_TOKENS tokens with BOS (issue 23 asks for 16; a piece can add two or three at
# once, and the count used is printed), so random-vocabulary files (tools/make_random_gguf.py) get
# about the same prompt length as real ones.
#
#   scripts/bench-load.sh FILE.gguf [FILE.gguf ...]
#   ROUNDS=5 scripts/bench-load.sh ~/.cache/peregrine-scale/llama-3.2-3b-Q4_K_M.gguf   # issue 23's file
#   env: ROUNDS (5), THREADS (2), PROMPT_TOKENS (16), TEXT (an English paragraph),
#        PEREGRINE (.build/release/peregrine), LLAMA_BIN (/tmp/llama.cpp/build/bin)
# About (2 + 2·ROUNDS) × the two tools' launch times per file: ~1.5 min for a 3B file at ROUNDS=5.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
THREADS=${THREADS:-2}
PEREGRINE=${PEREGRINE:-.build/release/peregrine}
LLAMA_BIN=${LLAMA_BIN:-/tmp/llama.cpp/build/bin}
PROMPT_TOKENS=${PROMPT_TOKENS:-16}
TEXT=${TEXT:-"The quick brown fox jumps over the lazy dog while the cat sleeps by the warm fire. Outside, the rain keeps falling on the old stone bridge, and the river runs high and brown toward the sea."}
OUT=$(mktemp -d /tmp/peregrine-load.XXXXXX)
[ $# -ge 1 ] || { echo "usage: $0 FILE.gguf ..." >&2; exit 2; }

measure() {  # label file command...: appends "label file seconds maxrss_kb"
  local label=$1 file=$2
  shift 2
  /usr/bin/time -f "%e %M" -o "$OUT/time" "$@" > /dev/null 2>&1
  echo "$label $file $(cat "$OUT/time")" >> "$OUT/results"
}

# The shortest prefix of TEXT with at least PROMPT_TOKENS tokens (BOS included) in FILE's vocabulary.
fit_prompt() {
  python3 - "$PEREGRINE" "$1" "$PROMPT_TOKENS" "$TEXT" <<'PY'
import json, subprocess, sys
peregrine, f, want, text = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
count = lambda s: len(json.loads(subprocess.run([peregrine, "tokenize", "-m", f, "--add-special", s],
                                                check=True, capture_output=True, text=True).stdout))
lo, hi = 1, len(text)
while lo < hi:
    mid = (lo + hi) // 2
    if count(text[:mid]) >= want: hi = mid
    else: lo = mid + 1
print(text[:lo])
PY
}

for f in "$@"; do
  PROMPT=$(fit_prompt "$f")
  tokens=$("$PEREGRINE" tokenize -m "$f" --add-special "$PROMPT" | python3 -c "import json,sys; print(len(json.load(sys.stdin)))")
  echo "$f: prompt of $tokens tokens: $PROMPT" >&2
  "$PEREGRINE" run -m "$f" --prompt "$PROMPT" --raw --max-tokens 1 -t "$THREADS" > /dev/null 2>&1
  "$LLAMA_BIN/llama-simple" -m "$f" -n 1 "$PROMPT" > /dev/null 2>&1
  for r in $(seq 1 "$ROUNDS"); do
    measure peregrine "$f" "$PEREGRINE" run -m "$f" --prompt "$PROMPT" --raw --max-tokens 1 -t "$THREADS"
    measure llama.cpp "$f" "$LLAMA_BIN/llama-simple" -m "$f" -n 1 "$PROMPT"
  done
done

python3 - "$OUT/results" <<'PY'
import os, statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
print("| file | size | Peregrine launch → first token | llama.cpp | Peregrine peak RSS | llama.cpp peak RSS | runs (s) |")
print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
for f in dict.fromkeys(r[1] for r in rows):
    get = lambda tool, i: [float(r[i]) for r in rows if r[0] == tool and r[1] == f]
    pt, lt = get("peregrine", 2), get("llama.cpp", 2)
    pm, lm = get("peregrine", 3), get("llama.cpp", 3)
    mib = lambda kb: f"{statistics.median(kb) / 1024:.0f} MiB"
    print(f"| {os.path.basename(f)} | {os.path.getsize(f) / 2**20:.0f} MiB | {statistics.median(pt):.2f} s | "
          f"{statistics.median(lt):.2f} s | {mib(pm)} | {mib(lm)} | {', '.join(map(str, pt))} / {', '.join(map(str, lt))} |")
PY

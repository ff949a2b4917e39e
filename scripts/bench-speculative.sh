#!/usr/bin/env bash
# Speculative decoding, measured side by side in one sitting: for each prompt, plain decoding and
# speculative decoding run alternately ROUNDS times (release build, THREADS threads); medians of the
# decode tokens/s that `peregrine run --json` reports.
#   scripts/bench-speculative.sh            # n-gram on input-grounded and open-ended prompts,
#                                           # and a Q4_1 draft for an F16 target
#   ONLY=draft DRAFT_TOKENS="5 8" scripts/bench-speculative.sh   # only the draft-model pairs, one
#                                           # row per draft length (the adaptive policy's maximum)
#   ONLY=ngram NUMERICS=fast scripts/bench-speculative.sh         # n-gram rows only, both runs of
#                                           # each pair with --numerics fast
#   ONLY=ngram NGRAM_MODEL=FILE.gguf scripts/bench-speculative.sh # n-gram rows on another model, e.g.
#                                           # tools/make_test_models.py's llama-wide at 1.4B (issue 23)
# The last column says whether every speculative run generated the plain runs' ids.
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-5}
MAXTOK=${MAXTOK:-192}
BIN=${PEREGRINE:-.build/release/peregrine}
[ -x "$BIN" ] || swift build -c release --product peregrine >/dev/null
F16=${F16_MODEL:-/tmp/peregrine-smollm2-f16.gguf}
[ -f "$F16" ] || "$BIN" quantize --model smollm2-135m --out "$F16" --type f16 >/dev/null 2>&1

CODE='def parse_config(path):
    """Read a key=value config file into a dict, skipping comments and blank lines."""
    result = {}
    with open(path) as handle:
        for line_number, line in enumerate(handle, start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if "=" not in line:
                raise ValueError(f"line {line_number}: expected key=value")
            key, value = line.split("=", 1)
            result[key.strip()] = value.strip()
    return result'
PASSAGE='The committee met on Tuesday to review the budget, the hiring plan and the new office lease. After a long discussion the budget was approved without changes, the hiring plan was postponed until the spring, and the lease was sent back to the landlord with three questions about heating, parking and the length of the contract.'
declare -a NAMES PROMPTS
NAMES+=("code-rewrite");    PROMPTS+=("Rewrite this Python function with type hints, keeping everything else the same:
$CODE")
NAMES+=("passage-repeat");  PROMPTS+=("Repeat the following passage word for word, then add one sentence:
$PASSAGE")
NAMES+=("open-story");      PROMPTS+=("Write a short story about a lighthouse keeper who finds a message in a bottle.")
NAMES+=("open-explain");    PROMPTS+=("Explain how vaccines train the immune system.")
# A second code prompt (appended, so the draft-model rows below keep their indices): SmolLM2 answers
# the type-hint prompt with a new one-line body, so little of its output is in the input; here it
# prints the function back, which is the copying that prompt lookup is for.
NAMES+=("code-rename");     PROMPTS+=("Rename the variable result to config in this Python function and print the whole function:
$CODE")

median() { python3 -c 'import sys,statistics; v=[float(x) for x in sys.argv[1:]]; print(f"{statistics.median(v):.1f}")' "$@"; }
tps() { python3 -c 'import sys,json,hashlib; d=json.loads(sys.stdin.read()); t=d["timings"]; a=t.get("acceptance_rate"); print(t["decode_tokens_per_second"], "-" if a is None else a, hashlib.sha256(str(d["generated_ids"]).encode()).hexdigest()[:16])'; }

run_pair() { # name model prompt extra-args...
  local name=$1 model=$2 prompt=$3; shift 3
  local base=() spec=() acc=() same=yes
  for r in $(seq "$ROUNDS"); do
    read -r b _ ids1 < <("$BIN" run --model "$model" -p "$prompt" --temperature 0 --max-tokens "$MAXTOK" -t "$THREADS" --numerics "$NUMERICS" --json 2>/dev/null | tps)
    read -r s a ids2 < <("$BIN" run --model "$model" -p "$prompt" --temperature 0 --max-tokens "$MAXTOK" -t "$THREADS" --numerics "$NUMERICS" --json "$@" 2>/dev/null | tps)
    base+=("$b"); spec+=("$s"); acc+=("$a")
    [ "$ids1" = "$ids2" ] || same=NO
  done
  local mb ms ma
  mb=$(median "${base[@]}"); ms=$(median "${spec[@]}"); ma=$(median "${acc[@]}")
  python3 -c "print(f'| $name | $* | {float($mb):.1f} | {float($ms):.1f} | {float($ms)/float($mb):.2f}× | {float($ma)*100:.0f} % | $same |')"
}

ONLY=${ONLY:-all}
NUMERICS=${NUMERICS:-exact}
DRAFT_TOKENS=${DRAFT_TOKENS:-5}
echo "| prompt | speculation | plain tok/s | speculative tok/s | speed-up | acceptance | same ids |"
echo "|---|---|---:|---:|---:|---:|---|"
if [ "$ONLY" != draft ]; then
  for i in "${!NAMES[@]}"; do
    run_pair "${NAMES[$i]}" "${NGRAM_MODEL:-smollm2-135m}" "${PROMPTS[$i]}" --speculative ngram --draft-tokens 6
  done
fi
[ "$ONLY" = ngram ] && exit 0
for i in 0 2; do
  for k in $DRAFT_TOKENS; do
    run_pair "${NAMES[$i]} (F16 target)" "$F16" "${PROMPTS[$i]}" --draft-model smollm2-135m --draft-tokens "$k"
  done
done

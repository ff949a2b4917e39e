#!/usr/bin/env bash
# Speculative decoding inside the serving engine, measured side by side in one sitting: for each
# prompt, `peregrine bench serve` runs without and with `--speculative ngram` alternately ROUNDS
# times (release build, THREADS threads, CONCURRENCY clients, the prompt as a chat user message);
# medians of the decode tokens/s per request (1 / TPOT p50) and of the acceptance rate. Requests
# ignore end-of-generation (as every bench serve request does), so grounded prompts generate
# GROUNDED_MAXTOK tokens (default 48: about as long as SmolLM2's answer, which then turns to new
# prose that no lookup can draft) and open ones OPEN_MAXTOK (default 128).
#   scripts/bench-serve-speculative.sh
#   CONCURRENCY=4 ROUNDS=3 scripts/bench-serve-speculative.sh
#   STEP_TOKENS=8 scripts/bench-serve-speculative.sh   # --speculative-step-tokens (default: the engine's)
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-5}
CONCURRENCY=${CONCURRENCY:-1}
DRAFT=${DRAFT_TOKENS:-6}
GROUNDED_MAXTOK=${GROUNDED_MAXTOK:-48}
OPEN_MAXTOK=${OPEN_MAXTOK:-128}
BIN=${PEREGRINE:-.build/release/peregrine}
[ -x "$BIN" ] || swift build -c release --product peregrine >/dev/null
WORK=$(mktemp -d /tmp/peregrine-bench-serve-spec.XXXXXX)

cat >"$WORK/code-rewrite.txt" <<'TXT'
Rewrite this Python function with type hints, keeping everything else the same:
def parse_config(path):
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
    return result
TXT
cat >"$WORK/passage-repeat.txt" <<'TXT'
Repeat the following passage word for word, then add one sentence:
The committee met on Tuesday to review the budget, the hiring plan and the new office lease. After a long discussion the budget was approved without changes, the hiring plan was postponed until the spring, and the lease was sent back to the landlord with three questions about heating, parking and the length of the contract.
TXT
echo "Write a short story about a lighthouse keeper who finds a message in a bottle." >"$WORK/open-story.txt"
echo "Explain how vaccines train the immune system." >"$WORK/open-explain.txt"

median() { python3 -c 'import sys,statistics; v=[float(x) for x in sys.argv[1:]]; print(statistics.median(v))' "$@"; }
# Decode tok/s of a request (1 / TPOT p50) and the acceptance rate, from bench serve's JSON.
parse() { python3 -c 'import sys,json; r=json.load(sys.stdin)[0]; print(1/r["tpot"]["p50"], r.get("acceptance_rate", 0), r["output_tokens_per_second"])'; }

echo "| prompt | C | max tokens | plain decode tok/s | speculative decode tok/s | speed-up | acceptance | plain out tok/s | speculative out tok/s |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for name in code-rewrite passage-repeat open-story open-explain; do
  base=() spec=() acc=() bout=() sout=()
  case $name in open-*) maxtok=$OPEN_MAXTOK ;; *) maxtok=$GROUNDED_MAXTOK ;; esac
  for _ in $(seq "$ROUNDS"); do
    common=(bench serve --concurrency "$CONCURRENCY" --max-tokens "$maxtok" --prompt-file "$WORK/$name.txt" --chat -t "$THREADS" --json)
    read -r b _ bo < <("$BIN" "${common[@]}" 2>/dev/null | parse)
    read -r s a so < <("$BIN" "${common[@]}" --speculative ngram --draft-tokens "$DRAFT" \
      ${STEP_TOKENS:+--speculative-step-tokens "$STEP_TOKENS"} 2>/dev/null | parse)
    base+=("$b"); spec+=("$s"); acc+=("$a"); bout+=("$bo"); sout+=("$so")
  done
  mb=$(median "${base[@]}"); ms=$(median "${spec[@]}"); ma=$(median "${acc[@]}")
  mbo=$(median "${bout[@]}"); mso=$(median "${sout[@]}")
  python3 -c "print(f'| $name | $CONCURRENCY | $maxtok | {$mb:.1f} | {$ms:.1f} | {$ms/$mb:.2f}× | {$ma*100:.0f} % | {$mbo:.1f} | {$mso:.1f} |')"
done
rm -rf "$WORK"

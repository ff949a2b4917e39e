#!/usr/bin/env bash
# The test command (README, .ci/run). Every tier runs even when an earlier one fails; the summary
# at the end names each tier's result, and the exit status is non-zero if any failed.
#
#   scripts/test.sh          all tiers (what CI runs):
#     build    swift test's build (everything, the peregrine binary included)
#     unit     swift test -c release: every Swift suite
#     cli      `peregrine run` against llama.cpp's greedy fixtures; every command's --help; list,
#              show, rm, pull on a scratch model cache
#     server   real servers on loopback driven by real clients (openai, prometheus_client), the
#              load tool (peregrine bench serve --url), a malformed-request corpus, and operations
#              (busy port, draining /health, second SIGINT, CORS, 405, size syntax)
#     arch     the architecture tier (scripts/arch-tests.sh): qwen2/qwen3/qwen3moe/Llama 3 models
#              generated from SmolLM2 against llama.cpp's fixtures, then served, run and chatted with
#     web      the playground and dashboard in Debian's Chromium driven by selenium (scripts/web-tests.sh)
#   scripts/test.sh --fast   everyday work: unit without the slow suites (real-model and
#                            long-sequence tests: $SLOW below), then cli; about a third of the time
#
# Tests pull the models they need (smollm2-135m, gemma3-270m) into ~/.cache/peregrine/models.
set -uo pipefail
cd "$(dirname "$0")/.."

# Suites that load real models or run long sequences: most of the unit tier's time.
SLOW='InferenceEngineTests|InferenceEngineQ8Tests|InferenceEngineWindowTests|InferenceEngineSpeculationTests|SpeculativeDecodingTests|GeneratorTests|JSONConstraintModelTests|LlamaGreedyTests|Gemma3GreedyTests|Gemma3LongPromptTests|BatchedForwardTests|WindowedKVCacheTests|ModelRegistryTests|PerplexityTests'

fast=0
for arg in "$@"; do
  case $arg in
    --fast) fast=1 ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "test.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

results=()
failures=0
passes=0
tier() {
  local name=$1
  shift
  echo "=== $name: $*"
  local start=$SECONDS
  if "$@"; then
    results+=("$name: PASS ($((SECONDS - start)) s)")
    passes=$((passes + 1))
  else
    results+=("$name: FAIL ($((SECONDS - start)) s)")
    failures=$((failures + 1))
  fi
}
skip() {
  results+=("$1: NOT RUN ($2)")
  failures=$((failures + 1))
}

# `--list-tests` builds exactly what `swift test` runs (testability on, the peregrine binary
# included), so the later tiers use that binary instead of rebuilding everything without testability.
tier build bash -c "swift test -c release --list-tests >/dev/null"
built=$([[ ${results[-1]} == "build: PASS"* ]] && echo 1 || echo 0)
if ((built)); then
  if ((fast)); then
    tier unit swift test -c release --skip-build --skip "$SLOW"
  else
    tier unit swift test -c release --skip-build
  fi
  export PEREGRINE_BIN
  PEREGRINE_BIN="$(swift build -c release --show-bin-path)/peregrine"
  tier cli scripts/cli-tests.sh
  if ((fast)); then
    results+=("server: skipped (--fast)" "arch: skipped (--fast)" "web: skipped (--fast)")
  else
    tier server scripts/server-tests.sh
    tier arch env SKIP_BUILD=1 scripts/arch-tests.sh
    tier router env SKIP_BUILD=1 scripts/router-tests.sh  # replicas behind SGLang's router (sglang-router from PyPI)
    tier web env SKIP_BUILD=1 scripts/web-tests.sh  # the playground and dashboard in Chromium (apt) via selenium
  fi
else
  skip unit "the build failed"
  skip cli "the build failed"
  ((fast)) || skip server "the build failed"
  ((fast)) || skip arch "the build failed"
  ((fast)) || skip web "the build failed"
fi

echo
echo "=== summary"
printf '%s\n' "${results[@]}"
echo "tiers: $passes passed, $failures failed"
((failures == 0))

#!/usr/bin/env bash
# The architecture tier (issue 17): SmolLM2's weights laid out as qwen2, qwen3, qwen3moe and Llama 3
# (tools/make_test_models.py, generated on first use into ~/.cache/peregrine/test-models/<generator
# hash>/, never committed) against llama.cpp's outputs on the same files (Tests/Fixtures/architectures):
#   1. swift test (ArchitectureTests): perplexity within 0.5 %, identical greedy continuations, the
#      family's chat template, the batched engine equal to the single-sequence path;
#   2. `peregrine serve` per model driven by the openai client, plus `run --json` and `chat`.
#
#   scripts/arch-tests.sh              # build + both parts
#   SKIP_BUILD=1 SKIP_SWIFT_TESTS=1 scripts/arch-tests.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=$(mktemp -d /tmp/peregrine-arch-tests.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

if [[ -z "${SKIP_BUILD:-}" ]]; then swift build -c release --product peregrine; fi
BIN=$(swift build -c release --show-bin-path)/peregrine
SOURCE=$("$BIN" pull smollm2-135m >/dev/null 2>&1; python3 -c 'import os; print(os.path.join(os.environ.get("PEREGRINE_MODELS") or os.path.expanduser("~/.cache/peregrine/models"), "SmolLM2-135M-Instruct.Q4_1.gguf"))')
MODELS=$(python3 tools/make_test_models.py --source "$SOURCE" --cache-root "${PEREGRINE_TEST_MODELS_CACHE:-$HOME/.cache/peregrine/test-models}" | tail -1)
echo "architecture test models: $MODELS"

status=0
if [[ -z "${SKIP_SWIFT_TESTS:-}" ]]; then
  PEREGRINE_ARCH_TESTS=1 PEREGRINE_TEST_MODELS_DIR="$MODELS" swift test -c release --filter ArchitectureTests || status=1
fi

python3 -m pip install -q openai pytest >/dev/null 2>&1 || python3 -m pip install -q openai pytest
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
for name in qwen2 qwen3 qwen3moe llama3; do
  port=$(free_port)
  "$BIN" serve --model "$MODELS/$name.gguf" --host 127.0.0.1 --port "$port" --usage-db none --kv-cache-memory 256MiB \
    >"$WORK/$name.log" 2>&1 &
  pid=$!; PIDS+=("$pid")
  for _ in $(seq 1 6000); do
    [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health" || true)" == 200 ]] && break
    sleep 0.05
  done
  echo "== $name: serve, run, chat"
  PEREGRINE_BASE_URL="http://127.0.0.1:$port" PEREGRINE_BIN="$BIN" PEREGRINE_MODEL="$MODELS/$name.gguf" \
    PEREGRINE_FIXTURE="$ROOT/Tests/Fixtures/architectures/$name.json" \
    python3 -m pytest -q -p no:cacheprovider "$ROOT/Tests/ServerTests/architecture_chat_test.py" || { status=1; tail -20 "$WORK/$name.log"; }
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
done
echo "architecture tests: $([[ $status == 0 ]] && echo PASS || echo FAIL) (logs in $WORK)"
exit $status

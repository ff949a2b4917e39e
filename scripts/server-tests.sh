#!/usr/bin/env bash
# Starts `peregrine serve` on free loopback ports and drives it with the real `openai` Python
# client, prometheus_client's parser, the repository's load tool (`peregrine bench serve --url`), a
# malformed-request fuzz corpus, and the operational checks (Tests/ServerTests/operations_test.py:
# busy port, draining /health, second SIGINT, CORS, 405, ps). Exits non-zero if any part fails; the
# servers are stopped either way. Nothing outside the repository is read.
#
#   scripts/server-tests.sh                               # builds peregrine first
#   PEREGRINE_BIN=path/to/peregrine scripts/server-tests.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
MODEL=${PEREGRINE_TEST_MODEL:-smollm2-135m}
API_KEY=sk-peregrine-test
WORK=$(mktemp -d /tmp/peregrine-server-tests.XXXXXX)
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT

python3 -m pip install -q openai prometheus_client pytest jsonschema >/dev/null 2>&1 || python3 -m pip install -q openai prometheus_client pytest jsonschema

if [[ -z "${PEREGRINE_BIN:-}" ]]; then
  swift build -c release --product peregrine
  PEREGRINE_BIN="$(swift build -c release --show-bin-path)/peregrine"
fi
BIN=$PEREGRINE_BIN
export PEREGRINE_BIN PEREGRINE_TEST_MODEL="$MODEL"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# Starts a server; prints its pid. Extra flags follow the port.
start_server() {
  local port=$1 log=$2
  shift 2
  env -u PEREGRINE_API_KEY "$BIN" serve --model "$MODEL" --shutdown-grace 5 --host 127.0.0.1 --port "$port" "$@" >"$log" 2>&1 &
  echo $!
}

# Polls /health until 200; records every status seen (the 503 while loading among them).
wait_ready() {
  local port=$1 seen=$2
  : >"$seen"
  for _ in $(seq 1 6000); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health" || true)
    echo "$code" >>"$seen"
    [[ "$code" == 200 ]] && return 0
    sleep 0.01
  done
  echo "server on port $port never became healthy" >&2
  return 1
}

PORT=$(free_port)
# --max-model-len bounds requests that leave max_tokens unset (the fuzz corpus sends max_tokens: null).
start_server "$PORT" "$WORK/server.log" --api-key "$API_KEY" --usage-db "$WORK/usage.sqlite" \
  --max-batch-tokens 256 --max-model-len 1024 >"$WORK/pid"
PID=$(cat "$WORK/pid"); PIDS+=("$PID")
wait_ready "$PORT" "$WORK/health-statuses" || { cat "$WORK/server.log"; exit 1; }

# A second, tiny-queue server so that 429 can be provoked without starving the first.
PORT_SMALL=$(free_port)
start_server "$PORT_SMALL" "$WORK/server-small.log" --max-running 1 --max-waiting 1 --usage-db none >"$WORK/pid2"
PID2=$(cat "$WORK/pid2"); PIDS+=("$PID2")
wait_ready "$PORT_SMALL" "$WORK/health-statuses-small" || { cat "$WORK/server-small.log"; exit 1; }

# A third server speculating with a draft model by default, in the fast summation order.
PORT_DRAFT=$(free_port)
start_server "$PORT_DRAFT" "$WORK/server-draft.log" --draft-model "$MODEL" --draft-tokens 4 --numerics fast \
  --kv-cache-memory 256MiB --usage-db none >"$WORK/pid3"
PID3=$(cat "$WORK/pid3"); PIDS+=("$PID3")
wait_ready "$PORT_DRAFT" "$WORK/health-statuses-draft" || { cat "$WORK/server-draft.log"; exit 1; }

status=0
export PEREGRINE_DRAFT_URL="http://127.0.0.1:$PORT_DRAFT"
export PEREGRINE_BASE_URL="http://127.0.0.1:$PORT" PEREGRINE_API_KEY="$API_KEY"
export PEREGRINE_SMALL_URL="http://127.0.0.1:$PORT_SMALL"
export PEREGRINE_HEALTH_STATUSES="$WORK/health-statuses $WORK/health-statuses-small"
export PEREGRINE_USAGE_DB="$WORK/usage.sqlite"

echo "== openai client tests"
python3 -m pytest -q -p no:cacheprovider "$ROOT/Tests/ServerTests/openai_client_test.py" || status=1

echo "== tool calling and reasoning (tools, tool_choice, 100 sampled forced calls, <think> split)"
python3 -m pytest -q -p no:cacheprovider "$ROOT/Tests/Tools/tools_test.py" || status=1

echo "== fuzz corpus"
python3 "$ROOT/Tests/ServerTests/fuzz_test.py" || status=1

# The load tool drives a server that speculates by default, so concurrent requests must still
# return exactly max_tokens tokens when several drafts are accepted at once.
PORT_LOAD=$(free_port)
start_server "$PORT_LOAD" "$WORK/server-load.log" --usage-db none --speculative ngram --draft-tokens 4 >"$WORK/pid3"
PID3=$(cat "$WORK/pid3"); PIDS+=("$PID3")
wait_ready "$PORT_LOAD" "$WORK/health-statuses-load" || { cat "$WORK/server-load.log"; exit 1; }
echo "== load test (peregrine bench serve --url)"
LOAD_MAX_TOKENS=${LOAD_MAX_TOKENS:-32}
env -u PEREGRINE_API_KEY "$BIN" bench serve --url "http://127.0.0.1:$PORT_LOAD" --concurrency "${LOAD_LEVELS:-1,4}" \
  --max-tokens "$LOAD_MAX_TOKENS" --json >"$WORK/loadtest.json" || status=1
python3 - "$WORK/loadtest.json" "$LOAD_MAX_TOKENS" <<'PY' || status=1
import json, sys
levels, max_tokens = json.load(open(sys.argv[1])), int(sys.argv[2])
assert levels, "no load levels measured"
for level in levels:
    assert level["failed"] == 0 and level["completed"] == level["requests"], level
    assert level["output_tokens_per_request"] == [max_tokens], level
    assert level["ttft"]["p50"] > 0 and level["itl"]["p50"] > 0 and level["output_tokens_per_second"] > 0, level
    assert level.get("draft_tokens", 0) > 0, "the server speculates: its timings report drafts"
print("load test: every request returned exactly max_tokens tokens;",
      ", ".join(f"C={l['concurrency']} {l['output_tokens_per_second']:.0f} tok/s" for l in levels))
PY

echo "== operations (busy port, draining, second SIGINT, shutdown finish reasons, CORS, 405, ps)"
python3 -m pytest -q -p no:cacheprovider "$ROOT/Tests/ServerTests/operations_test.py" || status=1

echo "== graceful shutdown"
kill -TERM "$PID"
for _ in $(seq 1 200); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$PID" 2>/dev/null; then echo "server did not exit after SIGTERM" >&2; status=1; fi
rc=0; wait "$PID" 2>/dev/null || rc=$?
[[ $rc == 0 ]] || { echo "server exited with $rc after SIGTERM" >&2; status=1; }
grep -q "shutting down" "$WORK/server.log" || { echo "no shutdown log line" >&2; status=1; }

echo "== hostile clients and files"
SKIP_BUILD=1 scripts/hostile-tests.sh || status=1

echo "== inference economics"
SKIP_BUILD=1 scripts/economics-tests.sh || status=1

echo "== batch jobs"
SKIP_BUILD=1 scripts/batch-tests.sh || status=1

if [[ $status != 0 ]]; then
  echo "---- server log (tail)"; tail -50 "$WORK/server.log"
fi
echo "server tests: $([[ $status == 0 ]] && echo PASS || echo FAIL) (logs in $WORK)"
exit $status

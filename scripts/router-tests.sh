#!/usr/bin/env bash
# Peregrine replicas behind SGLang's router (sglang-router from PyPI, binary `smg`), on loopback:
# Tests/Router/router_test.py (chat through the router, metadata, power_of_two by /get_load,
# /flush_cache, the HTTP/2 preface, a killed replica rejoining). A few minutes on 2 loaded cores.
# The measurements (cache-aware hit rates, kill -9 and SIGTERM mid-run, throughput) are in
# scripts/bench-cluster.sh, not here.
#
#   scripts/router-tests.sh               # build + tests
#   SKIP_BUILD=1 scripts/router-tests.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SMG_VERSION=0.3.2
VENV=${PEREGRINE_SMG_VENV:-$HOME/.cache/peregrine/smg-venv}

python3 -m pip install -q openai pytest >/dev/null 2>&1 || python3 -m pip install -q openai pytest
# The router in a venv of its own: it brings FastAPI, uvicorn and pydantic pins of its own.
if [[ ! -x $VENV/bin/smg ]] || ! "$VENV/bin/pip" show sglang-router 2>/dev/null | grep -q "^Version: $SMG_VERSION$"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "sglang-router==$SMG_VERSION"
fi
export SMG_BIN=$VENV/bin/smg

if [[ -z ${PEREGRINE_BIN:-} ]]; then
  [[ -n ${SKIP_BUILD:-} ]] || swift build -c release --product peregrine
  PEREGRINE_BIN=$(swift build -c release --show-bin-path)/peregrine
fi
export PEREGRINE_BIN
"$PEREGRINE_BIN" pull "${PEREGRINE_TEST_MODEL:-smollm2-135m}" >/dev/null

python3 -m pytest -q -p no:cacheprovider Tests/Router/router_test.py

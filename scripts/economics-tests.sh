#!/usr/bin/env bash
# Inference economics (issue 18) against a running `peregrine serve` with the real `openai` client:
# allowances under 200 concurrent requests, kill -9 and restart, the result cache, prices and cost,
# the usage API and stored completions (Tests/Economics/economics_server_test.py).
# Called by scripts/server-tests.sh.
#
#   scripts/economics-tests.sh            # build + tests
#   SKIP_BUILD=1 scripts/economics-tests.sh
#   PEREGRINE_BIN=path/to/peregrine scripts/economics-tests.sh   # that binary, no build
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q openai pytest >/dev/null 2>&1 || python3 -m pip install -q openai pytest
if [[ -z "${PEREGRINE_BIN:-}" ]]; then
  [[ -n "${SKIP_BUILD:-}" ]] || swift build -c release --product peregrine
  PEREGRINE_BIN=$(swift build -c release --show-bin-path)/peregrine
fi
export PEREGRINE_BIN
status=0
python3 -m pytest -q -p no:cacheprovider Tests/Economics/economics_server_test.py || status=1
echo "economics tests: $([[ $status == 0 ]] && echo PASS || echo FAIL)"
exit $status

#!/usr/bin/env bash
# Durable batch jobs (issue 19) against a running `peregrine serve` with the real `openai` client:
# a 500-line batch end to end, kill -9 twice and resume, cancel, invalid input, another key's file,
# and `peregrine batch run` offline (Tests/Batch/batch_server_test.py). Called by scripts/server-tests.sh.
#
#   scripts/batch-tests.sh            # build + tests
#   SKIP_BUILD=1 scripts/batch-tests.sh
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q openai pytest >/dev/null 2>&1 || python3 -m pip install -q openai pytest
if [[ -z "${SKIP_BUILD:-}" ]]; then
  swift build -c release --product peregrine
fi
export PEREGRINE_BIN=$(swift build -c release --show-bin-path)/peregrine
status=0
python3 -m pytest -q -p no:cacheprovider Tests/Batch/batch_server_test.py || status=1
echo "batch tests: $([[ $status == 0 ]] && echo PASS || echo FAIL)"
exit $status

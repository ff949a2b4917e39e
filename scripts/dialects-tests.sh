#!/usr/bin/env bash
# The Anthropic, OpenAI Responses and Ollama dialects (issue 21) against `peregrine serve`, each with
# its official Python client unmodified (Tests/Dialects/dialects_server_test.py). Called by
# scripts/server-tests.sh.
#
#   scripts/dialects-tests.sh            # build + tests
#   SKIP_BUILD=1 scripts/dialects-tests.sh
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q openai anthropic ollama pytest >/dev/null 2>&1 || python3 -m pip install -q openai anthropic ollama pytest
if [[ -z "${SKIP_BUILD:-}" ]]; then
  swift build -c release --product peregrine
fi
export PEREGRINE_BIN=${PEREGRINE_BIN:-$(swift build -c release --show-bin-path)/peregrine}
status=0
python3 -m pytest -q -p no:cacheprovider Tests/Dialects/dialects_server_test.py || status=1
echo "dialect tests: $([[ $status == 0 ]] && echo PASS || echo FAIL)"
exit $status

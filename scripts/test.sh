#!/usr/bin/env bash
# The test command (README, .ci/run): the Swift test suites, `peregrine run` against llama.cpp's
# greedy fixtures, then the real server on loopback driven by real clients (openai,
# prometheus_client, the shared load test, a malformed-request corpus).
set -euo pipefail
cd "$(dirname "$0")/.."
swift test -c release
scripts/cli-fixture-tests.sh
scripts/server-tests.sh
SKIP_BUILD=1 scripts/router-tests.sh  # replicas behind SGLang's router (sglang-router from PyPI)

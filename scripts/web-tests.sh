#!/usr/bin/env bash
# The browser tier (issue 20): Debian's Chromium, driven by selenium, opens the playground and the
# dashboard that `peregrine serve` embeds, against a real server on loopback with smollm2-135m
# (Tests/Web/*_test.py): streaming, figures, stop (the server's running count drops to 0), reload,
# a wrong key's 401, model output shown as text, and the dashboard's charts under load.
# Installs chromium + chromium-driver (apt) and selenium + pytest (pip) when missing.
#
#   scripts/web-tests.sh                   # build + tests; screenshots go to a temporary directory
#   scripts/web-tests.sh --screenshots     # also refresh docs/playground-*.png and docs/dashboard.png
#   SKIP_BUILD=1 scripts/web-tests.sh
#   PEREGRINE_BIN=path/to/peregrine scripts/web-tests.sh
set -euo pipefail
cd "$(dirname "$0")/.."
shots=$(mktemp -d /tmp/peregrine-web-shots.XXXXXX)
for arg in "$@"; do
  case $arg in
    --screenshots) shots=$PWD/docs ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "web-tests.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  sudo=""
  [[ $(id -u) == 0 ]] || sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >/dev/null
fi
python3 -m pip install -q selenium pytest openai >/dev/null 2>&1 || python3 -m pip install -q selenium pytest openai

if [[ -z "${PEREGRINE_BIN:-}" ]]; then
  [[ -n "${SKIP_BUILD:-}" ]] || swift build -c release --product peregrine
  PEREGRINE_BIN=$(swift build -c release --show-bin-path)/peregrine
fi
export PEREGRINE_BIN WEB_SCREENSHOTS=$shots
"$PEREGRINE_BIN" pull "${PEREGRINE_TEST_MODEL:-smollm2-135m}" >/dev/null
status=0
python3 -m pytest -q -p no:cacheprovider Tests/Web || status=1
echo "screenshots: $shots"
echo "web tests: $([[ $status == 0 ]] && echo PASS || echo FAIL)"
exit $status

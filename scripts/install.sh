#!/usr/bin/env bash
# Builds peregrine once (release) and installs the binary, so that `peregrine serve` starts at once
# instead of going through `swift run`, which re-plans the build every time and recompiles
# everything after `swift test` (tests build with testability enabled, `swift run` without).
#
#   scripts/install.sh                  # → ~/.local/bin/peregrine
#   scripts/install.sh --prefix /usr/local
#   PREFIX=/opt/peregrine scripts/install.sh
#
# It builds in .build-install, apart from the tests' .build, so installing and testing never
# undo each other's work. The binary links the Swift runtime statically; it runs without the toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=${PREFIX:-$HOME/.local}
while (($#)); do
  case $1 in
    --prefix) PREFIX=$2; shift 2 ;;
    --prefix=*) PREFIX=${1#--prefix=}; shift ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done

BUILD=(swift build -c release --product peregrine --scratch-path .build-install --static-swift-stdlib)
echo "building: ${BUILD[*]} (the first build takes several minutes)" >&2
"${BUILD[@]}"
BIN=.build-install/release/peregrine
[[ -x $BIN ]] || BIN="$("${BUILD[@]}" --show-bin-path)/peregrine"
mkdir -p "$PREFIX/bin"
# Install through a temporary name, so a running server keeps its (deleted) binary intact.
install -m 755 "$BIN" "$PREFIX/bin/.peregrine.new"
mv -f "$PREFIX/bin/.peregrine.new" "$PREFIX/bin/peregrine"
echo "installed $PREFIX/bin/peregrine ($("$PREFIX/bin/peregrine" --version))"
case ":$PATH:" in
  *":$PREFIX/bin:"*) ;;
  *) echo "note: $PREFIX/bin is not on PATH; add it (export PATH=\"$PREFIX/bin:\$PATH\") or run $PREFIX/bin/peregrine" >&2 ;;
esac

#!/usr/bin/env bash
# Run cargo with the toolchain chosen by scripts/setup-toolchain.sh, e.g. `scripts/cargo.sh test`.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
[ -f "$here/.toolchain/env" ] || bash "$here/scripts/setup-toolchain.sh"
# shellcheck disable=SC1091
. "$here/.toolchain/env"
cd "$here"
sub=$1; shift
# shellcheck disable=SC2086
RUSTC="$GG_RUSTC" RUSTC_BOOTSTRAP=1 exec "$GG_CARGO" "$sub" $GG_CARGO_ARGS "$@"

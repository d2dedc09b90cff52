#!/usr/bin/env bash
# npm's `prepare` hook: on `npm install` in a clone, set up the Rust toolchain (idempotent),
# build the wasm variants and the TypeScript package.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
bash scripts/setup-toolchain.sh
bash scripts/build-wasm.sh
npx tsup

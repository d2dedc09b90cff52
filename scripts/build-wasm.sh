#!/usr/bin/env bash
# Build the kernel's wasm variants from one crate into wasm/:
#   gradguard-simd.wasm    simd128 (the default)
#   gradguard-scalar.wasm  no SIMD, for engines without it
# Usage: scripts/build-wasm.sh [variant ...]   (default: all)
#
# wasm32 has no prebuilt std here, so std is built from source (-Zbuild-std); RUSTC_BOOTSTRAP
# allows that flag on a stable compiler. Each variant has its own target dir so that switching
# RUSTFLAGS does not rebuild std every time.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
variants=("$@"); [ ${#variants[@]} -gt 0 ] || variants=(simd scalar)
mkdir -p "$here/wasm"
for v in "${variants[@]}"; do
  case "$v" in
    simd)   flags="-C target-feature=+simd128" ;;
    scalar) flags="" ;;
    *) echo "build-wasm: unknown variant '$v' (expected simd or scalar)" >&2; exit 2 ;;
  esac
  echo "gradguard: building wasm variant $v"
  RUSTFLAGS="$flags" CARGO_TARGET_DIR="$here/target/wasm-$v" \
    bash "$here/scripts/cargo.sh" build --release --locked --target wasm32-unknown-unknown \
      -Zbuild-std=std,panic_abort -p gradguard-kernel
  cp "$here/target/wasm-$v/wasm32-unknown-unknown/release/gradguard_kernel.wasm" "$here/wasm/gradguard-$v.wasm"
done
ls -l "$here/wasm"

#!/usr/bin/env bash
# Build the kernel's wasm variants from one crate into wasm/:
#   gradguard-simd.wasm    simd128 (the default)
#   gradguard-scalar.wasm  no SIMD, for engines without it
#   gradguard-simd-threads.wasm  simd128 + atomics on a shared, imported memory; rayon inside
#                          (cargo feature `threads`); see ts/backend/wasm/threads/
#   gradguard-relaxed-simd.wasm  simd128 + relaxed-simd: the GEMM micro-kernel uses
#                          f32x4.relaxed_madd (fused multiply-add where the CPU has it)
# Usage: scripts/build-wasm.sh [variant ...]   (default: all)
#
# wasm32 has no prebuilt std here, so std is built from source (-Zbuild-std); RUSTC_BOOTSTRAP
# allows that flag on a stable compiler. Each variant has its own target dir so that switching
# RUSTFLAGS does not rebuild std every time.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
variants=("$@"); [ ${#variants[@]} -gt 0 ] || variants=(simd scalar simd-threads relaxed-simd)
mkdir -p "$here/wasm"
for v in "${variants[@]}"; do
  features=""
  case "$v" in
    simd)   flags="-C target-feature=+simd128" ;;
    scalar) flags="" ;;
    relaxed-simd) flags="-C target-feature=+simd128,+relaxed-simd" ;;
    simd-threads)
      # Shared memory must be imported (every worker instantiates on the same one) and have a
      # maximum; the initial/maximum sizes are mirrored in ts/backend/wasm/threads/constants.ts.
      # Workers set their own __stack_pointer and TLS block, hence those exports.
      flags="-C target-feature=+simd128,+atomics,+bulk-memory,+mutable-globals"
      for a in --shared-memory --import-memory --initial-memory=4194304 --max-memory=2147483648 \
               --export-memory --export=__stack_pointer --export=__wasm_init_tls --export=__tls_size --export=__tls_align; do
        flags="$flags -C link-arg=$a"
      done
      features="--features threads" ;;
    *) echo "build-wasm: unknown variant '$v' (expected simd, scalar, simd-threads or relaxed-simd)" >&2; exit 2 ;;
  esac
  echo "gradguard: building wasm variant $v"
  RUSTFLAGS="$flags" CARGO_TARGET_DIR="$here/target/wasm-$v" \
    bash "$here/scripts/cargo.sh" build --release --locked --target wasm32-unknown-unknown \
      -Zbuild-std=std,panic_abort -p gradguard-kernel $features
  cp "$here/target/wasm-$v/wasm32-unknown-unknown/release/gradguard_kernel.wasm" "$here/wasm/gradguard-$v.wasm"
done
ls -l "$here/wasm"

// Feature probes: tiny hand-assembled modules handed to WebAssembly.validate (the habit of
// tfjs-backend-wasm's src/flags_wasm.ts). Validation compiles nothing and runs nothing, so a probe
// costs microseconds and cannot trap. Each probe's WAT source is in the comment above its bytes.

/**
 * (module
 *   (func (result v128)
 *     i32.const 0
 *     i8x16.splat))
 * Valid iff the engine implements the fixed-width SIMD proposal (simd128).
 */
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, //       type section: [] -> [v128]
  0x03, 0x02, 0x01, 0x00, //                         function section: func 0 has type 0
  0x0a, 0x08, 0x01, 0x06, 0x00, //                   code section, one body of 6 bytes, no locals
  0x41, 0x00, //                                     i32.const 0
  0xfd, 0x0f, //                                     i8x16.splat
  0x0b, //                                           end
]);

/**
 * (module
 *   (func (result v128)
 *     (f32x4.relaxed_madd
 *       (i8x16.splat (i32.const 0))
 *       (i8x16.splat (i32.const 0))
 *       (i8x16.splat (i32.const 0)))))
 * Valid iff the engine implements relaxed SIMD (Node 20 only with --experimental-wasm-relaxed-simd).
 */
const RELAXED_SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b,
  0x03, 0x02, 0x01, 0x00,
  0x0a, 0x13, 0x01, 0x11, 0x00, //                   one body of 17 bytes
  0x41, 0x00, 0xfd, 0x0f,
  0x41, 0x00, 0xfd, 0x0f,
  0x41, 0x00, 0xfd, 0x0f,
  0xfd, 0x85, 0x02, //                               f32x4.relaxed_madd (0xfd 0x105, LEB128)
  0x0b,
]);

/**
 * (module (memory 1 1 shared))
 * Valid iff the engine implements the threads proposal (shared memory). Whether shared memory
 * may actually be created is a separate question in browsers (cross-origin isolation).
 */
const THREADS_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x05, 0x04, 0x01, 0x03, 0x01, 0x01, //             memory section: flags 3 (max, shared), 1, 1
]);

function validates(bytes: Uint8Array<ArrayBuffer>): boolean {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(bytes);
  } catch {
    return false;
  }
}

let simdCache: boolean | undefined;
let relaxedCache: boolean | undefined;

/** True when this engine supports WebAssembly SIMD128 (the `simd` build can run). */
export function detectSimd(): boolean {
  if (simdCache === undefined) simdCache = validates(SIMD_PROBE);
  return simdCache;
}

/** True when this engine supports relaxed SIMD (for a future `relaxed-simd` build, issue 4). */
export function detectRelaxedSimd(): boolean {
  if (relaxedCache === undefined) relaxedCache = validates(RELAXED_SIMD_PROBE);
  return relaxedCache;
}

/**
 * True when the engine validates shared memory AND this context may create it: in browsers that
 * needs `crossOriginIsolated` (COOP/COEP headers). For a future `simd-threads` build (issue 4).
 */
export function detectThreads(): boolean {
  if (typeof SharedArrayBuffer === 'undefined' || !validates(THREADS_PROBE)) return false;
  const g = globalThis as { crossOriginIsolated?: boolean };
  return g.crossOriginIsolated !== false;
}

// The WebAssembly SIMD128 peak on this engine: a hand-assembled module (bytes below, no
// toolchain needed) whose loop runs `chains` independent f32x4 chains `acc = acc * x + y`.
// Two flavours, each the instruction mix one of our micro-kernels issues:
//   mul+add  one f32x4.mul and one f32x4.add per chain (the `simd` build's micro-kernel);
//   fused    one f32x4.relaxed_madd (relaxed SIMD, 0xfd 0x105; FMA on x86 with FMA3, which V8
//            emits as vfmadd) per chain (the `relaxed-simd` build's micro-kernel).
// Both count 8 flops per chain per iteration (4 lanes × multiply and add). With enough
// independent chains the loop is bound by the multiply/add (or FMA) throughput, not by
// latency; past ~12 chains V8 (x86-64, 16 XMM registers) spills accumulators and the rate drops
// (issue 4 measured 14 → about half).
//
// Written as bytes rather than as a Rust crate so that measuring the peak needs no second
// build-std compile, and so what is measured is exactly these instructions.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

function uleb(n) {
  const out = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}
const f32x4Const = (v) => {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  for (let i = 0; i < 4; i++) dv.setFloat32(4 * i, v, true);
  return [0xfd, ...uleb(0x0c), ...b];
};
const section = (id, bytes) => [id, ...uleb(bytes.length), ...bytes];
const str = (s) => [...uleb(s.length), ...Buffer.from(s, 'utf8')];

// SIMD opcodes (all behind the 0xfd prefix, LEB128-encoded): f32x4.add 0xe4, f32x4.mul 0xe6
// (simd128); f32x4.relaxed_madd 0x105 = (a · b + c), the relaxed-SIMD proposal's opcode
// (0x106 is relaxed_nmadd; peakKernel's check() tells the two apart by the result).
const ADD = [0xfd, ...uleb(0xe4)], MUL = [0xfd, ...uleb(0xe6)], MADD = [0xfd, ...uleb(0x105)];
// Chain constants: acc converges to y/(1-x) = 1, so no overflow and no denormals.
const X0 = 0.999, Y0 = 0.001, ACC0 = (i) => 0.01 * i;

/**
 * Bytes of a module exporting `peak(iters: i32) -> f32` with `chains` accumulator chains;
 * `fused` uses f32x4.relaxed_madd instead of f32x4.mul + f32x4.add. Returns lane 0 of the sum
 * of the accumulators. `iters` must be ≥ 1 (the loop is do-while).
 */
export function peakModuleBytes(chains, { fused = false } = {}) {
  const X = chains + 1, Y = chains + 2; // locals: 0 = iters, 1..chains = acc, X, Y
  const body = [1, ...uleb(chains + 2), 0x7b]; // one local group: chains+2 v128
  for (let i = 1; i <= chains; i++) body.push(...f32x4Const(ACC0(i)), 0x21, ...uleb(i));
  body.push(...f32x4Const(X0), 0x21, ...uleb(X), ...f32x4Const(Y0), 0x21, ...uleb(Y));
  body.push(0x02, 0x40, 0x03, 0x40); // block, loop
  for (let i = 1; i <= chains; i++) {
    // mul+add: (acc · x) + y;  fused: relaxed_madd(acc, x, y) = acc · x + y.
    if (fused) body.push(0x20, ...uleb(i), 0x20, ...uleb(X), 0x20, ...uleb(Y), ...MADD, 0x21, ...uleb(i));
    else body.push(0x20, ...uleb(i), 0x20, ...uleb(X), ...MUL, 0x20, ...uleb(Y), ...ADD, 0x21, ...uleb(i));
  }
  // iters -= 1; continue while non-zero
  body.push(0x20, 0, 0x41, 1, 0x6b, 0x22, 0, 0x0d, 0, 0x0b, 0x0b);
  // Return the sum of all accumulators (lane 0) so nothing is dead code.
  body.push(0x20, 1);
  for (let i = 2; i <= chains; i++) body.push(0x20, ...uleb(i), ...ADD);
  body.push(0xfd, ...uleb(0x1f), 0, 0x0b);
  const code = [1, ...uleb(body.length), ...body];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [1, 0x60, 1, 0x7f, 1, 0x7d]),
    ...section(3, [1, 0]),
    ...section(7, [1, ...str('peak'), 0x00, 0]),
    ...section(10, code),
  ]);
}

/** True when this engine implements relaxed SIMD (validates the fused peak module; Node 20 needs a flag). */
export function relaxedSimdSupported() {
  try {
    return WebAssembly.validate(peakModuleBytes(1, { fused: true }));
  } catch {
    return false;
  }
}

export const RELAXED_FLAG = '--experimental-wasm-relaxed-simd';

/**
 * Node 20 implements relaxed SIMD only behind RELAXED_FLAG (it is standard from Node 22). If
 * this engine lacks it and the flag was not given, run `script` again in a child process with
 * the flag (same arguments, inherited output) and exit with its code; returns only when the
 * current process should go on (relaxed SIMD available, the flag already tried, or this Node
 * does not know the flag — then the relaxed columns report "not supported").
 */
export function reexecWithRelaxedSimd(scriptUrl) {
  if (relaxedSimdSupported() || process.execArgv.includes(RELAXED_FLAG) || process.env.GG_BENCH_RELAXED_REEXEC) return;
  // A Node that does not know the flag refuses to start ("bad option"): ask it first, cheaply.
  if (spawnSync(process.execPath, [RELAXED_FLAG, '-e', '0'], { stdio: 'ignore' }).status !== 0) return;
  const r = spawnSync(process.execPath, [...process.execArgv, RELAXED_FLAG, fileURLToPath(scriptUrl), ...process.argv.slice(2)], {
    stdio: 'inherit', env: { ...process.env, GG_BENCH_RELAXED_REEXEC: '1' },
  });
  process.exit(r.status ?? 1);
}

/**
 * Instantiate the peak loop; returns { run(iters) -> seconds, flopsPerIter, fused }. Throws if
 * the engine rejects the module (fused without relaxed SIMD) or if one iteration does not give
 * the value the intended instructions compute (a wrong opcode, e.g. relaxed_nmadd, fails here).
 */
export async function peakKernel(chains = 12, { fused = false } = {}) {
  const { instance } = await WebAssembly.instantiate(peakModuleBytes(chains, { fused }));
  const peak = instance.exports.peak;
  // One iteration from the initial values, lane 0, in f32 as the module computes it. A fused
  // madd rounds once, mul+add twice; either is within 1e-6 of the other here, and nmadd
  // (−acc·x + y) or a swapped operand order would be off by ≥ 0.01.
  const f = Math.fround;
  let want = 0;
  for (let i = 1; i <= chains; i++) want = f(want + f(f(f(ACC0(i)) * f(X0)) + f(Y0)));
  const got = peak(1);
  if (!(Math.abs(got - want) <= 1e-5)) {
    throw new Error(`peak loop (${fused ? 'relaxed_madd' : 'mul+add'}, ${chains} chains): one iteration gave ${got}, want ${want}`);
  }
  return {
    fused,
    flopsPerIter: chains * 8,
    run(iters) {
      const t0 = process.hrtime.bigint();
      const r = peak(iters);
      const t = Number(process.hrtime.bigint() - t0) * 1e-9;
      if (!Number.isFinite(r)) throw new Error('peak loop produced a non-finite value');
      return t;
    },
  };
}

// `node bench/gemm-peak.mjs`: print both peaks for 8..16 chains (relaxed re-runs itself with
// the flag on Node 20; "not supported" if the engine has no relaxed SIMD).
if (import.meta.url === `file://${process.argv[1]}`) {
  reexecWithRelaxedSimd(import.meta.url);
  const relaxed = relaxedSimdSupported();
  const rate = async (chains, fused) => {
    const k = await peakKernel(chains, { fused });
    k.run(1e6);
    const ts = [];
    for (let r = 0; r < 7; r++) ts.push(k.run(5e6));
    ts.sort((a, b) => a - b);
    return ((k.flopsPerIter * 5e6) / ts[3] / 1e9).toFixed(1);
  };
  console.log('chains  mul+add  relaxed_madd   (GFLOP/s, median of 7)');
  for (const chains of [8, 10, 12, 13, 14, 16]) {
    console.log(`${String(chains).padStart(6)}  ${(await rate(chains, false)).padStart(7)}  ${relaxed ? (await rate(chains, true)).padStart(12) : 'not supported'}`);
  }
}

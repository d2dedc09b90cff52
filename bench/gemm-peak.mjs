// The WebAssembly SIMD128 peak on this engine: a hand-assembled module (bytes below, no
// toolchain needed) whose loop runs `chains` independent f32x4 chains `acc = acc * x + y`
// (one f32x4.mul and one f32x4.add each: 8 flops per chain per iteration, the same
// non-fused mul+add a GEMM micro-kernel issues). With enough independent chains the loop
// is bound by the multiply/add throughput, not by latency; past ~12 chains V8 (x86-64,
// 16 XMM registers) spills accumulators and the rate drops (issue 4 measured 14 → about half).
//
// Written as bytes rather than as a Rust crate so that measuring the peak needs no second
// build-std compile, and so what is measured is exactly these instructions.

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

/** Bytes of a module exporting `peak(iters: i32) -> f32` with `chains` accumulator chains. */
export function peakModuleBytes(chains) {
  const X = chains + 1, Y = chains + 2; // locals: 0 = iters, 1..chains = acc, X, Y
  const ADD = [0xfd, ...uleb(0xe4)], MUL = [0xfd, ...uleb(0xe6)];
  const body = [1, ...uleb(chains + 2), 0x7b]; // one local group: chains+2 v128
  for (let i = 1; i <= chains; i++) body.push(...f32x4Const(0.01 * i), 0x21, ...uleb(i));
  // acc converges to y/(1-x) = 1: no overflow, no denormals.
  body.push(...f32x4Const(0.999), 0x21, ...uleb(X), ...f32x4Const(0.001), 0x21, ...uleb(Y));
  body.push(0x02, 0x40, 0x03, 0x40); // block, loop
  for (let i = 1; i <= chains; i++) {
    body.push(0x20, ...uleb(i), 0x20, ...uleb(X), ...MUL, 0x20, ...uleb(Y), ...ADD, 0x21, ...uleb(i));
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

/** Instantiate the peak loop; returns { run(iters) -> seconds, flopsPerIter }. */
export async function peakKernel(chains = 12) {
  const { instance } = await WebAssembly.instantiate(peakModuleBytes(chains));
  const peak = instance.exports.peak;
  return {
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

// `node bench/gemm-peak.mjs`: print the peak for 8..16 chains.
if (import.meta.url === `file://${process.argv[1]}`) {
  for (const chains of [8, 10, 12, 13, 14, 16]) {
    const k = await peakKernel(chains);
    k.run(1e6);
    const ts = [];
    for (let r = 0; r < 7; r++) ts.push(k.run(5e6));
    ts.sort((a, b) => a - b);
    const t = ts[3];
    console.log(`${chains} chains: ${((k.flopsPerIter * 5e6) / t / 1e9).toFixed(1)} GFLOP/s`);
  }
}

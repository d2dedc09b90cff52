// The relaxed-simd build (issue 4, item 4): the GEMM micro-kernel uses f32x4.relaxed_madd, a
// fused multiply-add where the CPU has FMA (one rounding per multiply-add instead of two).
// Node 20 runs it only with --experimental-wasm-relaxed-simd, so the numerics are checked in a
// child `node --experimental-wasm-relaxed-simd` on the built dist/; this process (no flag on
// Node 20) checks the loader's fallback.
//
// Tolerances (FMA changes rounding, so results are compared to the simd build with bounds, not
// bit for bit):
// - GEMM: per element |C_relaxed − C_simd| ≤ 2·(k+2)·u·(|α|·Σ_p |a_ip·b_pj| + |β·c_ij|), u = 2^-24:
//   each of the two results is within γ_(k+2) of the exact value (the standard dot-product error
//   bound with k products, the α scaling and the β term), so their difference is within twice
//   that. The bound is computed per element in f64.
// - Training (SGD, lr 0.1, 5 steps of a 301-263-129-10 model): parameters within 1e-5 absolute
//   and losses within 1e-5 relative. The gradients differ by about k·u ≈ 2e-5 relative (k ≤ 301
//   products), the updates lr·g are ≤ ~0.01, so the parameters move apart by ~1e-7 per step;
//   1e-5 leaves room for ReLU kinks crossed differently but catches a wrong kernel (an error of
//   one product in a sum is ~1e-3).
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { createWasmBackend, detectRelaxedSimd, setThreadsNotice } from '../ts/backend/wasm';
import { ensureFreshDist } from './browser/dist';

const CHILD = (dist: string): string => `
import * as gg from ${JSON.stringify(dist)};
const u = 2 ** -24;
let s = 12345;
const rnd = () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return (s >>> 8) / 16777216 * 2 - 1; };
const r = await gg.createWasmBackend({ variant: 'relaxed-simd' });
const q = await gg.createWasmBackend({ variant: 'simd' });
const out = { name: r.name, relaxed: r.kernel.exports.gg_relaxed_simd(), gemm: [], differing: 0, train: null };
function gemm(b, ta, tb, m, n, k, alpha, A, B, beta, C) {
  const K = b.kernel;
  const pa = K.alloc(A.byteLength), pb = K.alloc(B.byteLength), pc = K.alloc(C.byteLength);
  K.f32.set(A, pa >> 2); K.f32.set(B, pb >> 2); K.f32.set(C, pc >> 2);
  K.sgemm(ta, tb, m, n, k, alpha, pa, ta ? m : k, pb, tb ? k : n, beta, pc, n);
  const res = K.f32.slice(pc >> 2, (pc >> 2) + m * n);
  K.free(pa, A.byteLength); K.free(pb, B.byteLength); K.free(pc, C.byteLength);
  return res;
}
for (const [m, n, k] of [[1, 1, 1], [7, 9, 13], [33, 130, 401], [32, 128, 784], [128, 10, 128], [257, 65, 3]]) {
  for (const [ta, tb] of [[false, false], [true, false], [false, true]]) {
    const alpha = 1, beta = k % 2 ? 0.5 : 0;
    const A = Float32Array.from({ length: m * k }, rnd), B = Float32Array.from({ length: k * n }, rnd);
    const C = Float32Array.from({ length: m * n }, rnd);
    const x = gemm(r, ta, tb, m, n, k, alpha, A, B, beta, C), y = gemm(q, ta, tb, m, n, k, alpha, A, B, beta, C);
    let worst = 0;
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      let abs = 0;
      for (let p = 0; p < k; p++) abs += Math.abs((ta ? A[p * m + i] : A[i * k + p]) * (tb ? B[j * k + p] : B[p * n + j]));
      const bound = 2 * (k + 2) * u * (Math.abs(alpha) * abs + Math.abs(beta * C[i * n + j])) + 1e-30;
      const d = Math.abs(x[i * n + j] - y[i * n + j]);
      if (d > 0) out.differing++;
      worst = Math.max(worst, d / bound);
    }
    out.gemm.push({ case: (ta ? 'T' : 'N') + (tb ? 'T' : 'N'), m, n, k, worst });
  }
}
const spec = { layers: [
  { kind: 'dense', inputSize: 301, units: 263, activation: 'relu', activationParam: 0, useBias: true },
  { kind: 'dense', inputSize: 263, units: 129, activation: 'tanh', activationParam: 0, useBias: true },
  { kind: 'dense', inputSize: 129, units: 10, activation: 'softmax', activationParam: 0, useBias: true } ],
  loss: 'sparse_categorical_crossentropy', fromLogits: false };
const sgd = { kind: 'sgd', learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, momentum: 0, nesterov: false,
  weightDecay: 0, rho: 0.9, initialAccumulatorValue: 0.1, clipValue: 0, clipNorm: 0, globalClipNorm: 0 };
function train(b) {
  s = 777;
  const m = b.createModel(spec);
  m.layout.forEach((l, i) => m.initTensor(l.wOffset, l.wLength, 'glorot_uniform', spec.layers[i].inputSize, spec.layers[i].units, 0, 3 + i));
  m.setOptimizer(sgd);
  const losses = [];
  for (let t = 0; t < 5; t++) {
    const x = Float32Array.from({ length: 64 * 301 }, rnd), y = Int32Array.from({ length: 64 }, () => Math.floor((rnd() + 1) * 5));
    losses.push(m.trainStep(x, y, 64));
  }
  return { losses, params: m.getParams() };
}
const a = train(r), c = train(q);
let maxParam = 0;
for (let i = 0; i < a.params.length; i++) maxParam = Math.max(maxParam, Math.abs(a.params[i] - c.params[i]));
out.train = { maxParam, maxLossRel: Math.max(...a.losses.map((l, i) => Math.abs(l - c.losses[i]) / Math.abs(c.losses[i]))), finite: a.losses.every(Number.isFinite) };
console.log(JSON.stringify(out));
`;

function runChild(code: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--experimental-wasm-relaxed-simd', '--input-type=module', '-e', code],
      { cwd: tmpdir(), timeout: 120_000 }, (e, out, err) => resolve({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, out, err }));
  });
}

describe('relaxed-simd', () => {
  it('in node --experimental-wasm-relaxed-simd: GEMM sweep and 5 training steps match simd within the stated bounds', async () => {
    const dist = await ensureFreshDist('index.js');
    const r = await runChild(CHILD(dist));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const res = JSON.parse(r.out.trim().split('\n').at(-1)!);
    expect(res).toMatchObject({ name: 'wasm-relaxed-simd', relaxed: 1 });
    expect(res.gemm).toHaveLength(18);
    for (const g of res.gemm) expect(g.worst, `${g.case} ${g.m}x${g.n}x${g.k}`).toBeLessThanOrEqual(1);
    expect(res.train.finite).toBe(true);
    expect(res.train.maxParam).toBeLessThanOrEqual(1e-5);
    expect(res.train.maxLossRel).toBeLessThanOrEqual(1e-5);
  }, 180_000);

  it('without relaxed SIMD in the engine, asking for it falls back to simd with a one-line notice', async () => {
    const notices: string[] = [];
    const old = setThreadsNotice((m) => notices.push(m));
    try {
      const b = await createWasmBackend({ variant: 'relaxed-simd' });
      if (detectRelaxedSimd()) {
        // Node 22+: the engine has it, so there is nothing to fall back from.
        expect(b.name).toBe('wasm-relaxed-simd');
        expect(notices).toHaveLength(0);
      } else {
        expect(b.name).toBe('wasm-simd');
        expect(notices).toHaveLength(1);
        expect(notices[0]).toMatch(/^gradguard: using the 'simd' kernel instead of 'relaxed-simd': this engine does not support relaxed SIMD/);
      }
    } finally {
      setThreadsNotice(old);
    }
    // 'auto' never picks relaxed-simd (its results depend on the CPU's FMA).
    expect((await createWasmBackend()).name).toBe('wasm-simd');
  });
});

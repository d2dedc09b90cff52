// The wasm kernel (both builds: simd and scalar) against the pure-TypeScript reference
// (ts/reference/), on the same models: GEMM, forward outputs, losses, gradients, evaluate/accuracy,
// optimizer steps for every optimizer and clipping option, initialisers, the statistics block, and
// bit-for-bit reproducibility of seeded wasm runs.
//
// Tolerances (every comparison states which one it uses):
// - GEMM: the rigorous bound for a k-term f32 dot product, |ĉ − c| ≤ γ_k·Σ|a||b| with
//   γ_k = k·u/(1 − k·u), u = 2⁻²⁴ (Higham, Accuracy and Stability, §3.1), plus one rounding of
//   α·(…) + β·c. Holds for any summation order, so blocked SIMD and naive loops both satisfy it.
// - FWD/GRAD (forward outputs, losses, gradients): the reference is f64 rounded once; the kernel
//   sums k products in f32 in a blocked order, whose error grows like sqrt(k)·2⁻²⁴ relative to
//   the terms' magnitude (≈ 2e-6 for k = 1000), and is carried through up to 3 layers forward and
//   back, and through f32 exp/log/tanh (a few ulp). We accept
//       |kernel − ref| ≤ 1e-4·(|ref| + rms(ref tensor))
//   i.e. 1e-4 relative, with the tensor's RMS as the floor for entries that come out near zero by
//   cancellation (their error is relative to the summed terms, not to the tiny result). That is
//   ≈ 50× the expected error at k ≤ 1000, and still 100× below what a wrong formula gives.
// - OPTIM: per step, from identical parameters (the kernel's copied into the reference before each
//   step, so the comparison does not amplify earlier rounding): |Δθ_kernel − Δθ_ref| ≤
//   1e-3·|Δθ_ref| + 4 ulp(θ) per element, and the same for the norm of all updates. Adam-type
//   updates divide m by sqrt(v), so their relative error is that of the gradient (≤ 1e-4 above)
//   times a few; 1e-3 leaves margin while a wrong equation is off by ≥ 1e-2.
// - INIT: uniform kinds are computed by the same f64 formula from the same integers, so they must
//   be bit-identical. Normal kinds use ln and cos, whose f64 results may differ in the last bit
//   between Rust's libm (compiled into the wasm) and V8's; after rounding to f32 that changes a
//   value with probability ~2⁻²⁹ per value, so we allow 1 f32 ulp there (and report how many differ).
// - STATS: norms, means and ratios with the FWD rtol 1e-4 (they are sums of squares of the
//   gradients/weights compared above); counts and fractions exactly.
// On failure every check prints the first mismatches and the max difference (llm.c's check_tensor).

import { beforeAll, describe, expect, it } from 'vitest';
import type {
  ActivationName, Backend, BackendModel, InitializerName, LossName, ModelSpec, OptimizerConfig,
  StepStats, Targets,
} from '../ts/backend/types.js';
import { INITIALIZERS, LAYER_STATS_FIELDS } from '../ts/backend/types.js';
import type { DenseLayerSpec } from '../ts/backend/types.js';
import { createWasmBackend, type WasmBackend } from '../ts/backend/wasm/index.js';
import { createReferenceBackend } from '../ts/reference/backend.js';
import { initValues } from '../ts/reference/init.js';
import { Rng, tensorSeed } from '../ts/reference/rng.js';

const U = 2 ** -24;
const FWD_RTOL = 1e-4;
const OPT_RTOL = 1e-3;

// ---------------------------------------------------------------------------------------------
// check_tensor: compare, and on failure print the first mismatches and the max differences.

function rms(v: ArrayLike<number>): number {
  let s = 0; for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return v.length ? Math.sqrt(s / v.length) : 0;
}

function checkTensor(
  label: string, got: ArrayLike<number>, want: ArrayLike<number>,
  allowed: (i: number) => number,
): void {
  expect(got.length, `${label}: length`).toBe(want.length);
  let bad = 0; let maxDiff = 0; let maxAt = -1; let maxRatio = 0;
  const first: string[] = [];
  for (let i = 0; i < want.length; i++) {
    const bothNaN = Number.isNaN(got[i]) && Number.isNaN(want[i]);
    const d = bothNaN || got[i] === want[i] ? 0 : Math.abs(got[i] - want[i]); // NaN if only one is NaN
    const tol = allowed(i);
    const ok = d <= tol;
    if (!(d <= maxDiff)) { maxDiff = d; maxAt = i; }
    if (tol > 0 && d / tol > maxRatio) maxRatio = d / tol;
    if (!ok) {
      bad++;
      if (first.length < 6) first.push(`  [${i}] kernel ${got[i]} ref ${want[i]} |diff| ${d.toExponential(3)} allowed ${tol.toExponential(3)}`);
    }
  }
  if (bad > 0) {
    const msg = `${label}: ${bad}/${want.length} outside tolerance; max |diff| ${maxDiff.toExponential(3)} at [${maxAt}] `
      + `(worst diff/allowed ${maxRatio.toFixed(2)})\n${first.join('\n')}`;
    console.log(msg);
    expect.fail(msg);
  }
}

/** FWD tolerance: 1e-4·(|ref| + rms(ref)). */
function checkFwd(label: string, got: ArrayLike<number>, want: ArrayLike<number>, rtol = FWD_RTOL): void {
  const floor = rms(want);
  checkTensor(label, got, want, (i) => rtol * (Math.abs(want[i]) + floor));
}

function checkScalar(label: string, got: number, want: number, rtol = FWD_RTOL, atol = 1e-6): void {
  checkTensor(label, [got], [want], () => rtol * Math.abs(want) + atol);
}

/** Size of one f32 ulp at |x|. */
function ulp32(x: number): number {
  const a = Math.abs(Math.fround(x));
  if (a < 2 ** -126) return 2 ** -149;
  return 2 ** (Math.floor(Math.log2(a)) - 23);
}

// ---------------------------------------------------------------------------------------------
// Models and data.

interface Net {
  sizes: number[]; hidden: ActivationName; last: ActivationName; loss: LossName; fromLogits: boolean;
  hiddenParam?: number; useBias?: boolean;
}

function specOf(n: Net): ModelSpec {
  const layers = [];
  for (let l = 0; l + 1 < n.sizes.length; l++) {
    const isLast = l + 2 === n.sizes.length;
    const act = isLast ? n.last : n.hidden;
    layers.push({
      kind: 'dense' as const, inputSize: n.sizes[l], units: n.sizes[l + 1], activation: act,
      activationParam: act === 'leaky_relu' ? (n.hiddenParam ?? 0.2) : act === 'elu' ? (n.hiddenParam ?? 1.0) : 0,
      useBias: n.useBias ?? true,
    });
  }
  return { layers, loss: n.loss, fromLogits: n.fromLogits };
}

function data(spec: ModelSpec, batch: number, seed: number): { x: Float32Array; y: Targets } {
  const rng = new Rng(seed);
  const inN = spec.layers[0].inputSize; const out = spec.layers[spec.layers.length - 1].units;
  const x = new Float32Array(batch * inN);
  for (let i = 0; i < x.length; i++) x[i] = 2 * rng.uniform() - 1;
  if (spec.loss === 'sparse_categorical_crossentropy') {
    const y = new Int32Array(batch);
    for (let b = 0; b < batch; b++) y[b] = rng.below(out);
    return { x, y };
  }
  const y = new Float32Array(batch * out);
  if (spec.loss === 'categorical_crossentropy') {
    for (let b = 0; b < batch; b++) y[b * out + rng.below(out)] = 1;
  } else if (spec.loss === 'binary_crossentropy') {
    for (let i = 0; i < y.length; i++) y[i] = rng.uniform() < 0.5 ? 0 : 1;
  } else {
    for (let i = 0; i < y.length; i++) y[i] = 2 * rng.uniform() - 1;
  }
  return { x, y };
}

/** Glorot-uniform weights, small random biases, from `seed` (the reference's generator). */
function randomParams(model: BackendModel, seed: number): Float32Array {
  const p = new Float32Array(model.paramCount);
  model.spec.layers.forEach((l, i) => {
    const lay = model.layout[i];
    p.set(initValues(lay.wLength, 'glorot_uniform', l.inputSize, l.units, 0, tensorSeed(seed, 2 * i)), lay.wOffset);
    p.set(initValues(lay.bLength, 'random_uniform', 0, 0, 0.1, tensorSeed(seed, 2 * i + 1)), lay.bOffset);
  });
  return p;
}

function pair(wasm: Backend, spec: ModelSpec, seed: number): { k: BackendModel; r: BackendModel } {
  const k = wasm.createModel(spec);
  const r = createReferenceBackend().createModel(spec);
  expect(k.paramCount).toBe(r.paramCount);
  expect(k.layout).toEqual(r.layout);
  const p = randomParams(r, seed);
  k.setParams(p); r.setParams(p);
  return { k, r };
}

const OPT: OptimizerConfig = {
  kind: 'sgd', learningRate: 0.05, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, momentum: 0, nesterov: false,
  weightDecay: 0, rho: 0.9, initialAccumulatorValue: 0.1, clipValue: 0, clipNorm: 0, globalClipNorm: 0,
};

const HIDDEN: { act: ActivationName; param?: number }[] = [
  { act: 'linear' }, { act: 'relu' }, { act: 'leaky_relu' }, { act: 'leaky_relu', param: 0.01 }, { act: 'elu' },
  { act: 'elu', param: 0.5 }, { act: 'selu' }, { act: 'sigmoid' }, { act: 'tanh' }, { act: 'softmax' },
];
const HEADS: { last: ActivationName; loss: LossName; fromLogits: boolean; out: number }[] = [
  { last: 'softmax', loss: 'sparse_categorical_crossentropy', fromLogits: false, out: 10 },
  { last: 'linear', loss: 'sparse_categorical_crossentropy', fromLogits: true, out: 7 },
  { last: 'softmax', loss: 'categorical_crossentropy', fromLogits: false, out: 3 },
  { last: 'linear', loss: 'categorical_crossentropy', fromLogits: true, out: 5 },
  { last: 'sigmoid', loss: 'binary_crossentropy', fromLogits: false, out: 1 },
  { last: 'linear', loss: 'binary_crossentropy', fromLogits: true, out: 3 },
  { last: 'linear', loss: 'mean_squared_error', fromLogits: false, out: 2 },
  { last: 'tanh', loss: 'mean_squared_error', fromLogits: false, out: 1 },
  // unfused: loss on the activation's output, chained through its derivative
  { last: 'sigmoid', loss: 'categorical_crossentropy', fromLogits: false, out: 5 },
  { last: 'softmax', loss: 'binary_crossentropy', fromLogits: false, out: 3 },
  { last: 'softmax', loss: 'mean_squared_error', fromLogits: false, out: 4 },
];
// Odd shapes: batch 1 and primes; sizes that divide neither the SIMD width 4 nor GEMM blocks.
const SHAPES: { batch: number; inN: number; hidden: number }[] = [
  { batch: 1, inN: 1, hidden: 3 }, { batch: 7, inN: 13, hidden: 37 }, { batch: 33, inN: 5, hidden: 17 },
  { batch: 3, inN: 31, hidden: 1 }, { batch: 64, inN: 9, hidden: 130 },
];

function maxAbsOf(v: ArrayLike<number>): number { let m = 0; for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i])); return m; }

// ---------------------------------------------------------------------------------------------

for (const variant of ['simd', 'scalar'] as const) {
  describe(`wasm ${variant} vs reference`, () => {
    let wasm: WasmBackend;
    beforeAll(async () => { wasm = await createWasmBackend({ variant }); });

    it('reports the variant it was asked for', () => {
      expect(wasm.variant).toBe(variant);
      expect(wasm.kernel.simd).toBe(variant === 'simd');
    });

    it('GEMM C ← α·op(A)·op(B) + β·C: all transpositions, odd sizes, NaN-filled C with β = 0 (bound γ_k·Σ|a||b|)', () => {
      const kern = wasm.kernel;
      const rng = new Rng(2024);
      const sizes = [[1, 1, 1], [1, 7, 3], [5, 1, 13], [7, 13, 1], [3, 5, 0], [17, 31, 29], [33, 65, 47],
        [64, 64, 64], [32, 128, 784], [37, 10, 128], [128, 784, 32], [100, 3, 257]];
      for (const [m, n, k] of sizes) {
        // Every (α, β) on the small shapes; on the large ones β = 0 (C all NaN) and β ≠ 0 once each.
        const ab = m * n * k > 1e5 ? [[1, 0], [-1.5, 1]] : [[1, 0], [0.5, 2], [-1.5, 1]];
        for (const ta of [false, true]) for (const tb of [false, true]) for (const [alpha, beta] of ab) {
          // Stored shapes: A (m,k) or (k,m); B (k,n) or (n,k); padded leading dimensions.
          const lda = (ta ? m : k) + 3; const ldb = (tb ? k : n) + 1; const ldc = n + 2;
          const aRows = ta ? k : m; const bRows = tb ? n : k;
          const A = new Float32Array(Math.max(aRows * lda, 1)); const B = new Float32Array(Math.max(bRows * ldb, 1));
          const C = new Float32Array(Math.max(m * ldc, 1));
          for (let i = 0; i < A.length; i++) A[i] = 2 * rng.uniform() - 1;
          for (let i = 0; i < B.length; i++) B[i] = 2 * rng.uniform() - 1;
          for (let i = 0; i < C.length; i++) C[i] = beta === 0 ? NaN : 2 * rng.uniform() - 1;
          const pa = kern.alloc(4 * A.length); const pb = kern.alloc(4 * B.length); const pc = kern.alloc(4 * C.length);
          kern.f32.set(A, pa >>> 2); kern.f32.set(B, pb >>> 2); kern.f32.set(C, pc >>> 2);
          kern.sgemm(ta, tb, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
          const got = kern.f32.slice(pc >>> 2, (pc >>> 2) + C.length);
          kern.free(pa, 4 * A.length); kern.free(pb, 4 * B.length); kern.free(pc, 4 * C.length);
          const want: number[] = []; const gotV: number[] = []; const bound: number[] = [];
          const gk = (k * U) / (1 - k * U);
          for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
            let s = 0; let sAbs = 0;
            for (let p = 0; p < k; p++) {
              const a = ta ? A[p * lda + i] : A[i * lda + p];
              const b = tb ? B[j * ldb + p] : B[p * ldb + j];
              s += a * b; sAbs += Math.abs(a * b);
            }
            const c0 = beta === 0 ? 0 : C[i * ldc + j];
            const w = alpha * s + beta * c0;
            want.push(w); gotV.push(got[i * ldc + j]);
            bound.push(Math.abs(alpha) * gk * sAbs + 2 * U * (Math.abs(alpha * s) + Math.abs(beta * c0)) + 1e-30);
          }
          checkTensor(`sgemm ${ta ? 'T' : 'N'}${tb ? 'T' : 'N'} m${m} n${n} k${k} α${alpha} β${beta}`, gotV, want, (i) => bound[i]);
          // Padding columns of C are never written.
          for (let i = 0; i < m; i++) for (let j = n; j < ldc; j++) {
            const v = got[i * ldc + j]; const c = C[i * ldc + j];
            expect(Object.is(v, c) || (Number.isNaN(v) && Number.isNaN(c))).toBe(true);
          }
        }
      }
    });

    describe('forward, loss, gradients (FWD tolerance)', () => {
      let seed = 1;
      for (const h of HIDDEN) {
        for (const head of HEADS) {
          const shape = SHAPES[seed % SHAPES.length];
          const net: Net = {
            sizes: [shape.inN, shape.hidden, head.out], hidden: h.act, hiddenParam: h.param, last: head.last,
            loss: head.loss, fromLogits: head.fromLogits,
          };
          const s = seed++;
          it(`${h.act}${h.param !== undefined ? `(${h.param})` : ''} → ${head.last} + ${head.loss}${head.fromLogits ? ' (logits)' : ''}, `
            + `batch ${shape.batch}, ${shape.inN}-${shape.hidden}-${head.out}`, () => {
            const spec = specOf(net);
            const { k, r } = pair(wasm, spec, s);
            const { x, y } = data(spec, shape.batch, s + 1000);
            const tag = `[${variant}] ${h.act}→${head.last}/${head.loss}`;
            checkFwd(`${tag} predict`, k.predict(x, shape.batch), r.predict(x, shape.batch));
            const lk = k.forwardBackward(x, y, shape.batch); const lr = r.forwardBackward(x, y, shape.batch);
            checkScalar(`${tag} loss`, lk, lr);
            checkFwd(`${tag} grads`, k.getGrads(), r.getGrads());
            const ek = k.evaluate(x, y, shape.batch); const er = r.evaluate(x, y, shape.batch);
            checkScalar(`${tag} evaluate lossSum`, ek.lossSum, er.lossSum);
            expect(ek.correct, `${tag} evaluate correct`).toBe(er.correct);
            k.dispose(); r.dispose();
          });
        }
      }

      it('no bias, 4 layers (13-7-1-5-3), deep sigmoid/tanh mix', () => {
        for (const hidden of ['sigmoid', 'tanh', 'relu'] as const) {
          const spec = specOf({ sizes: [13, 7, 1, 5, 3], hidden, last: 'softmax', loss: 'sparse_categorical_crossentropy', fromLogits: false, useBias: false });
          const { k, r } = pair(wasm, spec, 77);
          const { x, y } = data(spec, 11, 78);
          checkScalar(`[${variant}] deep ${hidden} loss`, k.forwardBackward(x, y, 11), r.forwardBackward(x, y, 11));
          checkFwd(`[${variant}] deep ${hidden} grads`, k.getGrads(), r.getGrads());
          k.dispose(); r.dispose();
        }
      });

      it('the MNIST shape: 784-128-128-10, relu/softmax, batch 32 (k = 784)', () => {
        const spec = specOf({ sizes: [784, 128, 128, 10], hidden: 'relu', last: 'softmax', loss: 'sparse_categorical_crossentropy', fromLogits: false });
        const { k, r } = pair(wasm, spec, 5);
        const { x, y } = data(spec, 32, 6);
        checkScalar(`[${variant}] mnist loss`, k.forwardBackward(x, y, 32), r.forwardBackward(x, y, 32));
        checkFwd(`[${variant}] mnist grads`, k.getGrads(), r.getGrads());
        checkFwd(`[${variant}] mnist predict`, k.predict(x, 32), r.predict(x, 32));
        k.dispose(); r.dispose();
      });

      it('a batch larger than any before grows the workspace and still agrees; then a smaller one', () => {
        const spec = specOf({ sizes: [5, 9, 3], hidden: 'tanh', last: 'softmax', loss: 'categorical_crossentropy', fromLogits: false });
        const { k, r } = pair(wasm, spec, 9);
        for (const batch of [2, 257, 1, 31]) {
          const { x, y } = data(spec, batch, batch);
          checkScalar(`[${variant}] batch ${batch} loss`, k.forwardBackward(x, y, batch), r.forwardBackward(x, y, batch));
          checkFwd(`[${variant}] batch ${batch} grads`, k.getGrads(), r.getGrads());
        }
        k.dispose(); r.dispose();
      });
    });

    describe('optimizer steps (OPT tolerance, parameters synchronised before each step)', () => {
      const CASES: [string, Partial<OptimizerConfig>][] = [
        ['sgd', { kind: 'sgd' }],
        ['sgd momentum 0.9', { kind: 'sgd', momentum: 0.9 }],
        ['sgd Nesterov', { kind: 'sgd', momentum: 0.9, nesterov: true }],
        ['rmsprop', { kind: 'rmsprop', learningRate: 0.01 }],
        ['rmsprop momentum', { kind: 'rmsprop', learningRate: 0.01, momentum: 0.5 }],
        ['adagrad', { kind: 'adagrad', learningRate: 0.1 }],
        ['adam', { kind: 'adam', learningRate: 0.01 }],
        ['adam ε 1e-3, β 0.5/0.8', { kind: 'adam', learningRate: 0.01, epsilon: 1e-3, beta1: 0.5, beta2: 0.8 }],
        ['adamw', { kind: 'adamw', learningRate: 0.01, weightDecay: 0.004 }],
        ['adamw strong decay', { kind: 'adamw', learningRate: 0.01, weightDecay: 0.5 }],
        // Keras 3 applies weight_decay (decoupled, before the step) on every optimizer, not only AdamW.
        ['sgd momentum + weight decay', { kind: 'sgd', momentum: 0.9, weightDecay: 0.1 }],
        ['rmsprop + weight decay', { kind: 'rmsprop', learningRate: 0.01, weightDecay: 0.1 }],
        ['sgd momentum + clipvalue', { kind: 'sgd', momentum: 0.9, clipValue: 0.01 }],
        ['adam + clipnorm', { kind: 'adam', learningRate: 0.01, clipNorm: 0.05 }],
        ['sgd + global_clipnorm', { kind: 'sgd', globalClipNorm: 0.1 }],
        ['rmsprop + global_clipnorm (inactive)', { kind: 'rmsprop', learningRate: 0.01, globalClipNorm: 1e6 }],
      ];
      for (const [name, cfgPart] of CASES) {
        it(name, () => {
          const cfg = { ...OPT, ...cfgPart };
          const spec = specOf({ sizes: [13, 17, 5], hidden: 'tanh', last: 'softmax', loss: 'sparse_categorical_crossentropy', fromLogits: false });
          const { k, r } = pair(wasm, spec, 31);
          k.setOptimizer(cfg); r.setOptimizer(cfg);
          k.setCollectStats(true); r.setCollectStats(true);
          for (let step = 0; step < 5; step++) {
            if (step === 3) { k.setLearningRate(cfg.learningRate / 3); r.setLearningRate(cfg.learningRate / 3); }
            const { x, y } = data(spec, 7, 500 + step);
            const theta0 = k.getParams();
            r.setParams(theta0);
            const lk = k.trainStep(x, y, 7); const lr = r.trainStep(x, y, 7);
            checkScalar(`[${variant}] ${name} step ${step + 1} loss`, lk, lr);
            const tk = k.getParams(); const tr = r.getParams();
            const dk = tk.map((v, i) => v - theta0[i]); const dr = tr.map((v, i) => v - theta0[i]);
            checkTensor(`[${variant}] ${name} step ${step + 1} Δθ`, dk, dr,
              (i) => OPT_RTOL * Math.abs(dr[i]) + 4 * ulp32(theta0[i]));
            expect(maxAbsOf(dr), 'the step must move θ').toBeGreaterThan(1e-5);
            const sk = k.getStats() as StepStats; const sr = r.getStats() as StepStats;
            expect(sk.clipped, `[${variant}] ${name} step ${step + 1} clipped`).toBe(sr.clipped);
            checkScalar(`[${variant}] ${name} step ${step + 1} update norm`, sk.updateNorm, sr.updateNorm, OPT_RTOL, 1e-7);
          }
          k.dispose(); r.dispose();
        });
      }

      it('free-running sgd momentum for 10 steps stays within FWD tolerance ×10 (no synchronisation)', () => {
        const cfg = { ...OPT, kind: 'sgd' as const, momentum: 0.9 };
        const spec = specOf({ sizes: [7, 11, 3], hidden: 'relu', last: 'softmax', loss: 'categorical_crossentropy', fromLogits: false });
        const { k, r } = pair(wasm, spec, 41);
        k.setOptimizer(cfg); r.setOptimizer(cfg);
        const { x, y } = data(spec, 13, 42);
        for (let step = 0; step < 10; step++) checkScalar(`[${variant}] free sgd loss ${step}`, k.trainStep(x, y, 13), r.trainStep(x, y, 13), 1e-3);
        checkFwd(`[${variant}] free sgd θ`, k.getParams(), r.getParams(), 1e-3);
        expect(k.lastCorrect()).toBe(r.lastCorrect());
        k.dispose(); r.dispose();
      });
    });

    it('slots are stored flush-to-zero in both: seeded just above the smallest normal f32, those with g = 0 flush to 0', () => {
      // optim.rs / ts/reference/optimizers.ts: a slot that would be stored as an f32 subnormal is
      // stored as 0. Feature 0 is 0 in every sample, so W₀'s row 0 gets g = 0 and its decaying
      // slots (β₁ 0.9, β₂ 0.999, ρ 0.9, μ 0.5–0.9 of 1.0005·2⁻¹²⁶) fall below 2⁻¹²⁶ in one step.
      const TINY = 1.0005 * 2 ** -126;
      const cases: [Partial<OptimizerConfig>, ('m' | 'v')[]][] = [
        [{ kind: 'adam', learningRate: 0.01 }, ['m', 'v']],
        [{ kind: 'rmsprop', learningRate: 0.01, momentum: 0.5 }, ['m', 'v']],
        [{ kind: 'sgd', momentum: 0.9, nesterov: true }, ['m']],
      ];
      for (const [part, slots] of cases) {
        const cfg = { ...OPT, ...part };
        const spec = specOf({ sizes: [13, 17, 5], hidden: 'tanh', last: 'softmax', loss: 'sparse_categorical_crossentropy', fromLogits: false });
        const { k, r } = pair(wasm, spec, 37);
        const { x, y } = data(spec, 7, 600);
        for (let b = 0; b < 7; b++) x[b * 13] = 0;
        for (const m of [k, r]) {
          m.setOptimizer(cfg);
          const st = m.getOptimizerState();
          st.slots.fill(TINY);
          m.setOptimizerState(st);
          m.trainStep(x, y, 7);
        }
        const sk = k.getOptimizerState().slots, sr = r.getOptimizerState().slots;
        const n = sk.length / 2, w0 = k.layout[0].wOffset;
        for (const s of slots) {
          const o = (s === 'm' ? 0 : n) + w0;
          expect(Array.from(sk.subarray(o, o + 17)), `[${variant}] ${cfg.kind} kernel ${s} of W₀ row 0`).toEqual(new Array(17).fill(0));
          expect(Array.from(sr.subarray(o, o + 17)), `[${variant}] ${cfg.kind} reference ${s} of W₀ row 0`).toEqual(new Array(17).fill(0));
        }
        for (const [who, st] of [['kernel', sk], ['reference', sr]] as const) {
          const i = st.findIndex((v) => v !== 0 && Math.abs(v) < 2 ** -126);
          expect(i, `[${variant}] ${cfg.kind} ${who}: slot ${i} is subnormal`).toBe(-1);
        }
        const differ = sk.findIndex((v, i) => (v === 0) !== (sr[i] === 0));
        expect(differ, `[${variant}] ${cfg.kind}: slot ${differ} flushed in one backend only (${sk[differ]} vs ${sr[differ]})`).toBe(-1);
        k.dispose(); r.dispose();
      }
    });

    describe('initialisers (INIT tolerance)', () => {
      for (const kind of INITIALIZERS) {
        it(kind, () => {
          const spec = specOf({ sizes: [1, 1], hidden: 'linear', last: 'linear', loss: 'mean_squared_error', fromLogits: false });
          for (const [n, fanIn, fanOut, seed] of [[1, 1, 1, 0], [7, 3, 5, 1], [1000, 784, 128, 42], [4099, 97, 13, 0xffffffff]]) {
            const specN: ModelSpec = { ...spec, layers: [{ ...(spec.layers[0] as DenseLayerSpec), inputSize: n, units: 1, useBias: false }] };
            const m = wasm.createModel(specN);
            m.initTensor(0, n, kind as InitializerName, fanIn, fanOut, 0.05, seed);
            const got = m.getParams();
            m.dispose();
            const want = initValues(n, kind as InitializerName, fanIn, fanOut, 0.05, seed);
            const normal = kind.endsWith('normal');
            let differ = 0;
            checkTensor(`[${variant}] ${kind} n${n} seed ${seed}`, got, want, (i) => {
              if (got[i] !== want[i]) differ++;
              return normal ? ulp32(want[i]) : 0;
            });
            if (differ > 0) console.log(`[${variant}] ${kind} n${n}: ${differ} values differ by ≤ 1 ulp (f64 ln/cos)`);
          }
        });
      }
    });

    it('statistics block (STATS tolerance), with dead relu units and saturated sigmoid units present', () => {
      const spec: ModelSpec = {
        loss: 'sparse_categorical_crossentropy', fromLogits: false,
        layers: [
          { kind: 'dense', inputSize: 6, units: 9, activation: 'relu', activationParam: 0, useBias: true },
          { kind: 'dense', inputSize: 9, units: 7, activation: 'sigmoid', activationParam: 0, useBias: true },
          { kind: 'dense', inputSize: 7, units: 5, activation: 'leaky_relu', activationParam: 0.2, useBias: true },
          { kind: 'dense', inputSize: 5, units: 3, activation: 'softmax', activationParam: 0, useBias: true },
        ],
      };
      // batch 29 runs whole; 131 is split into 3 row chunks (43, 44, 44) whose activation
      // statistics are merged (crates/kernel/src/model.rs, split_pass)
      for (const [batch, clip] of [[29, {}], [29, { clipNorm: 0.01 }], [29, { globalClipNorm: 0.02 }], [29, { clipValue: 0.001 }],
        [131, {}], [131, { globalClipNorm: 0.02 }]] as const) {
        const { k, r } = pair(wasm, spec, 3);
        const p = k.getParams();
        const L0 = k.layout[0]; const L1 = k.layout[1];
        p[L0.bOffset] = -50; p[L0.bOffset + 4] = -50; // two dead relu units
        for (let i = 0; i < 3 * 7; i++) p[L1.wOffset + i] *= 40; // saturate some sigmoid pre-activations
        const L3 = k.layout[3]; p[L3.bOffset] = 20; // softmax rows saturated
        k.setParams(p); r.setParams(p);
        const cfg = { ...OPT, kind: 'adam' as const, learningRate: 0.01, ...clip };
        k.setOptimizer(cfg); r.setOptimizer(cfg);
        k.setCollectStats(true); r.setCollectStats(true);
        const { x, y } = data(spec, batch, 4);
        k.trainStep(x, y, batch); r.trainStep(x, y, batch);
        const sk = k.getStats() as StepStats; const sr = r.getStats() as StepStats;
        const tag = `[${variant}] stats, batch ${batch}, ${JSON.stringify(clip)}`;
        const exact = new Set(['deadFraction', 'saturatedFraction', 'nonFiniteAct', 'nonFiniteGrad', 'nonFiniteWeight']);
        sr.layers.forEach((lr, l) => {
          for (const f of LAYER_STATS_FIELDS) {
            if (exact.has(f)) expect(sk.layers[l][f], `${tag} layer ${l} ${f}`).toBe(Math.fround(lr[f]));
            else if (f === 'updateRatio') checkScalar(`${tag} layer ${l} ${f}`, sk.layers[l][f], lr[f], OPT_RTOL, 1e-9);
            else checkScalar(`${tag} layer ${l} ${f}`, sk.layers[l][f], lr[f], FWD_RTOL, 1e-7);
          }
        });
        expect(sr.layers[0].deadFraction).toBeCloseTo(2 / 9, 6);
        expect(sr.layers[1].saturatedFraction).toBeGreaterThan(0);
        expect(sr.layers[3].saturatedFraction).toBeGreaterThan(0);
        checkScalar(`${tag} globalGradNorm`, sk.globalGradNorm, sr.globalGradNorm);
        checkScalar(`${tag} loss`, sk.loss, sr.loss);
        checkScalar(`${tag} updateNorm`, sk.updateNorm, sr.updateNorm, OPT_RTOL, 1e-9);
        checkScalar(`${tag} paramNorm`, sk.paramNorm, sr.paramNorm);
        expect(sk.nonFiniteLoss).toBe(sr.nonFiniteLoss);
        expect(sk.clipped, `${tag} clipped`).toBe(sr.clipped);
        expect(sr.clipped).toBe(Object.keys(clip).length > 0);
        k.dispose(); r.dispose();
      }
    });

    it('non-finite values are counted, not trapped: a NaN weight gives NaN loss and counts in both', () => {
      const spec = specOf({ sizes: [4, 6, 3], hidden: 'relu', last: 'softmax', loss: 'sparse_categorical_crossentropy', fromLogits: false });
      const { k, r } = pair(wasm, spec, 8);
      const p = k.getParams(); p[k.layout[1].wOffset + 2] = NaN;
      k.setParams(p); r.setParams(p);
      k.setOptimizer({ ...OPT }); r.setOptimizer({ ...OPT });
      k.setCollectStats(true); r.setCollectStats(true);
      const { x, y } = data(spec, 5, 9);
      const lk = k.trainStep(x, y, 5); const lr = r.trainStep(x, y, 5);
      expect(Number.isNaN(lk)).toBe(Number.isNaN(lr));
      const sk = k.getStats() as StepStats; const sr = r.getStats() as StepStats;
      expect(sk.nonFiniteLoss).toBe(true); expect(sr.nonFiniteLoss).toBe(true);
      for (let l = 0; l < 2; l++) {
        for (const f of ['nonFiniteAct', 'nonFiniteGrad', 'nonFiniteWeight'] as const) {
          expect(sk.layers[l][f], `[${variant}] layer ${l} ${f}`).toBe(sr.layers[l][f]);
        }
      }
      k.dispose(); r.dispose();
    });

    it('seeded runs are reproducible bit for bit (two models, and a second backend instance)', async () => {
      const spec = specOf({ sizes: [29, 37, 10], hidden: 'relu', last: 'softmax', loss: 'sparse_categorical_crossentropy', fromLogits: false });
      const run = (backend: Backend): Uint8Array => {
        const m = backend.createModel(spec);
        m.spec.layers.forEach((l, i) => {
          m.initTensor(m.layout[i].wOffset, m.layout[i].wLength, 'he_normal', l.inputSize, l.units, 0, tensorSeed(1234, 2 * i));
        });
        m.setOptimizer({ ...OPT, kind: 'adam', learningRate: 1e-3 });
        for (let step = 0; step < 8; step++) {
          const { x, y } = data(spec, 17, step);
          m.trainStep(x, y, 17);
        }
        const bytes = new Uint8Array(m.getParams().buffer.slice(0));
        m.dispose();
        return bytes;
      };
      const a = run(wasm); const b = run(wasm);
      const other = await createWasmBackend({ variant });
      const c = run(other);
      expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
      expect(Buffer.from(a).equals(Buffer.from(c))).toBe(true);
      // and the training did something (the comparison is not of untouched zeros)
      expect(maxAbsOf(new Float32Array(a.buffer))).toBeGreaterThan(0.01);
    });
  });
}

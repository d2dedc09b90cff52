// Central finite differences, in f64, of the reference's own gradients (ts/reference/network.ts)
// for every activation and every loss (the fused pairs, the from_logits forms and a few unfused
// pairs), on multi-layer nets with odd sizes (1, 3, 7, 13).
//
// Tolerance: the central difference (L(θ+h) − L(θ−h))/2h has truncation error h²/6·|L'''| and
// rounding error ≈ ε₆₄·|L|/h. With h = 1e-5, ε₆₄ ≈ 1.1e-16 and |L| ≲ 10 that is ≈ 1e-10 + 1e-10 for
// |L'''| ≲ 60, so we accept |numeric − analytic| ≤ 1e-7·max(|numeric|, |analytic|) + 1e-8:
// a hundred times the expected error, and still far below any real bug (a missing factor, a wrong
// derivative or a dropped term changes gradients by O(|g|), ~1e-3..1 here).
// Inputs are drawn from a fixed seed, so the checks are deterministic (no kink of relu/leaky_relu
// falls within h of a pre-activation for these seeds; a failure there would show as one entry).

import { describe, expect, it } from 'vitest';
import type { ActivationName, LossName, ModelSpec, Targets } from '../ts/backend/types.js';
import { computeLayout, evaluateLoss, forwardBackward } from '../ts/reference/network.js';
import { createReferenceBackend } from '../ts/reference/backend.js';
import { Rng } from '../ts/reference/rng.js';

const H = 1e-5;
const RTOL = 1e-7;
const ATOL = 1e-8;

interface Case {
  name: string;
  sizes: number[]; // [in, hidden…, out]
  hidden: ActivationName; hiddenParam?: number;
  last: ActivationName; lastParam?: number;
  loss: LossName; fromLogits: boolean;
  batch: number;
  useBias?: boolean;
  weightScale?: number;
}

function specOf(c: Case): ModelSpec {
  const layers = [];
  for (let l = 0; l + 1 < c.sizes.length; l++) {
    const isLast = l + 2 === c.sizes.length;
    const act = isLast ? c.last : c.hidden;
    const defaultParam = act === 'leaky_relu' ? 0.2 : act === 'elu' ? 1.0 : 0;
    layers.push({
      kind: 'dense' as const, inputSize: c.sizes[l], units: c.sizes[l + 1], activation: act,
      activationParam: (isLast ? c.lastParam : c.hiddenParam) ?? defaultParam,
      useBias: c.useBias ?? true,
    });
  }
  return { layers, loss: c.loss, fromLogits: c.fromLogits };
}

function targetsFor(loss: LossName, batch: number, out: number, rng: Rng): Targets {
  if (loss === 'sparse_categorical_crossentropy') {
    const y = new Int32Array(batch);
    for (let b = 0; b < batch; b++) y[b] = rng.below(out);
    return y;
  }
  const y = new Float32Array(batch * out);
  if (loss === 'categorical_crossentropy') {
    // A proper distribution per row (soft labels exercise more than one-hot does).
    for (let b = 0; b < batch; b++) {
      let s = 0;
      for (let j = 0; j < out; j++) { y[b * out + j] = 0.1 + rng.uniform(); s += y[b * out + j]; }
      for (let j = 0; j < out; j++) y[b * out + j] = Math.fround(y[b * out + j] / s);
    }
  } else if (loss === 'binary_crossentropy') {
    for (let i = 0; i < y.length; i++) y[i] = rng.uniform() < 0.5 ? 0 : 1;
  } else {
    for (let i = 0; i < y.length; i++) y[i] = 2 * rng.uniform() - 1;
  }
  return y;
}

/** Runs the check; returns the worst violation ratio |err| / allowed (≤ 1 passes). */
function gradcheck(c: Case, seed: number): { worst: number; report: string[] } {
  const spec = specOf(c);
  const { layout, paramCount } = computeLayout(spec);
  const rng = new Rng(seed);
  const params = new Float64Array(paramCount);
  const scale = c.weightScale ?? 0.7;
  for (let i = 0; i < paramCount; i++) params[i] = scale * (2 * rng.uniform() - 1);
  const x = new Float64Array(c.batch * c.sizes[0]);
  for (let i = 0; i < x.length; i++) x[i] = 2 * rng.uniform() - 1;
  const y = targetsFor(c.loss, c.batch, c.sizes[c.sizes.length - 1], rng);

  const analytic = forwardBackward(spec, layout, paramCount, params, x, y, c.batch).grads;
  let worst = 0;
  const report: string[] = [];
  for (let i = 0; i < paramCount; i++) {
    const keep = params[i];
    params[i] = keep + H;
    const lp = evaluateLoss(spec, layout, params, x, y, c.batch).mean;
    params[i] = keep - H;
    const lm = evaluateLoss(spec, layout, params, x, y, c.batch).mean;
    params[i] = keep;
    const numeric = (lp - lm) / (2 * H);
    const err = Math.abs(numeric - analytic[i]);
    const allowed = RTOL * Math.max(Math.abs(numeric), Math.abs(analytic[i])) + ATOL;
    if (err / allowed > worst) worst = err / allowed;
    if (err > allowed && report.length < 5) {
      report.push(`param ${i}: analytic ${analytic[i]} numeric ${numeric} diff ${err}`);
    }
  }
  // The check must be able to fail: the gradient is not all zeros.
  let maxAbs = 0;
  for (const g of analytic) maxAbs = Math.max(maxAbs, Math.abs(g));
  expect(maxAbs, `${c.name}: gradient is identically zero`).toBeGreaterThan(1e-4);
  return { worst, report };
}

const HIDDEN: { act: ActivationName; param?: number }[] = [
  { act: 'linear' }, { act: 'relu' }, { act: 'leaky_relu' }, { act: 'leaky_relu', param: 0.05 },
  { act: 'elu' }, { act: 'elu', param: 0.7 }, { act: 'selu' }, { act: 'sigmoid' }, { act: 'tanh' },
  { act: 'softmax' },
];

// Sensible heads: fused pairs and from_logits forms, MSE with each output activation.
const HEADS: { last: ActivationName; loss: LossName; fromLogits: boolean; out: number }[] = [
  { last: 'softmax', loss: 'sparse_categorical_crossentropy', fromLogits: false, out: 7 },
  { last: 'linear', loss: 'sparse_categorical_crossentropy', fromLogits: true, out: 3 },
  { last: 'softmax', loss: 'categorical_crossentropy', fromLogits: false, out: 3 },
  { last: 'linear', loss: 'categorical_crossentropy', fromLogits: true, out: 7 },
  { last: 'sigmoid', loss: 'binary_crossentropy', fromLogits: false, out: 1 },
  { last: 'sigmoid', loss: 'binary_crossentropy', fromLogits: false, out: 3 },
  { last: 'linear', loss: 'binary_crossentropy', fromLogits: true, out: 3 },
  { last: 'linear', loss: 'mean_squared_error', fromLogits: false, out: 1 },
  { last: 'tanh', loss: 'mean_squared_error', fromLogits: false, out: 3 },
];

// Pairs computed "as written" (probabilities clipped, chained through the activation) and
// from_logits on a non-linear last layer.
const UNFUSED: Case[] = [
  { name: 'categorical CE on sigmoid outputs', sizes: [3, 7, 3], hidden: 'tanh', last: 'sigmoid',
    loss: 'categorical_crossentropy', fromLogits: false, batch: 3 },
  { name: 'sparse CE on sigmoid outputs', sizes: [7, 3, 7], hidden: 'relu', last: 'sigmoid',
    loss: 'sparse_categorical_crossentropy', fromLogits: false, batch: 7 },
  { name: 'binary CE on softmax outputs', sizes: [3, 7, 3], hidden: 'elu', last: 'softmax',
    loss: 'binary_crossentropy', fromLogits: false, batch: 3 },
  { name: 'binary CE from_logits on a sigmoid last layer (its output taken as logits)',
    sizes: [3, 3, 1], hidden: 'selu', last: 'sigmoid', loss: 'binary_crossentropy', fromLogits: true, batch: 7 },
  { name: 'sparse CE from_logits on a leaky_relu last layer', sizes: [7, 13, 3], hidden: 'sigmoid',
    last: 'leaky_relu', loss: 'sparse_categorical_crossentropy', fromLogits: true, batch: 3 },
  { name: 'MSE through softmax (softmax Jacobian)', sizes: [3, 7, 7], hidden: 'tanh', last: 'softmax',
    loss: 'mean_squared_error', fromLogits: false, batch: 3 },
  { name: 'MSE, selu head', sizes: [13, 7, 3], hidden: 'linear', last: 'selu',
    loss: 'mean_squared_error', fromLogits: false, batch: 1 },
  { name: 'MSE, elu alpha 0.7 head', sizes: [1, 3, 3], hidden: 'sigmoid', last: 'elu', lastParam: 0.7,
    loss: 'mean_squared_error', fromLogits: false, batch: 7 },
  { name: 'MSE, relu head', sizes: [3, 13, 7], hidden: 'tanh', last: 'relu',
    loss: 'mean_squared_error', fromLogits: false, batch: 3 },
];

describe('reference gradients vs central finite differences (f64)', () => {
  let seed = 100;
  for (const h of HIDDEN) {
    for (const head of HEADS) {
      const c: Case = {
        name: `${h.act}${h.param !== undefined ? `(${h.param})` : ''} → ${head.last} + ${head.loss}${head.fromLogits ? ' (logits)' : ''}`,
        sizes: [3, 7, seed % 2 ? 13 : 1, head.out],
        hidden: h.act, hiddenParam: h.param, last: head.last, loss: head.loss,
        fromLogits: head.fromLogits, batch: [1, 3, 7][seed % 3],
      };
      const s = seed++;
      it(c.name, () => {
        const { worst, report } = gradcheck(c, s);
        expect(worst, report.join('\n')).toBeLessThanOrEqual(1);
      });
    }
  }
  for (const c of UNFUSED) {
    const s = seed++;
    it(`unfused: ${c.name}`, () => {
      const { worst, report } = gradcheck(c, s);
      expect(worst, report.join('\n')).toBeLessThanOrEqual(1);
    });
  }
  it('deep net (5 layers, sizes 13-7-3-1-3-7), no bias', () => {
    const { worst, report } = gradcheck({
      name: 'deep', sizes: [13, 7, 3, 1, 3, 7], hidden: 'tanh', last: 'softmax',
      loss: 'sparse_categorical_crossentropy', fromLogits: false, batch: 7, useBias: false, weightScale: 1.2,
    }, 7);
    expect(worst, report.join('\n')).toBeLessThanOrEqual(1);
  });

  it('the model (f32 storage) stores exactly the f64 gradients rounded to f32', () => {
    const c: Case = { name: 'f32', sizes: [7, 13, 3], hidden: 'relu', last: 'softmax',
      loss: 'sparse_categorical_crossentropy', fromLogits: false, batch: 7 };
    const spec = specOf(c);
    const model = createReferenceBackend().createModel(spec);
    const rng = new Rng(5);
    const p32 = new Float32Array(model.paramCount);
    for (let i = 0; i < p32.length; i++) p32[i] = 2 * rng.uniform() - 1;
    model.setParams(p32);
    const x = new Float32Array(7 * 7);
    for (let i = 0; i < x.length; i++) x[i] = 2 * rng.uniform() - 1;
    const y = targetsFor(spec.loss, 7, 3, rng);
    const lossModel = model.forwardBackward(x, y, 7);
    const g32 = model.getGrads();
    const { layout, paramCount } = computeLayout(spec);
    const r = forwardBackward(spec, layout, paramCount, Float64Array.from(p32), x, y, 7);
    expect(lossModel).toBe(r.loss);
    let mismatches = 0;
    for (let i = 0; i < paramCount; i++) if (g32[i] !== Math.fround(r.grads[i])) mismatches++;
    expect(mismatches).toBe(0);
  });
});

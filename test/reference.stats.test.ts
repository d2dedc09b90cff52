// The reference's statistics block (ts/reference/stats.ts via ReferenceModel) checked against
// relations that hold by construction, computed here from the model's public values:
// - gradient words are norms/max of getGrads() from a forwardBackward on the same data;
// - with plain SGD, ΔW = −lr·dW, so updateRatio = lr·‖dW‖/‖W_before‖ and updateNorm = lr·‖G‖;
// - wNorm, bNorm, paramNorm are norms of getParams() after the step;
// - dead units and saturated units made on purpose (a bias of −50 kills a relu unit; weights ×40
//   push sigmoid pre-activations beyond |z| = 5; a +20 bias saturates softmax rows);
// - activation mean/std/mean|z| of a one-layer linear model equal those of predict()'s output.
// Tolerance 1e-9 relative: every quantity is a few f64 operations on the same f32 values.

import { describe, expect, it } from 'vitest';
import type { ModelSpec, OptimizerConfig, StepStats } from '../ts/backend/types.js';
import { createReferenceBackend } from '../ts/reference/backend.js';
import { Rng } from '../ts/reference/rng.js';

const SGD: OptimizerConfig = {
  kind: 'sgd', learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, momentum: 0, nesterov: false,
  weightDecay: 0, rho: 0.9, initialAccumulatorValue: 0.1, clipValue: 0, clipNorm: 0, globalClipNorm: 0,
};
const norm = (v: ArrayLike<number>, o = 0, n = v.length) => { let s = 0; for (let i = o; i < o + n; i++) s += v[i] * v[i]; return Math.sqrt(s); };
const close = (got: number, want: number, what: string) =>
  expect(Math.abs(got - want), `${what}: ${got} vs ${want}`).toBeLessThanOrEqual(1e-9 * Math.abs(want) + 1e-12);

const SPEC: ModelSpec = {
  loss: 'sparse_categorical_crossentropy', fromLogits: false,
  layers: [
    { kind: 'dense', inputSize: 4, units: 6, activation: 'relu', activationParam: 0, useBias: true },
    { kind: 'dense', inputSize: 6, units: 5, activation: 'sigmoid', activationParam: 0, useBias: true },
    { kind: 'dense', inputSize: 5, units: 3, activation: 'softmax', activationParam: 0, useBias: true },
  ],
};

describe('reference statistics block', () => {
  it('gradient, weight and update words, dead and saturated fractions', () => {
    const m = createReferenceBackend().createModel(SPEC);
    const rng = new Rng(17);
    const p = new Float32Array(m.paramCount).map(() => rng.uniform() - 0.5);
    p[m.layout[0].bOffset + 1] = -50; p[m.layout[0].bOffset + 4] = -50; // 2 of 6 relu units dead
    for (let i = 0; i < 6 * 5; i++) p[m.layout[1].wOffset + i] *= 40; // sigmoid saturation
    p[m.layout[2].bOffset] = 20; // softmax rows saturated at class 0
    m.setParams(p);
    const x = new Float32Array(8 * 4).map(() => rng.uniform());
    const y = Int32Array.from([0, 1, 2, 0, 1, 2, 0, 1]);
    const loss = m.forwardBackward(x, y, 8);
    const g = m.getGrads();
    m.setOptimizer(SGD);
    m.setCollectStats(true);
    expect(m.getStats()).toBeNull();
    expect(m.trainStep(x, y, 8)).toBe(loss);
    const s = m.getStats() as StepStats;
    const after = m.getParams();
    m.layout.forEach((l, i) => {
      const st = s.layers[i];
      close(st.gradWNorm, norm(g, l.wOffset, l.wLength), `layer ${i} gradWNorm`);
      close(st.gradBNorm, norm(g, l.bOffset, l.bLength), `layer ${i} gradBNorm`);
      close(st.gradWMaxAbs, Math.max(...Array.from(g.subarray(l.wOffset, l.wOffset + l.wLength), Math.abs)), `layer ${i} gradWMaxAbs`);
      close(st.wNorm, norm(after, l.wOffset, l.wLength), `layer ${i} wNorm`);
      close(st.bNorm, norm(after, l.bOffset, l.bLength), `layer ${i} bNorm`);
      // plain SGD: ‖ΔW‖ = lr·‖dW‖, up to rounding the new W to f32: each entry moves by at most
      // half an ulp, ≤ 2⁻²⁴·max|W|, so ‖ΔW‖ by at most sqrt(n)·2⁻²⁴·max|W|.
      const wNorm0 = norm(p, l.wOffset, l.wLength);
      const maxW = Math.max(...Array.from(after.subarray(l.wOffset, l.wOffset + l.wLength), Math.abs));
      expect(Math.abs(st.updateRatio - (0.1 * st.gradWNorm) / wNorm0))
        .toBeLessThanOrEqual((Math.sqrt(l.wLength) * 2 ** -24 * maxW) / wNorm0);
      expect(st.nonFiniteAct + st.nonFiniteGrad + st.nonFiniteWeight).toBe(0);
    });
    expect(s.layers[0].deadFraction).toBe(2 / 6);
    expect(s.layers[1].deadFraction).toBe(0); // not a relu-family layer
    expect(s.layers[1].saturatedFraction).toBeGreaterThan(0.3);
    expect(s.layers[0].saturatedFraction).toBe(0);
    expect(s.layers[2].saturatedFraction).toBeGreaterThan(0); // rows with max p ≥ 1 − 1e-6
    close(s.globalGradNorm, norm(g), 'globalGradNorm');
    const maxP = Math.max(...Array.from(after, Math.abs));
    expect(Math.abs(s.updateNorm - 0.1 * s.globalGradNorm)).toBeLessThanOrEqual(Math.sqrt(after.length) * 2 ** -24 * maxP);
    close(s.paramNorm, norm(after), 'paramNorm');
    expect(s.loss).toBe(loss);
    expect(s.nonFiniteLoss).toBe(false);
    expect(s.clipped).toBe(false);
  });

  it('activation words of a linear layer are those of predict(); clipped is reported', () => {
    const spec: ModelSpec = { loss: 'mean_squared_error', fromLogits: false, layers: [
      { kind: 'dense', inputSize: 3, units: 7, activation: 'linear', activationParam: 0, useBias: true }] };
    const m = createReferenceBackend().createModel(spec);
    const rng = new Rng(4);
    m.setParams(new Float32Array(m.paramCount).map(() => rng.uniform() - 0.5));
    const x = new Float32Array(5 * 3).map(() => 2 * rng.uniform());
    const y = new Float32Array(5 * 7).fill(3);
    const out = m.predict(x, 5); // f32-rounded; the stats use the f64 values, so compare at 1e-6
    const mean = out.reduce((a, b) => a + b, 0) / out.length;
    const std = Math.sqrt(out.reduce((a, b) => a + (b - mean) ** 2, 0) / out.length);
    const meanAbs = out.reduce((a, b) => a + Math.abs(b), 0) / out.length;
    m.setOptimizer({ ...SGD, clipNorm: 1e-3 });
    m.setCollectStats(true);
    m.trainStep(x, y, 5);
    const s = m.getStats() as StepStats;
    expect(Math.abs(s.layers[0].actMean - mean)).toBeLessThan(1e-6);
    expect(Math.abs(s.layers[0].actStd - std)).toBeLessThan(1e-6);
    expect(Math.abs(s.layers[0].preactMeanAbs - meanAbs)).toBeLessThan(1e-6);
    expect(s.clipped).toBe(true);
    // the gradient words are pre-clip: far above the clip norm
    expect(s.layers[0].gradWNorm).toBeGreaterThan(1e-2);
  });

  it('non-finite values are counted (a NaN weight poisons one unit downstream)', () => {
    const m = createReferenceBackend().createModel(SPEC);
    const rng = new Rng(5);
    const p = new Float32Array(m.paramCount).map(() => rng.uniform() - 0.5);
    p[m.layout[1].wOffset + 0] = NaN; // W1[0, 0]: unit 0 of layer 1 becomes NaN for every sample
    m.setParams(p);
    m.setOptimizer(SGD);
    m.setCollectStats(true);
    const batch = 4;
    const loss = m.trainStep(new Float32Array(batch * 4).fill(0.5), Int32Array.from([0, 1, 2, 0]), batch);
    const s = m.getStats() as StepStats;
    expect(Number.isNaN(loss)).toBe(true);
    expect(s.nonFiniteLoss).toBe(true);
    expect(s.layers[0].nonFiniteAct).toBe(0);
    expect(s.layers[1].nonFiniteAct).toBe(2 * batch); // z and a of unit 0, every sample
    expect(s.layers[2].nonFiniteAct).toBe(2 * batch * 3); // all of z and a
    expect(s.layers[1].nonFiniteWeight).toBeGreaterThan(0);
  });
});

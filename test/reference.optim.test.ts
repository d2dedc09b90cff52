// Each optimizer of the reference (ts/reference/optimizers.ts, through ReferenceModel.trainStep)
// over several steps against the update equations written out again here, by hand, from Keras 3
// (keras/src/optimizers/{sgd,rmsprop,adagrad,adam,adamw,base_optimizer}.py):
//   clip → decoupled weight decay θ ← θ − θ·λ·lr → update_step, t = 1, 2, …
// The gradient each step is whatever the model computes (read with forwardBackward just before the
// trainStep; both are deterministic), so this test is independent of the gradient code.
//
// Hyper-parameters are chosen so every term matters (ε = 0.1 makes "ε inside or outside the root"
// and the bias corrections change updates by ~10%; β's far from 1; momentum 0.7).
// Tolerance: the hand version rounds state and parameters to f32 where the model stores them, in
// the same places, but the f64 expressions may be ordered differently, so the two can differ by an
// ulp or so per step: |Δθ| ≤ 1e-6 (≈ 8 ulp of values ~1) after 6 steps. Any mistake in an equation
// changes θ by ≳ 1e-4 here (updates are ~lr·|g| ≈ 1e-2), which the test also asserts is the size
// of every step, so it cannot pass vacuously.

import { describe, expect, it } from 'vitest';
import type { BackendModel, ModelSpec, OptimizerConfig } from '../ts/backend/types.js';
import { createReferenceBackend } from '../ts/reference/backend.js';
import { Rng } from '../ts/reference/rng.js';

const f32 = Math.fround;
const TOL = 1e-6;
const STEPS = 6;

const SPEC: ModelSpec = {
  loss: 'mean_squared_error', fromLogits: false,
  layers: [
    { kind: 'dense', inputSize: 3, units: 5, activation: 'tanh', activationParam: 0, useBias: true },
    { kind: 'dense', inputSize: 5, units: 2, activation: 'linear', activationParam: 0, useBias: true },
  ],
};

const BASE: OptimizerConfig = {
  kind: 'sgd', learningRate: 0.05, beta1: 0.8, beta2: 0.9, epsilon: 0.1, momentum: 0, nesterov: false,
  weightDecay: 0, rho: 0.8, initialAccumulatorValue: 0.3, clipValue: 0, clipNorm: 0, globalClipNorm: 0,
};

function setup(seed: number): { model: BackendModel; x: Float32Array; y: Float32Array; batch: number } {
  const model = createReferenceBackend().createModel(SPEC);
  const rng = new Rng(seed);
  const p = new Float32Array(model.paramCount);
  for (let i = 0; i < p.length; i++) p[i] = 2 * rng.uniform() - 1;
  model.setParams(p);
  const batch = 4;
  const x = new Float32Array(batch * 3); for (let i = 0; i < x.length; i++) x[i] = 4 * rng.uniform() - 2;
  const y = new Float32Array(batch * 2); for (let i = 0; i < y.length; i++) y[i] = 4 * rng.uniform() - 2;
  return { model, x, y, batch };
}

/** The hand-written optimizer: state per parameter, equations as in Keras 3. */
class Hand {
  m: Float32Array; v: Float32Array; t = 0; lr: number;
  constructor(readonly c: OptimizerConfig, n: number) {
    this.lr = c.learningRate;
    this.m = new Float32Array(n); this.v = new Float32Array(n);
    if (c.kind === 'adagrad') this.v.fill(c.initialAccumulatorValue);
  }

  /** Keras base_optimizer._clip_gradients (tensors = [[offset, length], …] in layout order). */
  clip(g: Float32Array, tensors: [number, number][]): boolean {
    const c = this.c;
    const sq = (o: number, n: number) => { let s = 0; for (let i = o; i < o + n; i++) s += g[i] * g[i]; return s; };
    if (c.clipNorm > 0) {
      let any = false;
      for (const [o, n] of tensors) {
        const norm = Math.sqrt(sq(o, n));
        if (norm > c.clipNorm) { any = true; for (let i = o; i < o + n; i++) g[i] = f32(g[i] * c.clipNorm / norm); }
      }
      return any;
    }
    if (c.globalClipNorm > 0) {
      let total = 0; for (const [o, n] of tensors) total += sq(o, n);
      const norm = Math.sqrt(total);
      if (norm <= c.globalClipNorm) return false;
      for (let i = 0; i < g.length; i++) g[i] = f32(g[i] * c.globalClipNorm / norm);
      return true;
    }
    if (c.clipValue > 0) {
      let any = false;
      for (let i = 0; i < g.length; i++) {
        if (g[i] > c.clipValue) { g[i] = f32(c.clipValue); any = true; }
        if (g[i] < -c.clipValue) { g[i] = f32(-c.clipValue); any = true; }
      }
      return any;
    }
    return false;
  }

  step(theta: Float32Array, g: Float32Array): void {
    const c = this.c; const lr = this.lr;
    this.t += 1;
    const t = this.t;
    for (let i = 0; i < theta.length; i++) {
      let w = theta[i];
      if (c.weightDecay > 0) w -= w * c.weightDecay * lr;
      if (c.kind === 'sgd') {
        if (c.momentum === 0) {
          w -= lr * g[i];
        } else {
          // velocity = momentum·velocity − lr·g
          this.m[i] = f32(c.momentum * this.m[i] - lr * g[i]);
          // w += velocity, or (Nesterov) w += momentum·velocity − lr·g
          w += c.nesterov ? c.momentum * this.m[i] - lr * g[i] : this.m[i];
        }
      } else if (c.kind === 'rmsprop') {
        this.v[i] = f32(c.rho * this.v[i] + (1 - c.rho) * g[i] ** 2);
        const inc = lr * g[i] / Math.sqrt(this.v[i] + c.epsilon);
        if (c.momentum > 0) { this.m[i] = f32(c.momentum * this.m[i] + inc); w -= this.m[i]; } else w -= inc;
      } else if (c.kind === 'adagrad') {
        this.v[i] = f32(this.v[i] + g[i] ** 2);
        w -= lr * g[i] / Math.sqrt(this.v[i] + c.epsilon);
      } else {
        // Adam/AdamW: bias-corrected step size, ε added to sqrt(v) (Keras's "epsilon hat")
        this.m[i] = f32(this.m[i] + (g[i] - this.m[i]) * (1 - c.beta1));
        this.v[i] = f32(this.v[i] + (g[i] ** 2 - this.v[i]) * (1 - c.beta2));
        const alpha = lr * Math.sqrt(1 - c.beta2 ** t) / (1 - c.beta1 ** t);
        w -= alpha * this.m[i] / (Math.sqrt(this.v[i]) + c.epsilon);
      }
      theta[i] = f32(w);
    }
  }
}

function maxDiff(a: Float32Array, b: Float32Array): { max: number; at: number } {
  let max = 0; let at = -1;
  for (let i = 0; i < a.length; i++) { const d = Math.abs(a[i] - b[i]); if (!(d <= max)) { max = d; at = i; } }
  return { max, at };
}

/** Runs `steps` steps on the model and by hand; `onStep(s)` may change the learning rate. */
function compare(
  cfg: OptimizerConfig, opts: { seed?: number; lrAt?: Record<number, number>; expectClipped?: boolean } = {},
): void {
  const { model, x, y, batch } = setup(opts.seed ?? 3);
  const tensors: [number, number][] = [];
  for (const l of model.layout) { tensors.push([l.wOffset, l.wLength]); if (l.bLength) tensors.push([l.bOffset, l.bLength]); }
  model.setOptimizer(cfg);
  model.setCollectStats(true);
  const hand = new Hand(cfg, model.paramCount);
  let theta = model.getParams();
  let clippedSteps = 0;
  for (let s = 0; s < STEPS; s++) {
    const lr = opts.lrAt?.[s];
    if (lr !== undefined) { model.setLearningRate(lr); hand.lr = lr; }
    model.forwardBackward(x, y, batch);
    const g = model.getGrads();
    const clipped = hand.clip(g, tensors);
    const before = theta.slice();
    hand.step(theta, g);
    model.trainStep(x, y, batch);
    const got = model.getParams();
    const { max, at } = maxDiff(got, theta);
    expect(max, `${cfg.kind} step ${s + 1}: max |Δθ| ${max} at ${at} (model ${got[at]}, hand ${theta[at]})`)
      .toBeLessThanOrEqual(TOL);
    expect(maxDiff(theta, before).max, 'every step must move θ visibly').toBeGreaterThan(1e-4);
    expect(model.getStats()?.clipped).toBe(clipped);
    if (clipped) clippedSteps++;
    theta = got;
  }
  if (opts.expectClipped !== undefined) expect(clippedSteps > 0).toBe(opts.expectClipped);
}

describe('optimizers vs hand-written Keras 3 equations', () => {
  it('sgd', () => compare({ ...BASE, kind: 'sgd' }));
  it('sgd with momentum', () => compare({ ...BASE, kind: 'sgd', momentum: 0.7 }));
  it('sgd with Nesterov momentum', () => compare({ ...BASE, kind: 'sgd', momentum: 0.7, nesterov: true }));
  it('sgd with decoupled weight decay', () => compare({ ...BASE, kind: 'sgd', momentum: 0.7, weightDecay: 0.1 }));
  it('rmsprop', () => compare({ ...BASE, kind: 'rmsprop' }));
  it('rmsprop with momentum', () => compare({ ...BASE, kind: 'rmsprop', momentum: 0.7 }));
  it('adagrad', () => compare({ ...BASE, kind: 'adagrad' }));
  it('adam', () => compare({ ...BASE, kind: 'adam' }));
  it('adam, Keras defaults (β 0.9/0.999, ε 1e-7)', () =>
    compare({ ...BASE, kind: 'adam', learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }));
  it('adamw', () => compare({ ...BASE, kind: 'adamw', weightDecay: 0.1 }));

  describe('clipping (the `clipped` statistic must agree too)', () => {
    it('clipvalue with sgd momentum', () => compare({ ...BASE, kind: 'sgd', momentum: 0.7, clipValue: 0.05 }, { expectClipped: true }));
    it('clipnorm (per tensor) with adam', () => compare({ ...BASE, kind: 'adam', clipNorm: 0.2 }, { expectClipped: true }));
    it('global_clipnorm with Nesterov sgd', () =>
      compare({ ...BASE, kind: 'sgd', momentum: 0.7, nesterov: true, globalClipNorm: 0.3 }, { expectClipped: true }));
    it('global_clipnorm above the norm leaves gradients alone', () =>
      compare({ ...BASE, kind: 'rmsprop', globalClipNorm: 1e6 }, { expectClipped: false }));
  });

  describe('setLearningRate mid-run', () => {
    it('sgd momentum (the velocity keeps the old lr·g terms)', () =>
      compare({ ...BASE, kind: 'sgd', momentum: 0.7 }, { lrAt: { 2: 0.01, 4: 0.2 } }));
    it('adam', () => compare({ ...BASE, kind: 'adam' }, { lrAt: { 3: 0.005 } }));
    it('rmsprop and adagrad', () => {
      compare({ ...BASE, kind: 'rmsprop', momentum: 0.5 }, { lrAt: { 1: 0.1 } });
      compare({ ...BASE, kind: 'adagrad' }, { lrAt: { 1: 0.1 } });
    });
  });

  it('setOptimizer resets the state and the step counter', () => {
    const cfg = { ...BASE, kind: 'adam' as const };
    const a = setup(11); const b = setup(11);
    a.model.setOptimizer(cfg); b.model.setOptimizer(cfg);
    for (let s = 0; s < 3; s++) a.model.trainStep(a.x, a.y, a.batch);
    // b starts from a's parameters with a fresh optimizer; a is reset: both must now agree.
    b.model.setParams(a.model.getParams());
    a.model.setOptimizer(cfg);
    for (let s = 0; s < 3; s++) { a.model.trainStep(a.x, a.y, a.batch); b.model.trainStep(b.x, b.y, b.batch); }
    expect(Array.from(a.model.getParams())).toEqual(Array.from(b.model.getParams()));
  });
});

// Learning-rate schedules against Keras's closed forms (values worked out by hand in the comments),
// reduceLROnPlateau against Keras's epoch-by-epoch logic, and healthCallback / schedules inside a
// real fit() on the reference backend.
import { describe, expect, it } from 'vitest';
import { createReferenceBackend } from '../ts/reference/index.js';
import { blobs } from './helpers/blobs.js';
import { sequential } from '../ts/model/sequential.js';
import { layers } from '../ts/model/layers.js';
import { optimizers } from '../ts/model/optimizers.js';
import { terminateOnNaN, type CallbackModel } from '../ts/model/callbacks.js';
import { OptionError } from '../ts/errors.js';
import {
  cosineDecay, exponentialDecay, piecewiseConstantDecay, stepDecay, reduceLROnPlateau, healthCallback,
  type Diagnosis, type NamedLayerStats,
} from '../ts/health/index.js';

// Schedules are f64 formulas; 1e-12 relative covers the rounding of pow/cos.
const close = (a: number, b: number) => expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(b)));

describe('learning-rate schedules (Keras formulas)', () => {
  it('exponentialDecay: 0.1 · 0.5^(step/10), continuous and staircase', () => {
    const s = exponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5 });
    close(s.valueAt(0), 0.1); close(s.valueAt(10), 0.05); close(s.valueAt(5), 0.1 * Math.SQRT1_2); close(s.valueAt(30), 0.0125);
    const st = exponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5, staircase: true });
    close(st.valueAt(9), 0.1); close(st.valueAt(15), 0.05); close(st.valueAt(20), 0.025);
  });

  it('stepDecay: ×0.1 every 3 steps', () => {
    const s = stepDecay({ initialLearningRate: 1, stepSize: 3 });
    expect([0, 2, 3, 5, 6].map((k) => s.valueAt(k))).toEqual([1, 1, 0.1, 0.1, 0.1 * 0.1]);
  });

  it('piecewiseConstantDecay: boundaries are inclusive upper bounds', () => {
    const s = piecewiseConstantDecay({ boundaries: [100, 200], values: [1, 0.5, 0.1] });
    expect([0, 100, 101, 200, 201, 1e6].map((k) => s.valueAt(k))).toEqual([1, 1, 0.5, 0.5, 0.1, 0.1]);
  });

  it('cosineDecay without warm-up: 1 → 0.5 at half way → α floor, held after decaySteps', () => {
    const s = cosineDecay({ initialLearningRate: 1, decaySteps: 100 });
    close(s.valueAt(0), 1); close(s.valueAt(50), 0.5); close(s.valueAt(100), 0); close(s.valueAt(250), 0);
    close(s.valueAt(25), 0.5 * (1 + Math.SQRT1_2)); // cos(π/4) = √½
    const a = cosineDecay({ initialLearningRate: 2, decaySteps: 100, alpha: 0.1 });
    close(a.valueAt(50), 2 * (0.9 * 0.5 + 0.1)); close(a.valueAt(100), 0.2);
  });

  it('cosineDecay with linear warm-up 0 → 1 over 10 steps, then 100 steps of decay', () => {
    const s = cosineDecay({ initialLearningRate: 0, warmupTarget: 1, warmupSteps: 10, decaySteps: 100 });
    close(s.valueAt(0), 0); close(s.valueAt(5), 0.5); close(s.valueAt(10), 1); close(s.valueAt(60), 0.5);
    close(s.valueAt(35), 0.5 * (1 + Math.SQRT1_2)); close(s.valueAt(110), 0); close(s.valueAt(1000), 0);
  });

  it('rejects bad options with typed errors naming them', () => {
    expect(() => exponentialDecay({ initialLearningRate: 0.1, decaySteps: 0, decayRate: 0.5 })).toThrow(OptionError);
    expect(() => exponentialDecay({ initialLearningRate: 0.1, decaySteps: 0, decayRate: 0.5 })).toThrow(/decaySteps must be a finite number > 0, got 0/);
    expect(() => piecewiseConstantDecay({ boundaries: [10, 5], values: [1, 2, 3] })).toThrow(/increase strictly/);
    expect(() => piecewiseConstantDecay({ boundaries: [10], values: [1] })).toThrow(/one more entry/);
    expect(() => cosineDecay({ initialLearningRate: 1, decaySteps: 10, warmupTarget: 2 })).toThrow(/warmupSteps/);
    expect(() => cosineDecay({ initialLearningRate: 1, decaySteps: 10, warmup: 2 } as never)).toThrow(/unknown option 'warmup'/);
  });
});

/** A fake model for callback unit tests: just an optimizer with a learning rate. */
function fakeModel(lr: number): CallbackModel {
  return { stopTraining: false, optimizer: { learningRate: lr }, getWeights: () => [], setWeights: () => {} };
}

describe('reduceLROnPlateau (Keras semantics)', () => {
  it('patience 2, factor 0.5, cooldown 1: reductions at epochs 3 and 6', () => {
    const cb = reduceLROnPlateau({ patience: 2, factor: 0.5, cooldown: 1 });
    const m = fakeModel(1);
    cb.setModel!(m); cb.onTrainBegin!({});
    // val_loss: improves at 0 and 1, then flat. wait: e2 → 1, e3 → 2 ⇒ reduce (cooldown 1);
    // e4 in cooldown (counter → 0, wait 0); e5 wait 1; e6 wait 2 ⇒ reduce.
    const lrs: number[] = [];
    [1, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95].forEach((v, e) => {
      const logs: Record<string, number> = { val_loss: v };
      cb.onEpochEnd!(e, logs);
      lrs.push(m.optimizer!.learningRate);
      expect(logs.learning_rate).toBeDefined();
    });
    expect(lrs).toEqual([1, 1, 1, 0.5, 0.5, 0.5, 0.25]);
    expect(cb.reductions.map((r) => r.epoch)).toEqual([3, 6]);
  });

  it('minDelta counts small gains as no improvement; minLr is a floor; accuracy maximizes', () => {
    const cb = reduceLROnPlateau({ monitor: 'loss', patience: 1, factor: 0.1, minDelta: 0.05, minLr: 0.005 });
    const m = fakeModel(0.1);
    cb.setModel!(m); cb.onTrainBegin!({});
    [1, 0.99, 0.98, 0.97].forEach((v, e) => cb.onEpochEnd!(e, { loss: v }));
    expect(m.optimizer!.learningRate).toBe(0.005); // 0.1 → 0.01 → max(0.001, 0.005); then lr = minLr stops
    const acc = reduceLROnPlateau({ monitor: 'val_accuracy', patience: 1 });
    const m2 = fakeModel(1);
    acc.setModel!(m2); acc.onTrainBegin!({});
    acc.onEpochEnd!(0, { val_accuracy: 0.5 }); acc.onEpochEnd!(1, { val_accuracy: 0.6 });
    expect(m2.optimizer!.learningRate).toBe(1);
    acc.onEpochEnd!(2, { val_accuracy: 0.55 });
    expect(m2.optimizer!.learningRate).toBeCloseTo(0.1, 15);
  });

  it('typed errors: factor ≥ 1, a monitor missing from the logs', () => {
    expect(() => reduceLROnPlateau({ factor: 1 })).toThrow(/factor must be a finite number ≥ 0 < 1, got 1/);
    const cb = reduceLROnPlateau({ monitor: 'val_los' });
    cb.setModel!(fakeModel(1)); cb.onTrainBegin!({});
    expect(() => cb.onEpochEnd!(0, { loss: 1 })).toThrow(/monitor 'val_los' is not in the logs \(available: loss/);
  });
});

// ---- inside fit() on the reference backend ----

function smallModel(seed = 3) {
  return sequential({
    seed, backend: createReferenceBackend(),
    layers: [layers.dense({ inputShape: [5], units: 7, activation: 'relu' }), layers.dense({ units: 3, activation: 'softmax' })],
  });
}

describe('schedules and health callbacks inside fit (reference backend)', () => {
  it('a cosine schedule drives the optimizer step by step', async () => {
    const m = smallModel();
    const sched = cosineDecay({ initialLearningRate: 0.05, decaySteps: 20, warmupTarget: 0.1, warmupSteps: 4 });
    m.compile({ optimizer: optimizers.sgd({ learningRate: sched }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const { x, y } = blobs(61, 1); // 61 samples, batch 16 → 4 steps per epoch (last partial)
    const seen: number[] = [];
    await m.fit(x, y, { epochs: 2, batchSize: 16, callbacks: [{ onBatchEnd: () => { seen.push(m.optimizer!.learningRate); } }] });
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((k) => sched.valueAt(k)));
  });

  it('reduceLROnPlateau lowers the learning rate in a real fit and logs it', async () => {
    const m = smallModel();
    m.compile({ optimizer: optimizers.sgd({ learningRate: 0.1 }), loss: 'sparseCategoricalCrossentropy' });
    const { x, y } = blobs(60, 2);
    // minDelta 100: only the first epoch (vs +∞) counts as an improvement, so with patience 1
    // each later epoch divides the rate by 10.
    const cb = reduceLROnPlateau({ monitor: 'loss', patience: 1, minDelta: 100 });
    const h = await m.fit(x, y, { epochs: 3, batchSize: 20, callbacks: [cb] });
    expect(h.history.learning_rate).toEqual([0.1, 0.1, 0.1 * 0.1]);
    expect(m.optimizer!.learningRate).toBeCloseTo(0.001, 15);
  });

  it('healthCallback: named per-layer statistics every step, quiet on a healthy run', async () => {
    const m = smallModel();
    m.compile({ optimizer: optimizers.adam({ learningRate: 0.01 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const { x, y } = blobs(90, 3);
    const got: Array<{ step: number; layers: NamedLayerStats[] }> = [];
    const diags: Diagnosis[] = [];
    const cb = healthCallback({ onStats: (step, ls) => got.push({ step, layers: ls }), onDiagnosis: (d) => diags.push(d) });
    const h = await m.fit(x, y, { epochs: 4, batchSize: 10, callbacks: [cb] });
    expect(got.map((g) => g.step)).toEqual(Array.from({ length: 36 }, (_, i) => i));
    expect(got[0]!.layers.map((l) => [l.index, l.name])).toEqual([[0, 'dense'], [1, 'dense_1']]);
    expect(got[0]!.layers[0]!.gradWNorm).toBeGreaterThan(0);
    expect(cb.monitor.samples).toHaveLength(36);
    expect(diags).toEqual([]);
    expect(h.history.accuracy!.at(-1)!).toBeGreaterThan(0.9);
  });

  it('healthCallback reports non-finite values at the step they appear (absurd learning rate)', async () => {
    const m = smallModel();
    m.compile({ optimizer: optimizers.sgd({ learningRate: 1e6 }), loss: 'sparseCategoricalCrossentropy' });
    const { x, y } = blobs(60, 4, 50);
    const diags: Diagnosis[] = [];
    const cb = healthCallback({ onDiagnosis: (d) => diags.push(d) });
    await m.fit(x, y, { epochs: 3, batchSize: 10, callbacks: [cb, terminateOnNaN()] });
    const nf = diags.find((d) => d.kind === 'non_finite');
    expect(nf).toBeDefined();
    const firstBad = cb.monitor.samples.findIndex((s) => !Number.isFinite(s.stats.loss) || s.stats.layers.some((l) => l.nonFiniteWeight + l.nonFiniteGrad + l.nonFiniteAct > 0));
    expect(nf!.step).toBe(cb.monitor.samples[firstBad]!.step);
  });
});

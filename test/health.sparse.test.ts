// The monitor fed the way fit feeds it in the CLI's configuration: statistics every 16 steps,
// every other step's loss through observeLoss, one epoch of 3000 MNIST samples (94 steps of 32),
// then observeEpoch. Synthetic sequences shaped on measured runs (seed model, wasm backend,
// `gradguard train mnist --epochs 1 --limit 3000`), so these need no backend.
//
// Built to fail (the false negatives this file guards against: all of these were "no problems
// found" when the loss rules ran only on sampled steps and the unit rules needed 6 of 8 samples
// past a 50-step warm-up, which a 94-step run sampled every 16 steps never has):
//   SGD lr 5: batch loss 2.42, 24.8, 1.08e3, … 5.5e7 by step 6, back to ~2.4 once every ReLU of
//     both hidden layers is dead (dead fraction 0.98–1.0 at steps 16…80); epoch loss 9.26e5, acc 0.104
//   SGD lr 50: batch loss 8.6e3 at step 1, 4e20 later; all dead from step 16; acc 0.108
//   Adam lr 1: loss 4.4e4 at step 1; layer 1 dead fractions 0.97, 1, 0.65, 1, 1 (4 of 5 samples)
//   an overflow to Infinity between two samples; a gradient-norm blow-up on a sampled step
//   an epoch whose mean loss blew up though no observed step did; chance accuracy with a flat loss
//   llm.c's loss z-score: the loss shifts up and stays (every step, no statistics needed)
// Healthy (must stay quiet): measured seed-model shapes with Adam 1e-3 / SGD 0.01 / RMSprop /
//   Adam 0.01 (40 % dead units, the highest measured healthy value), 1 and 5 epochs of 94 steps;
//   dead-unit transients confined to the warm-up; a condition on 3 of the last 5 samples.
import { describe, expect, it } from 'vitest';
import type { LayerStats, ModelSpec, StepStats, ActivationName } from '../ts/backend/types.js';
import { Rng } from '../ts/reference/rng.js';
import { HealthMonitor, DEFAULT_THRESHOLDS, formatDiagnosis, type Diagnosis } from '../ts/health/index.js';

function dense(inputSize: number, units: number, activation: ActivationName): ModelSpec['layers'][number] {
  return { kind: 'dense', inputSize, units, activation, activationParam: 0, useBias: true };
}
const SEED_SPEC: ModelSpec = {
  layers: [dense(784, 128, 'relu'), dense(128, 128, 'relu'), dense(128, 10, 'softmax')],
  loss: 'sparse_categorical_crossentropy', fromLogits: false,
};
function layer(over: Partial<LayerStats> = {}): LayerStats {
  return {
    gradWNorm: 1, gradWMaxAbs: 0.1, gradBNorm: 0.1, gradBMaxAbs: 0.05, wNorm: 15, updateRatio: 5e-3,
    deadFraction: 0.05, saturatedFraction: 0, actMean: 0.3, actStd: 0.8, nonFiniteAct: 0, nonFiniteGrad: 0,
    nonFiniteWeight: 0, bNorm: 0.1, preactMeanAbs: 0.8, ...over,
  };
}
function stats(layers: LayerStats[], loss: number, globalGradNorm?: number): StepStats {
  const g = globalGradNorm ?? Math.sqrt(layers.reduce((a, l) => a + l.gradWNorm ** 2 + l.gradBNorm ** 2, 0));
  return { layers, globalGradNorm: g, loss, nonFiniteLoss: !Number.isFinite(loss), clipped: false, updateNorm: 0.1, paramNorm: 20 };
}

const STEPS = 94; // ceil(3000 / 32)
const EVERY = 16; // the CLI's --health-every default

interface Shape {
  /** Batch loss of step s (0-based over the whole run). */
  loss: (s: number) => number;
  /** Statistics of sampled step s (its loss is filled in from `loss`). */
  layers: (s: number) => LayerStats[];
  globalGradNorm?: (s: number) => number | undefined;
  /** Epoch accuracy logged at the end of each epoch. */
  acc: number | ((epoch: number) => number);
}

/** Feeds `epochs` epochs of STEPS steps as fit does: observeStep on sampled steps, observeLoss on
 * the others, observeEpoch (mean batch loss, accuracy) at each epoch's end. */
function fitLike(m: HealthMonitor, shape: Shape, epochs = 1, every = EVERY): Diagnosis[] {
  const out: Diagnosis[] = [];
  for (let e = 0; e < epochs; e++) {
    let sum = 0;
    for (let b = 0; b < STEPS; b++) {
      const s = e * STEPS + b;
      const loss = shape.loss(s);
      sum += loss;
      if (s % every === 0) out.push(...m.observeStep(s, stats(shape.layers(s), loss, shape.globalGradNorm?.(s)), e));
      else out.push(...m.observeLoss(s, loss, e));
    }
    out.push(...m.observeEpoch(e, { loss: sum / STEPS, accuracy: typeof shape.acc === 'number' ? shape.acc : shape.acc(e) }));
  }
  return out;
}

const summary = (ds: Diagnosis[]) => ds.map((d) => [d.kind, d.layers, d.step]);

/** Measured SGD lr 5 run: the loss explodes for ~10 steps, then every hidden ReLU is dead. */
function deadAfterBlowup(peak: number, firstJump: number, layer1Dead: (s: number) => number = () => 1): Shape {
  return {
    loss: (s) => (s === 0 ? 2.42 : s < 10 ? Math.min(peak, firstJump * 40 ** (s - 1)) : 2.3 + 0.1 * Math.sin(s)),
    layers: (s) => (s === 0
      ? [layer({ deadFraction: 0.02, updateRatio: 0.5 }), layer({ deadFraction: 0.05, updateRatio: 0.37 }), layer({ deadFraction: 0, updateRatio: 0.68 })]
      : [layer({ deadFraction: 0.98 + 0.02 * (s % 32 === 0 ? 1 : 0), gradWNorm: 0, updateRatio: 0, actMean: 3e-5 }),
        layer({ deadFraction: layer1Dead(s), gradWNorm: 0, updateRatio: 0, actMean: 0 }),
        layer({ deadFraction: 0, gradWNorm: 0, updateRatio: 0, saturatedFraction: 0 })]),
    globalGradNorm: (s) => (s === 0 ? 1.84 : 0.2 + 0.01 * s),
    acc: 0.104,
  };
}

describe('CLI configuration (every 16 steps, 1 epoch of 3000 samples): broken runs are diagnosed', () => {
  it('SGD lr 5: the loss blow-up on an unsampled step, both hidden layers dead, chance accuracy', () => {
    const m = new HealthMonitor({ spec: SEED_SPEC, learningRate: 5, optimizer: 'sgd' });
    const fired = fitLike(m, deadAfterBlowup(5.5e7, 24.8));
    expect(m.samples.map((s) => s.step)).toEqual([0, 16, 32, 48, 64, 80]);
    expect(summary(fired)).toEqual([
      ['loss_diverging', [], 2], // 24.8·40 = 992 > 100 × 2.42: found on a step without statistics
      ['dying_relu', [0], 16], ['dying_relu', [1], 16], // 5 of 5 samples, confirmed at the epoch's end
      ['loss_plateau', [], STEPS - 1], // accuracy 0.104 < 1.5 × 1/10 with the loss not falling
    ]);
    expect(fired[1]!.evidence).toMatchObject({ samples: '5 of 5 (short run or sparse statistics)', confirmedAtStep: 80 });
    // the plateau after a blow-up points at the learning rate going down, not up
    expect(fired[3]!.remedies[0]).toMatchObject({ setting: 'optimizer.learningRate', value: 0.5 });
    expect(fired[3]!.explanation).toContain('blew up');
  });

  it('SGD lr 50: diverging from step 1, the same dead layers', () => {
    const m = new HealthMonitor({ spec: SEED_SPEC, learningRate: 50, optimizer: 'sgd' });
    const fired = fitLike(m, deadAfterBlowup(6.7e21, 8.6e3));
    expect(summary(fired)).toEqual([['loss_diverging', [], 1], ['dying_relu', [0], 16], ['dying_relu', [1], 16], ['loss_plateau', [], STEPS - 1]]);
    expect(fired[0]!.severity).toBe('critical');
  });

  it('Adam lr 1: layer 1 dead on 4 of 5 samples still counts (persistFraction of the short window)', () => {
    const dead1 = new Map([[16, 0.97], [32, 1], [48, 0.65], [64, 1], [80, 1]]);
    const m = new HealthMonitor({ spec: SEED_SPEC, learningRate: 1, optimizer: 'adam' });
    const fired = fitLike(m, deadAfterBlowup(4.4e4, 4.4e4, (s) => dead1.get(s) ?? 1));
    expect(summary(fired)).toEqual([['loss_diverging', [], 1], ['dying_relu', [0], 16], ['dying_relu', [1], 16], ['loss_plateau', [], STEPS - 1]]);
    expect(fired[2]!.evidence.samples).toBe('4 of 5 (short run or sparse statistics)');
  });

  it('an overflow to Infinity between two samples; a gradient-norm blow-up on a sampled step', () => {
    const m = new HealthMonitor({ spec: SEED_SPEC });
    const inf = fitLike(m, { ...deadAfterBlowup(Infinity, 1e3), loss: (s) => (s === 0 ? 2.42 : s === 1 ? 300 : s < 10 ? Infinity : 2.3) });
    expect(summary(inf).slice(0, 2)).toEqual([['loss_diverging', [], 1], ['non_finite', [], 2]]);
    const m2 = new HealthMonitor({ spec: SEED_SPEC });
    const healthy = measuredHealthy('adam', 1);
    const g = fitLike(m2, { ...healthy, globalGradNorm: (s) => (s < 32 ? 1.84 : 4e3) });
    expect(summary(g)).toEqual([['exploding_gradients', [], 32]]);
  });

  it('the epoch: a mean loss 1e6 × the first with no blow-up seen; chance accuracy with a flat loss', () => {
    // Only sampled steps fed (a caller without observeLoss): the epoch mean is the evidence.
    const m = new HealthMonitor({ spec: SEED_SPEC });
    for (let s = 0; s < STEPS; s += EVERY) m.observeStep(s, stats([layer(), layer(), layer()], 2.4 - s / 200), 0);
    expect(summary(m.observeEpoch(0, { loss: 2.4e6, accuracy: 0.8 }))).toEqual([['loss_diverging', [], 80]]);
    // After a step's blow-up and a repair (rearm), the epoch mean that still carries the blown-up
    // steps is not a second divergence.
    const mr = new HealthMonitor({ spec: SEED_SPEC });
    mr.observeLoss(0, 2.4);
    expect(summary(mr.observeLoss(1, 5e5))).toEqual([['loss_diverging', [], 1]]);
    mr.rearm('loss_diverging');
    for (let s = 2; s < STEPS; s++) mr.observeLoss(s, 0.5);
    expect(mr.observeEpoch(0, { loss: 5e5 / STEPS + 0.5, accuracy: 0.7 })).toEqual([]); // 5.3e3 > 100 × 2.4
    // Loss flat at ln 10, accuracy 0.11: learnt nothing (no blow-up, so "raise the rate" first).
    const m2 = new HealthMonitor({ spec: SEED_SPEC, learningRate: 1e-6 });
    const flat = fitLike(m2, { loss: (s) => 2.35 - 0.0001 * s, layers: () => [layer(), layer(), layer()], acc: 0.11 });
    expect(summary(flat)).toEqual([['loss_plateau', [], STEPS - 1]]);
    expect(flat[0]!.remedies[0]!.setting).toBe('optimizer.learningRate');
    expect(flat[0]!.remedies[0]!.value).toBeCloseTo(1e-5, 15); // ×10 of 1e-6 in f64
    // ...but not after fewer than warmupSteps steps (a tiny dataset's first epoch)
    const m3 = new HealthMonitor({ spec: SEED_SPEC });
    for (let s = 0; s < DEFAULT_THRESHOLDS.warmupSteps - 1; s++) m3.observeLoss(s, 2.3);
    expect(m3.observeEpoch(0, { loss: 2.3, accuracy: 0.11 })).toEqual([]);
    m3.observeLoss(DEFAULT_THRESHOLDS.warmupSteps - 1, 2.3);
    expect(summary(m3.observeEpoch(1, { loss: 2.3, accuracy: 0.11 }))).toEqual([['loss_plateau', [], DEFAULT_THRESHOLDS.warmupSteps - 1]]);
    // ...nor for a binary classifier (one sigmoid unit: "chance" depends on the class balance)
    const bin = new HealthMonitor({ spec: { layers: [dense(8, 16, 'relu'), dense(16, 1, 'sigmoid')], loss: 'binary_crossentropy', fromLogits: false } });
    expect(bin.observeEpoch(0, { loss: 0.69, accuracy: 0.5 })).toEqual([]);
  });

  it("llm.c's loss z-score: a level shift of the per-step loss (no statistics needed)", () => {
    const m = new HealthMonitor();
    const r = new Rng(4);
    const out: Diagnosis[] = [];
    // loss falls from 2.6 to 0.3 (± 1 %), then 0.45 from step 400: far below 2 × the best smoothed
    // loss (the EMA rule), but 50 standard deviations above the window.
    for (let s = 0; s < 500; s++) out.push(...m.observeLoss(s, (s < 400 ? 0.3 + 2.3 * Math.exp(-s / 30) : 0.45) * (1 + 0.01 * r.normal())));
    expect(summary(out)).toEqual([['loss_diverging', [], 400]]);
    expect(Number(out[0]!.evidence.lossZScore)).toBeGreaterThan(DEFAULT_THRESHOLDS.zThreshold);
    expect(out[0]!.evidence.confirmedAtStep).toBe(400 + DEFAULT_THRESHOLDS.zOutliersToFire - 1);
  });
});

/**
 * Healthy seed-model runs as measured (wasm, 3000 samples, every 16): loss falls from 2.42 with
 * heavy-tailed batch noise, dead fractions and update ratios at the measured levels. `adam001`
 * is Adam at 0.01, the worst healthy case measured: 38–42 % of layer 0's units dead.
 */
function measuredHealthy(kind: 'adam' | 'sgd' | 'rmsprop' | 'adam001', seed: number): Shape {
  const r = new Rng(seed);
  const rate = { adam: 60, sgd: 900, rmsprop: 50, adam001: 30 }[kind];
  const floor = { adam: 0.15, sgd: 0.3, rmsprop: 0.15, adam001: 0.2 }[kind];
  const dead0 = { adam: 0.08, sgd: 0.02, rmsprop: 0.05, adam001: 0.4 }[kind];
  const ur = { adam: 5e-3, sgd: 8e-4, rmsprop: 1.5e-2, adam001: 1.6e-2 }[kind];
  return {
    loss: (s) => (s === 0 ? 2.42 : (floor + 2.3 * Math.exp(-s / rate)) * Math.exp(0.35 * r.normal())),
    layers: (s) => [
      layer({ deadFraction: dead0 * (1 + 0.1 * r.normal()), updateRatio: ur * Math.exp(0.2 * r.normal()), gradWNorm: 1.2 }),
      layer({ deadFraction: 0.1 + 0.02 * r.normal(), updateRatio: ur * Math.exp(0.2 * r.normal()), gradWNorm: 1 }),
      layer({ deadFraction: 0, updateRatio: ur * Math.exp(0.2 * r.normal()), gradWNorm: 0.8, saturatedFraction: Math.min(0.9, s / 500) }),
    ],
    acc: (e) => ({ adam: 0.76, sgd: 0.37, rmsprop: 0.79, adam001: 0.8 }[kind] + 0.03 * e),
  };
}

describe('CLI configuration: healthy runs stay quiet', () => {
  it('1 and 5 epochs of 94 steps, every 16 steps, four optimizers, three seeds', () => {
    for (const kind of ['adam', 'sgd', 'rmsprop', 'adam001'] as const) {
      for (const seed of [1, 2, 3]) {
        for (const epochs of [1, 5]) {
          const m = new HealthMonitor({ spec: SEED_SPEC });
          const fired = fitLike(m, measuredHealthy(kind, seed), epochs);
          expect([kind, seed, epochs, fired.map(formatDiagnosis)]).toEqual([kind, seed, epochs, []]);
        }
      }
    }
  });

  it('dead units only during the warm-up, or on 3 of the last 5 samples, or not on the latest: quiet', () => {
    const cases: Array<[string, (s: number) => number]> = [
      ['warm-up only (after the first sample)', (s) => (s > 0 && s < DEFAULT_THRESHOLDS.warmupSteps ? 0.95 : 0.1)],
      ['3 of 5 (needs 4)', (s) => (s >= 48 ? 0.95 : 0.1)],
      ['latest negative', (s) => (s === 0 || s === 80 ? 0.1 : 0.95)],
    ];
    for (const [name, dead] of cases) {
      const base = measuredHealthy('adam', 5);
      const m = new HealthMonitor({ spec: SEED_SPEC });
      const fired = fitLike(m, { ...base, layers: (s) => { const ls = base.layers(s); ls[1]!.deadFraction = dead(s); return ls; } });
      expect([name, fired.map(formatDiagnosis)]).toEqual([name, []]);
    }
  });

  it('a full post-warm-up window is judged the regular way (6 of 8), never by the short one', () => {
    // Statistics every step: 44 samples past the warm-up in one epoch. Dead on the last 4 only:
    // the short rule would say 4 of 5, the regular one needs 6 of 8, so nothing fires.
    const base = measuredHealthy('adam', 6);
    const m = new HealthMonitor({ spec: SEED_SPEC });
    const fired = fitLike(m, { ...base, layers: (s) => { const ls = base.layers(s); ls[1]!.deadFraction = s >= STEPS - 4 ? 0.95 : 0.1; return ls; } }, 1, 1);
    expect(fired.map(formatDiagnosis)).toEqual([]);
  });
});

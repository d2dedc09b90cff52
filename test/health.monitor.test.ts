// The health monitor on synthetic statistics sequences (no backend): each diagnosis must fire on a
// sequence built to have that problem, at the step the problem started, and stay silent on the
// healthy sequences.
//
// Built to fail (each fires its diagnosis):
//   vanishing: deep sigmoid stack, ‖dW_0‖ = 1e-6 vs ‖dW_last‖ = 1e-2, loss stuck at ln 10
//   exploding (ratio): ‖dW_0‖/‖dW_last‖ = 150 from step 200
//   exploding (z-score): global gradient norm jumps ×100 at step 400 and stays
//   non-finite: NaN loss at step 123 (fires on that very sample); NaN weights
//   dying ReLU: 85 % of layer 1's units dead from step 100
//   saturated units: 90 % of a sigmoid layer's pre-activations beyond |z| ≥ 5
//   learning rate too high: ‖ΔW‖/‖W‖ = 0.5 in every layer;  too low: 1e-7 in every layer
//   loss diverging: loss falls to 0.3, then climbs to 3 from step 600
//   loss plateau: loss stays at ln 10 ± noise (steps); accuracy 0.30 → 0.312 over 4 epochs
//   loss oscillating: accuracy 0.80, 0.90, 0.78, 0.91, 0.79, 0.90
//   unnormalized inputs: pixels in [0, 255]; NaN in the inputs
//   poor initialization: N(0, 1) weights on a 784→128 layer; zero weights; exploding forward signal
//   loss/activation mismatch: softmax+BCE (1 unit and 10 units), linear+sparse CE without
//     fromLogits, sigmoid+sparse CE, softmax+fromLogits, CE over one unit, hidden softmax
// Healthy (must stay silent):
//   the seed MNIST model (relu, relu, softmax; Adam): 5 epochs × 1875 steps sampled every step,
//     with noise, a softmax output that grows confident, single gradient spikes, early dead-unit
//     transients; its epoch logs; its compile spec and [0, 1] inputs
//   the same sampled every 16 steps
//   a tanh MLP with mild saturation (10 %); an SGD run with a small but healthy update ratio (1e-4)
//   a regression model (linear + MSE) and other sound loss/activation pairs
import { describe, expect, it } from 'vitest';
import type { LayerStats, ModelSpec, StepStats, ActivationName, LossName } from '../ts/backend/types.js';
import { Rng } from '../ts/reference/rng.js';
import {
  HealthMonitor, OutlierDetector, checkLossActivation, checkInputs, DEFAULT_THRESHOLDS,
  resolveThresholds, formatDiagnosis, DIAGNOSIS_KINDS, type Diagnosis,
} from '../ts/health/index.js';

// ---- builders ---------------------------------------------------------------------------------

function layer(over: Partial<LayerStats> = {}): LayerStats {
  return {
    gradWNorm: 1, gradWMaxAbs: 0.1, gradBNorm: 0.1, gradBMaxAbs: 0.05, wNorm: 10, updateRatio: 1e-2,
    deadFraction: 0, saturatedFraction: 0, actMean: 0.3, actStd: 0.5, nonFiniteAct: 0, nonFiniteGrad: 0,
    nonFiniteWeight: 0, bNorm: 0.1, preactMeanAbs: 0.8, ...over,
  };
}
function stats(layers: LayerStats[], over: Partial<StepStats> = {}): StepStats {
  const g = Math.sqrt(layers.reduce((a, l) => a + l.gradWNorm ** 2 + l.gradBNorm ** 2, 0));
  return { layers, globalGradNorm: g, loss: 1, nonFiniteLoss: false, clipped: false, updateNorm: 0.1, paramNorm: 20, ...over };
}
function dense(inputSize: number, units: number, activation: ActivationName): ModelSpec['layers'][number] {
  return { kind: 'dense', inputSize, units, activation, activationParam: 0, useBias: true };
}
const SEED_SPEC: ModelSpec = {
  layers: [dense(784, 128, 'relu'), dense(128, 128, 'relu'), dense(128, 10, 'softmax')],
  loss: 'sparse_categorical_crossentropy', fromLogits: false,
};
const wNormFor = (inp: number, out: number, std: number) => std * Math.sqrt(inp * out);

/**
 * A healthy seed-model run: loss 2.3 → ~0.05 with multiplicative noise (heavy tail: ×e^{N(0,0.6)}),
 * gradient norms falling with noise, a softmax output that grows confident, a single gradient
 * spike ×20 every 700 steps, 30 % dead units in the first 20 steps only, Adam-like update ratios
 * near 1e-2 falling to 2e-3.
 */
function healthyRun(steps: number, seed = 1, every = 1): Array<[number, StepStats]> {
  const r = new Rng(seed);
  const out: Array<[number, StepStats]> = [];
  for (let s = 0; s < steps; s += every) {
    const n = () => Math.exp(0.6 * r.normal());
    const progress = 1 - Math.exp(-s / 300);
    const loss = (2.3 * Math.exp(-s / 150) + 0.06 + 0.04 * (1 - progress)) * n();
    const spike = s > 0 && s % 700 === 0 ? 20 : 1;
    const g = (0.3 + 2 * Math.exp(-s / 400)) * spike;
    const ur = 2e-3 + 8e-3 * Math.exp(-s / 2000);
    const early = s < 20 ? 0.3 : 0.02 * r.uniform();
    const ls = [
      layer({ gradWNorm: g * 1.2 * n(), wNorm: wNormFor(784, 128, 0.047) * (1 + 0.3 * progress), updateRatio: ur * n(), deadFraction: early, actStd: 0.8 }),
      layer({ gradWNorm: g * 0.9 * n(), wNorm: wNormFor(128, 128, 0.088) * (1 + 0.3 * progress), updateRatio: ur * n(), deadFraction: early * 0.5, actStd: 0.9 }),
      layer({ gradWNorm: g * 0.7 * n(), wNorm: wNormFor(128, 10, 0.12) * (1 + progress), updateRatio: ur * n(), saturatedFraction: 0.9 * progress, actStd: 0.3 }),
    ];
    out.push([s, stats(ls, { loss })]);
  }
  return out;
}

function feed(m: HealthMonitor, run: Array<[number, StepStats]>, stepsPerEpoch = 1875): Diagnosis[] {
  const all: Diagnosis[] = [];
  for (const [s, st] of run) all.push(...m.observeStep(s, st, Math.floor(s / stepsPerEpoch)));
  return all;
}

/** A generic run where `mutate(step, layers, global)` injects a problem into otherwise sane stats. */
function run(steps: number, L: number, mutate: (s: number, ls: LayerStats[], g: Partial<StepStats>) => void, seed = 7, start = 0): Array<[number, StepStats]> {
  const r = new Rng(seed);
  const out: Array<[number, StepStats]> = [];
  for (let s = start; s < start + steps; s++) {
    const ls = Array.from({ length: L }, () => layer({ gradWNorm: 0.5 * Math.exp(0.3 * r.normal()), updateRatio: 5e-3 * Math.exp(0.3 * r.normal()) }));
    const g: Partial<StepStats> = { loss: (2.3 * Math.exp(-s / 100) + 0.1) * Math.exp(0.3 * r.normal()) };
    mutate(s, ls, g);
    out.push([s, stats(ls, g)]);
  }
  return out;
}

const kinds = (ds: Diagnosis[]) => ds.map((d) => d.kind);

// ---- healthy runs stay quiet --------------------------------------------------------------------

describe('healthy runs stay quiet', () => {
  it('seed MNIST model, 5 epochs sampled every step (9375 samples)', () => {
    const m = new HealthMonitor({ spec: SEED_SPEC, learningRate: 1e-3, optimizer: 'adam' });
    const fired = [...m.checkCompile(), ...feed(m, healthyRun(5 * 1875))];
    const accs = [0.92, 0.96, 0.97, 0.975, 0.978];
    accs.forEach((acc, e) => fired.push(...m.observeEpoch(e, { loss: 0.3 / (e + 1), acc, val_loss: 0.12, val_acc: acc - 0.005 })));
    expect(m.samples.length).toBe(9375);
    expect(fired.map(formatDiagnosis)).toEqual([]);
  });

  it('seed MNIST model sampled every 16 steps, three seeds', () => {
    for (const seed of [2, 3, 4]) {
      const m = new HealthMonitor({ spec: SEED_SPEC });
      const fired = feed(m, healthyRun(5 * 1875, seed, 16));
      expect(m.samples.length).toBe(Math.ceil(9375 / 16));
      expect(fired.map(formatDiagnosis)).toEqual([]);
    }
  });

  it('without a spec (last layer never judged for saturation)', () => {
    const m = new HealthMonitor();
    expect(feed(m, healthyRun(3000, 5)).map(formatDiagnosis)).toEqual([]);
  });

  it('tanh MLP with 10 % saturation; SGD with update ratio 1e-4 and a slowly falling loss', () => {
    const spec: ModelSpec = { layers: [dense(20, 64, 'tanh'), dense(64, 64, 'tanh'), dense(64, 3, 'softmax')], loss: 'categorical_crossentropy', fromLogits: false };
    const m1 = new HealthMonitor({ spec });
    expect(feed(m1, run(2000, 3, (_s, ls) => { ls[0]!.saturatedFraction = 0.1; ls[1]!.saturatedFraction = 0.12; ls.forEach((l, i) => { l.wNorm = wNormFor(spec.layers[i]!.inputSize, spec.layers[i]!.units, Math.sqrt(2 / (spec.layers[i]!.inputSize + spec.layers[i]!.units))); }); })).map(formatDiagnosis)).toEqual([]);
    const m2 = new HealthMonitor({ optimizer: 'sgd', learningRate: 1e-3 });
    expect(feed(m2, run(2000, 3, (s, ls, g) => { ls.forEach((l) => { l.updateRatio = 1e-4; }); g.loss = 2.3 * Math.exp(-s / 800) + 0.2; })).map(formatDiagnosis)).toEqual([]);
  });

  it('sound loss/activation pairs and normalized inputs', () => {
    const pairs: Array<[ActivationName, LossName, boolean, number]> = [
      ['softmax', 'sparse_categorical_crossentropy', false, 10], ['softmax', 'categorical_crossentropy', false, 3],
      ['linear', 'sparse_categorical_crossentropy', true, 10], ['sigmoid', 'binary_crossentropy', false, 1],
      ['sigmoid', 'binary_crossentropy', false, 5], ['linear', 'binary_crossentropy', true, 1],
      ['linear', 'mean_squared_error', false, 1], ['sigmoid', 'mean_squared_error', false, 4],
    ];
    for (const [act, loss, fromLogits, units] of pairs) {
      expect(checkLossActivation({ layers: [dense(8, 16, 'relu'), dense(16, units, act)], loss, fromLogits })).toEqual([]);
    }
    const r = new Rng(3);
    const x = Float32Array.from({ length: 784 * 50 }, () => (r.uniform() < 0.8 ? 0 : r.uniform()));
    expect(checkInputs(x)).toEqual([]);
    const std = Float32Array.from({ length: 1000 }, () => r.normal());
    expect(checkInputs(std)).toEqual([]);
  });

  it('transients are ignored: warm-up dead units, a 3-sample dead burst, one NaN-free gradient spike', () => {
    const m = new HealthMonitor({ spec: SEED_SPEC });
    const fired = feed(m, run(1000, 3, (s, ls, g) => {
      if (s >= 1 && s < 40) ls[0]!.deadFraction = 0.95; // after the first-step check, inside warmupSteps = 50
      if (s >= 300 && s < 303) ls[1]!.deadFraction = 0.9; // 3 of 8 < 75 %
      if (s === 500) { ls.forEach((l) => { l.gradWNorm *= 50; }); g.globalGradNorm = 50; } // a 1000× jump would be a blow-up (explodingGrowth)
    }));
    expect(fired.map(formatDiagnosis)).toEqual([]);
  });
});

// ---- runs built to fail fire their diagnosis ----------------------------------------------------

describe('each diagnosis fires on a run built to have it', () => {
  it('vanishing gradients: deep sigmoid stack', () => {
    const spec: ModelSpec = { layers: [dense(784, 64, 'sigmoid'), ...Array.from({ length: 4 }, () => dense(64, 64, 'sigmoid')), dense(64, 10, 'softmax')], loss: 'sparse_categorical_crossentropy', fromLogits: false };
    const m = new HealthMonitor({ spec });
    const fired = feed(m, run(400, 6, (_s, ls, g) => {
      ls.forEach((l, i) => { l.gradWNorm = 1e-2 * 10 ** -(5 - i) * 0.8; }); // 1e-2 at the top, 1e-7 at the bottom
      ls[5]!.gradWNorm = 1e-2;
      g.loss = Math.log(10);
    }));
    const v = fired.find((d) => d.kind === 'vanishing_gradients');
    expect(v).toBeDefined();
    expect(v!.step).toBe(DEFAULT_THRESHOLDS.warmupSteps);
    expect(v!.evidence.ratio).toBeLessThan(1e-3);
    expect(v!.remedies[0]!.kind).toBe('activation');
    expect(v!.explanation).toContain('sigmoid');
    expect(kinds(fired)).toContain('loss_plateau');
    expect(kinds(fired)).not.toContain('exploding_gradients');
  });

  it('exploding gradients by the first/last ratio, from step 200', () => {
    const m = new HealthMonitor({ spec: SEED_SPEC });
    // The global norm is held fixed so that only the ratio rule (not the z-score one) can see it.
    const fired = feed(m, run(400, 3, (s, ls, g) => { g.globalGradNorm = 1; if (s >= 200) { ls[0]!.gradWNorm = 150; ls[2]!.gradWNorm = 1; } }));
    const e = fired.filter((d) => d.kind === 'exploding_gradients');
    expect(e).toHaveLength(1);
    expect(e[0]!.step).toBe(200);
    expect(e[0]!.evidence.ratio).toBeCloseTo(150, 6);
    expect(e[0]!.remedies[0]!).toMatchObject({ kind: 'clip_gradients', setting: 'optimizer.globalClipnorm' });
  });

  it('exploding gradients by the llm.c z-score of the global gradient norm', () => {
    const m = new HealthMonitor();
    const fired = feed(m, run(600, 3, (s, ls, g) => { if (s >= 400) { g.globalGradNorm = 100 * (1 + 0.01 * (s - 400)); } }));
    const e = fired.filter((d) => d.kind === 'exploding_gradients');
    expect(e).toHaveLength(1);
    expect(e[0]!.severity).toBe('critical');
    expect(e[0]!.step).toBeGreaterThanOrEqual(400);
    expect(e[0]!.step).toBeLessThan(400 + DEFAULT_THRESHOLDS.persistWindow);
    expect(Number(e[0]!.evidence.zScore)).toBeGreaterThan(DEFAULT_THRESHOLDS.zThreshold);
  });

  it('non-finite: fires on the very sample, even during warm-up', () => {
    const m = new HealthMonitor();
    const fired = feed(m, run(200, 3, (s, _ls, g) => { if (s === 123) { g.loss = NaN; g.nonFiniteLoss = true; } }));
    expect(fired).toHaveLength(1);
    expect(fired[0]!).toMatchObject({ kind: 'non_finite', severity: 'critical', step: 123 });
    const m2 = new HealthMonitor();
    const f2 = feed(m2, run(20, 3, (s, ls) => { if (s === 5) ls[1]!.nonFiniteWeight = 3; }));
    expect(f2.map((d) => [d.kind, d.step, d.layers])).toEqual([['non_finite', 5, [1]]]);
    expect(m2.observeEpoch(0, { loss: NaN }).map((d) => d.kind)).toEqual([]); // already reported once
  });

  it('dying ReLU in layer 1 from step 100', () => {
    const m = new HealthMonitor({ spec: SEED_SPEC, layerNames: ['hidden1', 'hidden2', 'out'] });
    const fired = feed(m, run(300, 3, (s, ls) => { if (s >= 100) ls[1]!.deadFraction = 0.85; }));
    expect(fired.map((d) => [d.kind, d.layers, d.layerNames, d.step])).toEqual([['dying_relu', [1], ['hidden2'], 100]]);
    expect(fired[0]!.remedies[0]!.value).toBe('leaky_relu');
  });

  it('saturated units in a sigmoid layer (and never on the softmax output)', () => {
    const spec: ModelSpec = { layers: [dense(10, 32, 'sigmoid'), dense(32, 3, 'softmax')], loss: 'categorical_crossentropy', fromLogits: false };
    const m = new HealthMonitor({ spec });
    const fired = feed(m, run(200, 2, (s, ls) => {
      ls[0]!.wNorm = wNormFor(10, 32, Math.sqrt(2 / 42)); ls[1]!.wNorm = wNormFor(32, 3, Math.sqrt(2 / 35));
      ls[1]!.saturatedFraction = 1; if (s >= 60) ls[0]!.saturatedFraction = 0.9;
    }));
    expect(fired.map((d) => [d.kind, d.layers, d.step])).toEqual([['saturated_units', [0], 60]]);
  });

  it('learning rate too high / too low by the update-to-weight ratio', () => {
    const hi = new HealthMonitor({ learningRate: 1 });
    const fh = feed(hi, run(100, 3, (_s, ls) => { ls.forEach((l) => { l.updateRatio = 0.5; }); }));
    expect(kinds(fh)).toContain('learning_rate_too_high');
    const d = fh.find((x) => x.kind === 'learning_rate_too_high')!;
    expect(d.remedies[0]).toMatchObject({ setting: 'optimizer.learningRate', value: 0.1 });
    const lo = new HealthMonitor({ learningRate: 1e-6 });
    const fl = feed(lo, run(100, 3, (_s, ls) => { ls.forEach((l) => { l.updateRatio = 1e-7; }); }));
    expect(kinds(fl)).toContain('learning_rate_too_low');
    expect(fl.find((x) => x.kind === 'learning_rate_too_low')!.remedies[0]!.value).toBeCloseTo(1e-5, 12);
  });

  it('loss diverging after a good start', () => {
    const m = new HealthMonitor();
    const fired = feed(m, run(900, 3, (s, _ls, g) => { g.loss = s < 600 ? 2.3 * Math.exp(-s / 100) + 0.3 : 0.3 + 0.01 * (s - 600); }));
    const d = fired.find((x) => x.kind === 'loss_diverging');
    expect(d).toBeDefined();
    expect(d!.step).toBeGreaterThan(600);
    expect(d!.step).toBeLessThan(750);
  });

  it('loss plateau: the loss never leaves its first value; accuracy stuck over epochs', () => {
    const m = new HealthMonitor();
    const fired = feed(m, run(500, 3, (_s, _ls, g) => { g.loss = Math.log(10) * (1 + 0.01 * Math.sin(_s)); }));
    const p = fired.find((x) => x.kind === 'loss_plateau');
    expect(p?.step).toBe(DEFAULT_THRESHOLDS.plateauMinSteps);
    const m2 = new HealthMonitor();
    const f2 = [0.3, 0.305, 0.31, 0.312].flatMap((acc, e) => m2.observeEpoch(e, { loss: 2, acc }));
    expect(f2.map((d) => [d.kind, d.epoch])).toEqual([['loss_plateau', 3]]);
  });

  it('loss oscillating: accuracy swings (AUTOTRAINER ol_judge)', () => {
    const m = new HealthMonitor();
    const f = [0.8, 0.9, 0.78, 0.91, 0.79, 0.9].flatMap((acc, e) => m.observeEpoch(e, { loss: 1 - acc, acc }));
    expect(kinds(f)).toEqual(['loss_oscillating']);
  });

  it('unnormalized inputs: raw pixels; NaN in the inputs', () => {
    const r = new Rng(9);
    const x = Float32Array.from({ length: 784 * 20 }, () => Math.floor(r.uniform() * 256));
    const d = checkInputs(x);
    expect(kinds(d)).toEqual(['unnormalized_inputs']);
    expect(d[0]!.explanation).toContain('255');
    const bad = new Float32Array(100); bad[17] = NaN;
    expect(checkInputs(bad).map((q) => [q.kind, q.evidence.nonFinite])).toEqual([['non_finite', 1]]);
    // through the monitor (fires the callback too)
    const got: Diagnosis[] = [];
    new HealthMonitor({ onDiagnosis: (q) => got.push(q) }).checkInputs(x);
    expect(kinds(got)).toEqual(['unnormalized_inputs']);
  });

  it('poor initialization: N(0,1) weights, zero weights, exploding forward signal', () => {
    const m = new HealthMonitor({ spec: SEED_SPEC });
    const first = stats([
      layer({ wNorm: wNormFor(784, 128, 1.0), actStd: 30 }),
      layer({ wNorm: 0, actStd: 0.5 }),
      layer({ wNorm: wNormFor(128, 10, 0.12) }),
    ]);
    const f = m.observeStep(0, first);
    expect(f.map((d) => [d.kind, d.layers])).toEqual([['poor_initialization', [0]], ['poor_initialization', [1]]]);
    expect(f[0]!.remedies[0]!.value).toBe('he_normal');
    expect(f[1]!.explanation).toContain('zero');
    // only the first sample is judged
    expect(m.observeStep(1, first)).toEqual([]);
  });

  it('poor initialization from the real initial weights (checkInitialWeights), before any update', () => {
    const m = new HealthMonitor({ spec: SEED_SPEC, layerNames: ['a', 'b', 'c'] });
    // layer 0: N(0,1) (RMS 1 vs Glorot 0.047); layer 1: Glorot-scale; layer 2: zeros
    const f = m.checkInitialWeights([1, 0.088, 0]);
    expect(f.map((d) => [d.kind, d.layerNames, d.step])).toEqual([['poor_initialization', ['a'], -1], ['poor_initialization', ['c'], -1]]);
    // the first-sample weight check then defers to it (a huge first update must not be blamed on init)
    expect(m.observeStep(0, stats([layer({ wNorm: 1e6, updateRatio: 100 }), layer(), layer()]))).toEqual([]);
  });

  it('blow-ups fire from the first steps, before the warm-up ends', () => {
    const m = new HealthMonitor();
    const fired = feed(m, run(20, 3, (s, ls, g) => {
      if (s === 0) { g.loss = 2.3; g.globalGradNorm = 1.5; }
      if (s >= 6) { g.loss = 2e9; g.globalGradNorm = 3e7; }
    }));
    expect(fired.map((d) => [d.kind, d.step, d.severity])).toEqual([['exploding_gradients', 6, 'critical'], ['loss_diverging', 6, 'critical']]);
    const m2 = new HealthMonitor();
    expect(m2.observeLoss(3, 1.5)).toEqual([]);
    expect(m2.observeLoss(4, Infinity).map((d) => [d.kind, d.step])).toEqual([['non_finite', 4]]);
  });

  it('loss/activation mismatches at compile time', () => {
    const spec = (act: ActivationName, loss: LossName, fromLogits: boolean, units: number): ModelSpec =>
      ({ layers: [dense(8, 16, 'relu'), dense(16, units, act)], loss, fromLogits });
    const cases: Array<[ModelSpec, string]> = [
      [spec('softmax', 'binary_crossentropy', false, 1), 'critical'],
      [spec('softmax', 'binary_crossentropy', false, 10), 'warning'],
      [spec('linear', 'sparse_categorical_crossentropy', false, 10), 'critical'],
      [spec('sigmoid', 'sparse_categorical_crossentropy', false, 10), 'warning'],
      [spec('softmax', 'categorical_crossentropy', true, 10), 'warning'],
      [spec('softmax', 'sparse_categorical_crossentropy', false, 1), 'critical'],
      [spec('relu', 'binary_crossentropy', false, 1), 'critical'],
      [spec('sigmoid', 'binary_crossentropy', true, 1), 'warning'],
    ];
    for (const [s, sev] of cases) {
      const d = checkLossActivation(s);
      expect(d.map((x) => [x.kind, x.severity, x.layers])).toEqual([['loss_activation_mismatch', sev, [1]]]);
      expect(d[0]!.step).toBe(-1);
    }
    const hidden = checkLossActivation({ layers: [dense(8, 16, 'softmax'), dense(16, 3, 'softmax')], loss: 'categorical_crossentropy', fromLogits: false });
    expect(hidden.map((x) => x.layers)).toEqual([[0]]);
  });

  it('every kind has a fixture above and remedies from the standard set', () => {
    // Guards against adding a kind without a test: the kinds exercised in this file.
    const tested = ['vanishing_gradients', 'exploding_gradients', 'non_finite', 'dying_relu', 'saturated_units',
      'learning_rate_too_high', 'learning_rate_too_low', 'loss_diverging', 'loss_oscillating', 'loss_plateau',
      'unnormalized_inputs', 'poor_initialization', 'loss_activation_mismatch'];
    expect([...DIAGNOSIS_KINDS].sort()).toEqual(tested.sort());
  });
});

describe('OutlierDetector (llm.c) and thresholds', () => {
  it('returns NaN while filling, flags a synthetic spike, and does not learn from it', () => {
    const det = new OutlierDetector(8, 2);
    const base = [1, 2, 1, 2, 1, 2, 1, 2];
    for (const v of base) expect(det.update(v)).toBeNaN();
    // window {1,2,...}: mean 1.5, sd 0.5 → a normal value has |z| = 1
    expect(det.update(1)).toBeCloseTo(-1, 12);
    const zSpike = det.update(100);
    // window with the spike in: mean (3·1+4·2+100)/8... its z is computed against the window including it
    expect(zSpike).toBeGreaterThan(2.6);
    // the spike was taken back out: the next normal value scores as before
    expect(det.update(2)).toBeCloseTo(1, 12);
  });

  it('lets the 3rd consecutive outlier in (a level shift, not a spike)', () => {
    const det = new OutlierDetector(4, 1);
    for (const v of [1, 2, 1, 2]) det.update(v);
    const z1 = det.update(50); const z2 = det.update(50); const z3 = det.update(50);
    expect(z1).toBeGreaterThan(1); expect(z2).toBeGreaterThan(1); expect(z3).toBeGreaterThan(1);
    // 50 is now in the window: a 4th 50 scores lower than the first did
    expect(det.update(50)).toBeLessThan(z1);
  });

  it('rejects unknown or invalid thresholds with a message naming them', () => {
    expect(() => resolveThresholds({ deadFrac: 0.5 } as never)).toThrow(/unknown threshold 'deadFrac'/);
    expect(() => resolveThresholds({ deadFraction: NaN })).toThrow(/'deadFraction' must be a finite number/);
    expect(() => resolveThresholds({ persistWindow: 2.5 })).toThrow(/persistWindow/);
    expect(resolveThresholds({ deadFraction: 0.9 }).deadFraction).toBe(0.9);
  });

  it('a stricter persistence window delays firing; rearm lets a kind fire again', () => {
    const m = new HealthMonitor({ spec: SEED_SPEC, thresholds: { persistWindow: 20, persistFraction: 1 } });
    const fired = feed(m, run(300, 3, (s, ls) => { if (s >= 100) ls[1]!.deadFraction = 0.85; }));
    expect(fired.map((d) => d.step)).toEqual([100]);
    expect(fired[0]!.evidence.confirmedAtStep).toBe(119);
    m.rearm('dying_relu');
    const again = feed(m, run(100, 3, (_s, ls) => { ls[1]!.deadFraction = 0.85; }, 8, 300));
    expect(again.map((d) => [d.kind, d.step])).toEqual([['dying_relu', 300]]);
  });
});

// Learning-rate schedules, Keras 3's formulas (keras/src/optimizers/schedules/learning_rate_schedule.py).
// Each is a LearningRateSchedule (ts/model/optimizers.ts): `valueAt(step)` gives the rate for
// optimizer step `step` (0-based, over the model's whole life); pass one as an optimizer's
// learningRate: gg.optimizers.adam({ learningRate: gg.schedules.cosineDecay({...}) }).
// All arithmetic is in f64 (Keras computes in f32; the difference is below 1e-7 relative).

import { OptionError, checkBoolean, checkNumber, checkOptions, describe } from '../errors.js';
import type { LearningRateSchedule } from '../model/optimizers.js';

export interface ExponentialDecayOptions {
  initialLearningRate: number;
  decaySteps: number;
  decayRate: number;
  /** Decay in whole intervals (a step function) instead of continuously. */
  staircase?: boolean;
}

/** lr(step) = initial · decayRate^(step / decaySteps), with ⌊step / decaySteps⌋ when staircase. */
export function exponentialDecay(o: ExponentialDecayOptions): LearningRateSchedule & { config: Required<ExponentialDecayOptions> } {
  const w = 'schedules.exponentialDecay';
  checkOptions(w, o, ['initialLearningRate', 'decaySteps', 'decayRate', 'staircase']);
  const lr0 = checkNumber(w, 'initialLearningRate', o.initialLearningRate, { min: 0 });
  const ds = checkNumber(w, 'decaySteps', o.decaySteps, { min: 0, minExclusive: true });
  const rate = checkNumber(w, 'decayRate', o.decayRate, { min: 0 });
  const staircase = o.staircase === undefined ? false : checkBoolean(w, 'staircase', o.staircase);
  return {
    config: { initialLearningRate: lr0, decaySteps: ds, decayRate: rate, staircase },
    valueAt(step: number): number {
      const p = staircase ? Math.floor(step / ds) : step / ds;
      return lr0 * rate ** p;
    },
  };
}

export interface StepDecayOptions { initialLearningRate: number; stepSize: number; factor?: number }

/** The classic step schedule: multiply by `factor` (default 0.1) every `stepSize` steps
 * (= exponentialDecay with staircase; PyTorch's StepLR). */
export function stepDecay(o: StepDecayOptions): LearningRateSchedule {
  const w = 'schedules.stepDecay';
  checkOptions(w, o, ['initialLearningRate', 'stepSize', 'factor']);
  return exponentialDecay({
    initialLearningRate: o.initialLearningRate,
    decaySteps: checkNumber(w, 'stepSize', o.stepSize, { integer: true, min: 1 }),
    decayRate: o.factor === undefined ? 0.1 : checkNumber(w, 'factor', o.factor, { min: 0 }),
    staircase: true,
  });
}

export interface PiecewiseConstantDecayOptions { boundaries: number[]; values: number[] }

/**
 * values[0] for step ≤ boundaries[0], values[i] for boundaries[i-1] < step ≤ boundaries[i],
 * values[n] for step > boundaries[n-1] (Keras: boundaries are inclusive upper bounds).
 */
export function piecewiseConstantDecay(o: PiecewiseConstantDecayOptions): LearningRateSchedule {
  const w = 'schedules.piecewiseConstantDecay';
  checkOptions(w, o, ['boundaries', 'values']);
  if (!Array.isArray(o.boundaries) || !Array.isArray(o.values)) {
    throw new OptionError(`${w}: boundaries and values must be arrays, got ${describe(o.boundaries)} and ${describe(o.values)}`);
  }
  if (o.values.length !== o.boundaries.length + 1) {
    throw new OptionError(`${w}: values must have one more entry than boundaries, got ${o.values.length} values for ${o.boundaries.length} boundaries`);
  }
  const b = o.boundaries.map((v, i) => checkNumber(w, `boundaries[${i}]`, v));
  for (let i = 1; i < b.length; i++) {
    if (!(b[i]! > b[i - 1]!)) throw new OptionError(`${w}: boundaries must increase strictly, got ${b[i - 1]} then ${b[i]}`);
  }
  const v = o.values.map((x, i) => checkNumber(w, `values[${i}]`, x, { min: 0 }));
  return {
    valueAt(step: number): number {
      for (let i = 0; i < b.length; i++) if (step <= b[i]!) return v[i]!;
      return v[b.length]!;
    },
  };
}

export interface CosineDecayOptions {
  initialLearningRate: number;
  decaySteps: number;
  /** Floor, as a fraction of the rate decayed from (Keras alpha, default 0). */
  alpha?: number;
  /** Linear warm-up from initialLearningRate to warmupTarget over warmupSteps, then decay from warmupTarget. */
  warmupTarget?: number;
  warmupSteps?: number;
}

/**
 * Keras CosineDecay. Without warm-up: s = min(step, decaySteps),
 *   lr = initial · ((1 − α) · ½(1 + cos(π s / decaySteps)) + α).
 * With warm-up: s = min(step, warmupSteps + decaySteps); for s < warmupSteps
 *   lr = initial + (warmupTarget − initial) · s / warmupSteps,
 * else the cosine above with (s − warmupSteps) decaying from warmupTarget.
 */
export function cosineDecay(o: CosineDecayOptions): LearningRateSchedule {
  const w = 'schedules.cosineDecay';
  checkOptions(w, o, ['initialLearningRate', 'decaySteps', 'alpha', 'warmupTarget', 'warmupSteps']);
  const lr0 = checkNumber(w, 'initialLearningRate', o.initialLearningRate, { min: 0 });
  const ds = checkNumber(w, 'decaySteps', o.decaySteps, { min: 0, minExclusive: true });
  const alpha = o.alpha === undefined ? 0 : checkNumber(w, 'alpha', o.alpha, { min: 0, max: 1 });
  const target = o.warmupTarget === undefined ? undefined : checkNumber(w, 'warmupTarget', o.warmupTarget, { min: 0 });
  const ws = o.warmupSteps === undefined ? 0 : checkNumber(w, 'warmupSteps', o.warmupSteps, { integer: true, min: 0 });
  if (target !== undefined && ws === 0) throw new OptionError(`${w}: warmupTarget needs warmupSteps ≥ 1, got warmupSteps ${ws}`);
  const decay = (s: number, from: number) => from * ((1 - alpha) * 0.5 * (1 + Math.cos((Math.PI * s) / ds)) + alpha);
  return {
    valueAt(step: number): number {
      if (target === undefined) return decay(Math.min(step, ds), lr0);
      const s = Math.min(step, ds + ws);
      if (s < ws) return lr0 + (target - lr0) * (s / ws);
      return decay(s - ws, target);
    },
  };
}

export const schedules = { exponentialDecay, stepDecay, piecewiseConstantDecay, cosineDecay };

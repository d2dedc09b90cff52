// The gradient-health statistics block (docs/abi.md, "Gradient-health statistics"), computed from
// one training step's values. Definitions, per layer l:
//   gradWNorm/gradWMaxAbs, gradBNorm/gradBMaxAbs  ‖dW‖₂, max|dW|, ‖db‖₂, max|db| (before clipping)
//   wNorm            ‖W‖₂ after the update           bNorm  ‖b‖₂ after the update
//   updateRatio      ‖W_after − W_before‖₂ / ‖W_before‖₂ (0 if ‖W_before‖ = 0)
//   deadFraction     relu family (relu, leaky_relu, elu, selu): fraction of the layer's units
//                    whose output a was ≤ 0 for every sample of the batch; 0 otherwise
//   saturatedFraction sigmoid/tanh: fraction of pre-activation entries with |z| ≥ 5;
//                    softmax: fraction of rows whose max p ≥ 1 − 1e-6; 0 otherwise
//   actMean, actStd  mean and population std (divide by N) of all batch·out entries of a
//   nonFiniteAct     count of non-finite entries of z plus those of a
//   nonFiniteGrad    count in dW plus db (before clipping)
//   nonFiniteWeight  count in W plus b after the update
//   preactMeanAbs    mean |z|
// global: globalGradNorm (before clipping), loss, nonFiniteLoss, clipped,
//   updateNorm ‖Θ_after − Θ_before‖₂, paramNorm ‖Θ_after‖₂.

import {
  GLOBAL_STATS_WORDS, LAYER_STATS_FIELDS, LAYER_STATS_WORDS,
  type ActivationName, type LayerLayout, type LayerStats, type ModelSpec, type StepStats,
} from '../backend/types.js';
import type { LayerTrace } from './network.js';

export const SATURATION_Z = 5;
export const SOFTMAX_SATURATION_P = 1 - 1e-6;
export const RELU_FAMILY: readonly ActivationName[] = ['relu', 'leaky_relu', 'elu', 'selu'];

function norm2(v: ArrayLike<number>, off: number, len: number): number {
  let s = 0;
  for (let i = off; i < off + len; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}
function maxAbs(v: ArrayLike<number>, off: number, len: number): number {
  let m = 0;
  for (let i = off; i < off + len; i++) { const a = Math.abs(v[i]); if (a > m || Number.isNaN(a)) m = a; }
  return m;
}
function countNonFinite(v: ArrayLike<number>, off: number, len: number): number {
  let c = 0;
  for (let i = off; i < off + len; i++) if (!Number.isFinite(v[i])) c++;
  return c;
}
function diffNorm(a: ArrayLike<number>, b: ArrayLike<number>, off: number, len: number): number {
  let s = 0;
  for (let i = off; i < off + len; i++) { const d = a[i] - b[i]; s += d * d; }
  return Math.sqrt(s);
}

export interface StatsInput {
  spec: ModelSpec;
  layout: readonly LayerLayout[];
  batch: number;
  trace: readonly LayerTrace[];
  /** Gradients before clipping, in the parameter layout. */
  grads: ArrayLike<number>;
  paramsBefore: ArrayLike<number>;
  paramsAfter: ArrayLike<number>;
  loss: number;
  clipped: boolean;
  /** Parameters the optimizer updates (the first ones); the global words cover only these. */
  trainableCount?: number;
}

export function computeStats(inp: StatsInput): StepStats {
  const { spec, layout, batch, trace, grads, paramsBefore, paramsAfter } = inp;
  const layers: LayerStats[] = spec.layers.map((l, i) => {
    const lay = layout[i];
    const { z, a } = trace[i];
    const units = l.units;
    const n = batch * units;

    let dead = 0;
    if (RELU_FAMILY.includes(l.activation)) {
      for (let j = 0; j < units; j++) {
        let alwaysNonPositive = true;
        for (let r = 0; r < batch && alwaysNonPositive; r++) if (a[r * units + j] > 0) alwaysNonPositive = false;
        if (alwaysNonPositive) dead++;
      }
    }
    let saturated = 0;
    if (l.activation === 'sigmoid' || l.activation === 'tanh') {
      let c = 0;
      for (let k = 0; k < n; k++) if (Math.abs(z[k]) >= SATURATION_Z) c++;
      saturated = c / n;
    } else if (l.activation === 'softmax') {
      let c = 0;
      for (let r = 0; r < batch; r++) {
        let m = -Infinity;
        for (let j = 0; j < units; j++) if (a[r * units + j] > m) m = a[r * units + j];
        if (m >= SOFTMAX_SATURATION_P) c++;
      }
      saturated = c / batch;
    }
    let sum = 0; let sumAbsZ = 0;
    for (let k = 0; k < n; k++) { sum += a[k]; sumAbsZ += Math.abs(z[k]); }
    const mean = sum / n;
    let sq = 0;
    for (let k = 0; k < n; k++) { const d = a[k] - mean; sq += d * d; }
    const wBefore = norm2(paramsBefore, lay.wOffset, lay.wLength);
    return {
      gradWNorm: norm2(grads, lay.wOffset, lay.wLength),
      gradWMaxAbs: maxAbs(grads, lay.wOffset, lay.wLength),
      gradBNorm: norm2(grads, lay.bOffset, lay.bLength),
      gradBMaxAbs: maxAbs(grads, lay.bOffset, lay.bLength),
      wNorm: norm2(paramsAfter, lay.wOffset, lay.wLength),
      updateRatio: wBefore === 0 ? 0 : diffNorm(paramsAfter, paramsBefore, lay.wOffset, lay.wLength) / wBefore,
      deadFraction: dead / units,
      saturatedFraction: saturated,
      actMean: mean,
      actStd: Math.sqrt(sq / n),
      nonFiniteAct: countNonFinite(z, 0, n) + countNonFinite(a, 0, n),
      nonFiniteGrad: countNonFinite(grads, lay.wOffset, lay.wLength) + countNonFinite(grads, lay.bOffset, lay.bLength),
      nonFiniteWeight: countNonFinite(paramsAfter, lay.wOffset, lay.wLength)
        + countNonFinite(paramsAfter, lay.bOffset, lay.bLength),
      bNorm: norm2(paramsAfter, lay.bOffset, lay.bLength),
      preactMeanAbs: sumAbsZ / n,
    };
  });
  const total = inp.trainableCount ?? paramsAfter.length;
  return {
    layers,
    globalGradNorm: norm2(grads, 0, total),
    loss: inp.loss,
    nonFiniteLoss: !Number.isFinite(inp.loss),
    clipped: inp.clipped,
    updateNorm: diffNorm(paramsAfter, paramsBefore, 0, total),
    paramNorm: norm2(paramsAfter, 0, total),
  };
}

/** The kernel's word layout: 16 words per layer (fields in LAYER_STATS_FIELDS order), then 8 global. */
export function statsToWords(s: StepStats): Float64Array {
  const L = s.layers.length;
  const w = new Float64Array(LAYER_STATS_WORDS * L + GLOBAL_STATS_WORDS);
  s.layers.forEach((ls, l) => LAYER_STATS_FIELDS.forEach((f, k) => { w[LAYER_STATS_WORDS * l + k] = ls[f]; }));
  const g = LAYER_STATS_WORDS * L;
  w[g] = s.globalGradNorm; w[g + 1] = s.loss; w[g + 2] = s.nonFiniteLoss ? 1 : 0;
  w[g + 3] = s.clipped ? 1 : 0; w[g + 4] = s.updateNorm; w[g + 5] = s.paramNorm;
  return w;
}

/** Inverse of statsToWords (reads a kernel block of L layers). */
export function statsFromWords(w: ArrayLike<number>, L: number): StepStats {
  const layers: LayerStats[] = [];
  for (let l = 0; l < L; l++) {
    const ls = {} as LayerStats;
    LAYER_STATS_FIELDS.forEach((f, k) => { ls[f] = w[LAYER_STATS_WORDS * l + k]; });
    layers.push(ls);
  }
  const g = LAYER_STATS_WORDS * L;
  return {
    layers, globalGradNorm: w[g], loss: w[g + 1], nonFiniteLoss: w[g + 2] !== 0, clipped: w[g + 3] !== 0,
    updateNorm: w[g + 4], paramNorm: w[g + 5],
  };
}

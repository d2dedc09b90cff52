// A stack of dense and batchnorm layers: parameter layout, forward pass, loss, backward pass.
// Pure functions over a parameter array (f32 region or f64 copy), computing in f64.

import type { LayerLayout, ModelSpec, Targets } from '../backend/types.js';
import { activationBackward, activationForward } from './activations.js';
import { bnBackward, bnForwardInfer, bnForwardTrain, type BnTrainTrace } from './batchnorm.js';
import { denseBackward, denseForward } from './dense.js';
import { countCorrect, lossForwardBackward, lossMode, type LossHead } from './losses.js';

/**
 * The flat parameter layout shared with the kernel (docs/abi.md, gg_model_layout and "Region
 * layout"): first, for each layer in order, W (in, out) row-major then b (out) — for batchnorm γ
 * then β, each of length 0 when off; bLength = 0 (and bOffset = the end of W) without bias. Then
 * the non-trainable part: each batchnorm layer's moving_mean (f) and moving_variance (f).
 */
export function computeLayout(spec: ModelSpec): { layout: LayerLayout[]; paramCount: number; trainableCount: number } {
  const layout: LayerLayout[] = [];
  let off = 0;
  for (const l of spec.layers) {
    const wLength = l.kind === 'batchnorm' ? (l.scale ? l.units : 0) : l.inputSize * l.units;
    const bLength = (l.kind === 'batchnorm' ? l.center : l.useBias) ? l.units : 0;
    layout.push({ wOffset: off, wLength, bOffset: off + wLength, bLength, movingOffset: 0, movingLength: 0 });
    off += wLength + bLength;
  }
  const trainableCount = off;
  spec.layers.forEach((l, i) => {
    if (l.kind !== 'batchnorm') return;
    layout[i].movingOffset = off;
    layout[i].movingLength = 2 * l.units;
    off += 2 * l.units;
  });
  return { layout, paramCount: off, trainableCount };
}

/** The parameter tensors in layout order (W₀, b₀, W₁, b₁, …; empty biases left out). */
export function tensorsOf(layout: readonly LayerLayout[]): { offset: number; length: number }[] {
  const t: { offset: number; length: number }[] = [];
  for (const l of layout) {
    t.push({ offset: l.wOffset, length: l.wLength });
    if (l.bLength > 0) t.push({ offset: l.bOffset, length: l.bLength });
  }
  return t;
}

export function headOf(spec: ModelSpec): LossHead {
  const last = spec.layers[spec.layers.length - 1];
  return {
    loss: spec.loss, fromLogits: spec.fromLogits, activation: last.activation,
    activationParam: last.activationParam,
  };
}

/** An f64 copy (or the array itself when already f64): keeps the inner loops monomorphic and fast. */
function asF64(v: ArrayLike<number>): Float64Array {
  return v instanceof Float64Array ? v : Float64Array.from(v);
}

/**
 * Per-layer values kept from the forward pass: z (pre-activation; for batchnorm y = γ·x̂ + β) and
 * a (output), (batch, out); for batchnorm in training mode also x̂ and the batch mean/variance.
 */
export interface LayerTrace { z: Float64Array; a: Float64Array; bn?: BnTrainTrace }

/**
 * Forward pass. `training`: batchnorm layers use the batch statistics (and record them in the
 * trace); otherwise the moving statistics from `params`. Dense layers are the same either way.
 */
export function forward(
  spec: ModelSpec, layout: readonly LayerLayout[], params: ArrayLike<number>, x: ArrayLike<number>,
  batch: number, training = false,
): LayerTrace[] {
  const trace: LayerTrace[] = [];
  params = asF64(params);
  let input: Float64Array = asF64(x);
  spec.layers.forEach((l, i) => {
    const z = new Float64Array(batch * l.units);
    const a = new Float64Array(batch * l.units);
    const lay = layout[i];
    const g = lay.wLength > 0 ? lay.wOffset : -1, b = lay.bLength > 0 ? lay.bOffset : -1;
    let bn: BnTrainTrace | undefined;
    if (l.kind === 'batchnorm') {
      const shape = { batch, f: l.units, epsilon: l.epsilon };
      if (training) bn = bnForwardTrain(input, params, g, b, shape, z);
      else bnForwardInfer(input, params, g, b, lay.movingOffset, shape, z);
    } else {
      denseForward(input, params, lay.wOffset, b, { batch, inSize: l.inputSize, outSize: l.units }, z);
    }
    activationForward(l.activation, l.activationParam, z, a, batch, l.units);
    trace.push(bn ? { z, a, bn } : { z, a });
    input = a;
  });
  return trace;
}

export interface ForwardBackwardResult {
  loss: number;
  perSample: Float64Array;
  /** dL/dΘ in the parameter layout, f64. */
  grads: Float64Array;
  trace: LayerTrace[];
  correct: number;
}

/** Forward, loss and backward; L is the batch-mean loss. */
export function forwardBackward(
  spec: ModelSpec, layout: readonly LayerLayout[], paramCount: number, params: ArrayLike<number>,
  x: ArrayLike<number>, y: Targets, batch: number,
): ForwardBackwardResult {
  params = asF64(params);
  x = asF64(x);
  const trace = forward(spec, layout, params, x, batch, true);
  const L = spec.layers.length;
  const head = headOf(spec);
  const outN = spec.layers[L - 1].units;
  const last = trace[L - 1];
  const lr = lossForwardBackward(head, last.z, last.a, y, batch, outN, true);
  const grads = new Float64Array(paramCount);
  let dz = lr.dz as Float64Array;
  for (let l = L - 1; l >= 0; l--) {
    const spec_l = spec.layers[l];
    const lay = layout[l];
    const input = l === 0 ? x : trace[l - 1].a;
    const dW = grads.subarray(lay.wOffset, lay.wOffset + lay.wLength);
    const db = lay.bLength > 0 ? grads.subarray(lay.bOffset, lay.bOffset + lay.bLength) : null;
    const dx = l > 0 ? new Float64Array(batch * spec_l.inputSize) : null;
    if (spec_l.kind === 'batchnorm') {
      // forward: z = γ·x̂ + β with batch statistics (see bnBackward)
      bnBackward(input, params, lay.wLength > 0 ? lay.wOffset : -1,
        { batch, f: spec_l.units, epsilon: spec_l.epsilon }, trace[l].bn!, dz,
        lay.wLength > 0 ? dW : null, db, dx);
    } else {
      denseBackward(input, params, lay.wOffset,
        { batch, inSize: spec_l.inputSize, outSize: spec_l.units }, dz, dW, db, dx);
    }
    if (l > 0) {
      // forward: a_{l−1} = f_{l−1}(z_{l−1})  ⇒  dz_{l−1} = dx · f'_{l−1}(z_{l−1})
      const prev = spec.layers[l - 1];
      const dzPrev = new Float64Array(batch * prev.units);
      activationBackward(prev.activation, prev.activationParam, trace[l - 1].z, trace[l - 1].a,
        dx as Float64Array, dzPrev, batch, prev.units);
      dz = dzPrev;
    }
  }
  return {
    loss: lr.mean, perSample: lr.perSample, grads, trace,
    correct: countCorrect(head, last.a, y, batch, outN),
  };
}

/** Inference: loss per sample and correct count, without gradients. */
export function evaluateLoss(
  spec: ModelSpec, layout: readonly LayerLayout[], params: ArrayLike<number>, x: ArrayLike<number>,
  y: Targets, batch: number,
): { perSample: Float64Array; mean: number; correct: number; trace: LayerTrace[] } {
  const trace = forward(spec, layout, params, x, batch);
  const last = trace[trace.length - 1];
  const head = headOf(spec);
  const outN = spec.layers[spec.layers.length - 1].units;
  const r = lossForwardBackward(head, last.z, last.a, y, batch, outN, false);
  return { perSample: r.perSample, mean: r.mean, correct: countCorrect(head, last.a, y, batch, outN), trace };
}

export { lossMode };

// A stack of dense layers: parameter layout, forward pass, loss, backward pass.
// Pure functions over a parameter array (f32 region or f64 copy), computing in f64.

import type { LayerLayout, ModelSpec, Targets } from '../backend/types.js';
import { activationBackward, activationForward } from './activations.js';
import { denseBackward, denseForward } from './dense.js';
import { countCorrect, lossForwardBackward, lossMode, type LossHead } from './losses.js';

/**
 * The flat parameter layout shared with the kernel (docs/abi.md, gg_model_layout): for each layer in
 * order, W (in, out) row-major then b (out); bLength = 0 (and bOffset = the end of W) without bias.
 */
export function computeLayout(spec: ModelSpec): { layout: LayerLayout[]; paramCount: number } {
  const layout: LayerLayout[] = [];
  let off = 0;
  for (const l of spec.layers) {
    const wLength = l.inputSize * l.units;
    const bLength = l.useBias ? l.units : 0;
    layout.push({ wOffset: off, wLength, bOffset: off + wLength, bLength });
    off += wLength + bLength;
  }
  return { layout, paramCount: off };
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

/** Per-layer values kept from the forward pass: z (pre-activation) and a (output), (batch, out). */
export interface LayerTrace { z: Float64Array; a: Float64Array }

export function forward(
  spec: ModelSpec, layout: readonly LayerLayout[], params: ArrayLike<number>, x: ArrayLike<number>,
  batch: number,
): LayerTrace[] {
  const trace: LayerTrace[] = [];
  params = asF64(params);
  let input: Float64Array = asF64(x);
  spec.layers.forEach((l, i) => {
    const z = new Float64Array(batch * l.units);
    const a = new Float64Array(batch * l.units);
    const lay = layout[i];
    denseForward(input, params, lay.wOffset, lay.bLength > 0 ? lay.bOffset : -1,
      { batch, inSize: l.inputSize, outSize: l.units }, z);
    activationForward(l.activation, l.activationParam, z, a, batch, l.units);
    trace.push({ z, a });
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
  const trace = forward(spec, layout, params, x, batch);
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
    denseBackward(input, params, lay.wOffset,
      { batch, inSize: spec_l.inputSize, outSize: spec_l.units }, dz, dW, db, dx);
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

// Losses with Keras's reductions, and dL/dz for the last layer's pre-activation z.
//
// Reductions (docs/abi.md, Keras 3 keras/src/losses/losses.py): the batch loss is
//   L = (1/m) Σ_b ℓ_b                      (m = batch, "sum_over_batch_size")
// with the per-sample loss ℓ_b
//   categorical CE         ℓ = −Σ_j y_j log p_j            (a sum over classes)
//   sparse categorical CE  ℓ = −log p_{label}
//   binary CE              ℓ = −(1/n) Σ_j [y_j log p_j + (1 − y_j) log(1 − p_j)]   (a mean over outputs)
//   mean squared error     ℓ =  (1/n) Σ_j (a_j − y_j)²                            (a mean over outputs)
// so every gradient below carries a 1/m, and BCE/MSE also a 1/n (n = outputs).
//
// Which form is used (docs/abi.md, "Loss/activation pairs the kernel fuses"):
//   softmax + (sparse) CE, from_logits = false → fused on z: ℓ = logsumexp(z) − z_y, dz = (p − y)/m
//   sigmoid + binary CE, from_logits = false   → fused on z: ℓ = max(z,0) − z·y + log(1 + e^−|z|),
//                                                 dz = (σ(z) − y)/(m·n)
//   from_logits = true (CE/BCE)               → the layer's output a is the logits: the same two
//                                                formulas on a, then chained through the activation
//                                                (identity for the usual linear last layer)
//   anything else                              → the loss on a "as written" (CE renormalises
//                                                the row), p clipped to [1e-7, 1 − 1e-7]
//                                                (Keras's epsilon), chained
//                                                through the activation's derivative
// MSE has no from_logits (Keras ignores the notion): always on a.
//
// The probability form of (sparse) categorical CE renormalises each row by Σ_j p_j first, as Keras
// does (and the kernel, crates/kernel/src/loss.rs). Keras evaluates softmax+CE on clipped
// probabilities when it cannot see the logits; the fused log-sum-exp form here is the stable
// equivalent and differs only where p < 1e-7.

import type { ActivationName, LossName, Targets } from '../backend/types.js';
import { activationBackward, sigmoid } from './activations.js';

export const PROB_EPSILON = 1e-7;

export type LossMode = 'softmax_ce_fused' | 'sigmoid_bce_fused' | 'logits' | 'probabilities' | 'mse';

export function lossMode(loss: LossName, fromLogits: boolean, lastActivation: ActivationName): LossMode {
  if (loss === 'mean_squared_error') return 'mse';
  const ce = loss === 'sparse_categorical_crossentropy' || loss === 'categorical_crossentropy';
  if (fromLogits) return 'logits';
  if (ce && lastActivation === 'softmax') return 'softmax_ce_fused';
  if (loss === 'binary_crossentropy' && lastActivation === 'sigmoid') return 'sigmoid_bce_fused';
  return 'probabilities';
}

export interface LossHead {
  loss: LossName; fromLogits: boolean; activation: ActivationName; activationParam: number;
}

export interface LossResult {
  /** ℓ_b for each sample (batch). */
  perSample: Float64Array;
  /** Mean over the batch, L = (1/m) Σ ℓ_b. */
  mean: number;
  /** dL/dz of the last layer (batch, n), or null when not asked for. */
  dz: Float64Array | null;
}

/**
 * Loss and dL/dz for the last layer. z and a are that layer's pre-activation and output,
 * (batch, n) row-major; y is Int32Array (batch) labels for sparse CE, else (batch, n).
 */
export function lossForwardBackward(
  head: LossHead, z: Float64Array, a: Float64Array, y: Targets, batch: number, n: number,
  wantGrad: boolean,
): LossResult {
  const mode = lossMode(head.loss, head.fromLogits, head.activation);
  const perSample = new Float64Array(batch);
  const g = wantGrad ? new Float64Array(batch * n) : null;
  const sparse = head.loss === 'sparse_categorical_crossentropy';
  const isBce = head.loss === 'binary_crossentropy';

  // Fused modes produce dL/dz directly; the others produce dL/da, chained below.
  if (mode === 'softmax_ce_fused' || (mode === 'logits' && !isBce)) {
    softmaxCrossEntropyFromLogits(mode === 'logits' ? a : z, y, sparse, batch, n, perSample, g);
  } else if (mode === 'sigmoid_bce_fused' || mode === 'logits') {
    sigmoidBinaryCrossEntropyFromLogits(mode === 'logits' ? a : z, y as Float32Array, batch, n, perSample, g);
  } else if (mode === 'mse') {
    meanSquaredError(a, y as Float32Array, batch, n, perSample, g);
  } else if (isBce) {
    binaryCrossEntropyOnProbabilities(a, y as Float32Array, batch, n, perSample, g);
  } else {
    crossEntropyOnProbabilities(a, y, sparse, batch, n, perSample, g);
  }

  let dz: Float64Array | null = null;
  if (g) {
    if (mode === 'softmax_ce_fused' || mode === 'sigmoid_bce_fused') dz = g;
    else {
      // g is dL/da; dL/dz = dL/da · ∂a/∂z.
      dz = new Float64Array(batch * n);
      activationBackward(head.activation, head.activationParam, z, a, g, dz, batch, n);
    }
  }
  let sum = 0;
  for (let b = 0; b < batch; b++) sum += perSample[b];
  return { perSample, mean: sum / batch, dz };
}

/** Target value y[b, j] whether labels are sparse (one-hot implied) or dense. */
function target(y: Targets, sparse: boolean, b: number, j: number, n: number): number {
  return sparse ? (y[b] === j ? 1 : 0) : y[b * n + j];
}

/**
 * ℓ_b = −Σ_j y_j log softmax(s)_j = Σ_j y_j (lse(s) − s_j),  lse(s) = max + log Σ_k e^{s_k − max}.
 * ∂ℓ_b/∂s_i = softmax(s)_i · Σ_j y_j − y_i  (= p_i − y_i for a one-hot or normalised y).
 */
function softmaxCrossEntropyFromLogits(
  s: Float64Array, y: Targets, sparse: boolean, batch: number, n: number, perSample: Float64Array,
  g: Float64Array | null,
): void {
  for (let b = 0; b < batch; b++) {
    const o = b * n;
    let max = -Infinity;
    for (let j = 0; j < n; j++) if (s[o + j] > max) max = s[o + j];
    let sumExp = 0;
    for (let j = 0; j < n; j++) sumExp += Math.exp(s[o + j] - max);
    const lse = max + Math.log(sumExp);
    let loss = 0; let ySum = 0;
    for (let j = 0; j < n; j++) {
      const t = target(y, sparse, b, j, n);
      if (t !== 0) loss += t * (lse - s[o + j]);
      ySum += t;
    }
    perSample[b] = loss;
    if (g) {
      for (let j = 0; j < n; j++) {
        const p = Math.exp(s[o + j] - lse);
        g[o + j] = (p * ySum - target(y, sparse, b, j, n)) / batch;
      }
    }
  }
}

/**
 * ℓ_b = (1/n) Σ_j [max(s,0) − s·y + log(1 + e^{−|s|})]   (= −y log σ(s) − (1−y) log(1−σ(s)), stably)
 * ∂ℓ_b/∂s_j = (σ(s_j) − y_j)/n.
 */
function sigmoidBinaryCrossEntropyFromLogits(
  s: Float64Array, y: Float32Array, batch: number, n: number, perSample: Float64Array,
  g: Float64Array | null,
): void {
  for (let b = 0; b < batch; b++) {
    let loss = 0;
    for (let j = 0; j < n; j++) {
      const i = b * n + j; const v = s[i];
      loss += Math.max(v, 0) - v * y[i] + Math.log1p(Math.exp(-Math.abs(v)));
      if (g) g[i] = (sigmoid(v) - y[i]) / (n * batch);
    }
    perSample[b] = loss / n;
  }
}

/** ℓ_b = (1/n) Σ_j (a_j − y_j)²;  ∂ℓ_b/∂a_j = 2(a_j − y_j)/n. */
function meanSquaredError(
  a: Float64Array, y: Float32Array, batch: number, n: number, perSample: Float64Array,
  g: Float64Array | null,
): void {
  for (let b = 0; b < batch; b++) {
    let loss = 0;
    for (let j = 0; j < n; j++) {
      const i = b * n + j; const d = a[i] - y[i];
      loss += d * d;
      if (g) g[i] = (2 * d) / (n * batch);
    }
    perSample[b] = loss / n;
  }
}

/** clip(p) to [ε, 1 − ε]; its derivative is 1 inside the interval (bounds included), 0 outside. */
const clipP = (p: number): number => Math.min(Math.max(p, PROB_EPSILON), 1 - PROB_EPSILON);
const insideClip = (p: number): boolean => p >= PROB_EPSILON && p <= 1 - PROB_EPSILON;

/**
 * Keras's CE on probabilities (keras/src/backend/numpy/nn.py, categorical_crossentropy): the row
 * is first renormalised, q = p/S with S = Σ_c p_c, then ℓ_b = −Σ_c y_c log clip(q_c).
 * With g_c = ∂ℓ/∂q_c = −y_c/q_c (0 where q_c is clipped) and ∂q_c/∂p_j = (δ_cj − q_c)/S:
 *   ∂ℓ_b/∂p_j = (g_j − Σ_c g_c q_c)/S.
 */
function crossEntropyOnProbabilities(
  p: Float64Array, y: Targets, sparse: boolean, batch: number, n: number, perSample: Float64Array,
  g: Float64Array | null,
): void {
  for (let b = 0; b < batch; b++) {
    const o = b * n;
    let S = 0;
    for (let j = 0; j < n; j++) S += p[o + j];
    let loss = 0; let dot = 0;
    for (let j = 0; j < n; j++) {
      const t = target(y, sparse, b, j, n);
      const q = p[o + j] / S;
      if (t !== 0) loss -= t * Math.log(clipP(q));
      const gq = t !== 0 && insideClip(q) ? -t / q : 0;
      dot += gq * q;
      if (g) g[o + j] = gq; // ∂ℓ/∂q for now
    }
    perSample[b] = loss;
    if (g) for (let j = 0; j < n; j++) g[o + j] = (g[o + j] - dot) / S / batch;
  }
}

/**
 * ℓ_b = −(1/n) Σ_j [y log clip(p) + (1 − y) log(1 − clip(p))]
 * ∂ℓ_b/∂p_j = (−y/clip(p) + (1 − y)/(1 − clip(p)))/n where p is inside the clip.
 */
function binaryCrossEntropyOnProbabilities(
  p: Float64Array, y: Float32Array, batch: number, n: number, perSample: Float64Array,
  g: Float64Array | null,
): void {
  for (let b = 0; b < batch; b++) {
    let loss = 0;
    for (let j = 0; j < n; j++) {
      const i = b * n + j; const q = clipP(p[i]);
      loss -= y[i] * Math.log(q) + (1 - y[i]) * Math.log(1 - q);
      if (g) g[i] = insideClip(p[i]) ? (-y[i] / q + (1 - y[i]) / (1 - q)) / (n * batch) : 0;
    }
    perSample[b] = loss / n;
  }
}

/**
 * Number of correct predictions (docs/abi.md, gg_last_correct): argmax of the output against the
 * label (sparse) or the target's argmax; with a single output, p ≥ 0.5 against y ≥ 0.5, where p
 * is σ(a) when the output is a binary CE logit (from_logits) and a otherwise. Ties in argmax go to
 * the first index, NaN never wins.
 */
export function countCorrect(
  head: LossHead, a: Float64Array, y: Targets, batch: number, n: number,
): number {
  let correct = 0;
  const sparse = head.loss === 'sparse_categorical_crossentropy';
  for (let b = 0; b < batch; b++) {
    const o = b * n;
    if (n === 1 && !sparse) {
      const p = head.fromLogits && head.loss === 'binary_crossentropy' ? sigmoid(a[o]) : a[o];
      if ((p >= 0.5) === (y[b] >= 0.5)) correct++;
      continue;
    }
    const pred = argmax(a, o, n);
    const truth = sparse ? y[b] : argmax(y, o, n);
    if (pred === truth) correct++;
  }
  return correct;
}

/** Index of the first maximum; NaN entries never win (as the kernel's argmax). */
function argmax(v: ArrayLike<number>, offset: number, n: number): number {
  let best = 0; let bv = -Infinity;
  for (let j = 0; j < n; j++) if (v[offset + j] > bv) { bv = v[offset + j]; best = j; }
  return best;
}

// Activations, forward and backward, on row-major (rows, cols) f64 buffers.
//
// Codes and parameters: docs/abi.md ("activation"): leaky_relu's negative slope and elu's alpha
// arrive as `param`; selu's constants are fixed (Klambauer et al. 2017, as in Keras).
// Derivatives at the kinks follow TensorFlow's gradient kernels: relu'(0) = 0 (the gradient passes
// only where z > 0), leaky_relu'(0) = slope, elu'(0) = alpha, selu'(0) = scale·alpha.

import type { ActivationName } from '../backend/types.js';

export const SELU_ALPHA = 1.6732632423543772848170429916717;
export const SELU_SCALE = 1.0507009873554804934193349852946;

/** Logistic sigmoid, computed without overflow for either sign of z. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/**
 * a = f(z), element-wise, except softmax, which normalises each row:
 *   a[r, j] = exp(z[r, j] − max_k z[r, k]) / Σ_k exp(z[r, k] − max_k z[r, k])
 * z and a are (rows, cols); a may not alias z.
 */
export function activationForward(
  name: ActivationName, param: number, z: Float64Array, a: Float64Array, rows: number, cols: number,
): void {
  const n = rows * cols;
  switch (name) {
    case 'linear': for (let i = 0; i < n; i++) a[i] = z[i]; return;
    case 'relu': for (let i = 0; i < n; i++) a[i] = z[i] > 0 ? z[i] : 0; return;
    case 'leaky_relu': for (let i = 0; i < n; i++) a[i] = z[i] > 0 ? z[i] : param * z[i]; return;
    case 'elu': for (let i = 0; i < n; i++) a[i] = z[i] > 0 ? z[i] : param * Math.expm1(z[i]); return;
    case 'selu':
      for (let i = 0; i < n; i++) a[i] = SELU_SCALE * (z[i] > 0 ? z[i] : SELU_ALPHA * Math.expm1(z[i]));
      return;
    case 'sigmoid': for (let i = 0; i < n; i++) a[i] = sigmoid(z[i]); return;
    case 'tanh': for (let i = 0; i < n; i++) a[i] = Math.tanh(z[i]); return;
    case 'softmax':
      for (let r = 0; r < rows; r++) {
        const o = r * cols;
        let max = -Infinity;
        for (let j = 0; j < cols; j++) if (z[o + j] > max) max = z[o + j];
        let sum = 0;
        for (let j = 0; j < cols; j++) { a[o + j] = Math.exp(z[o + j] - max); sum += a[o + j]; }
        for (let j = 0; j < cols; j++) a[o + j] /= sum;
      }
      return;
  }
}

/**
 * dz = da · ∂a/∂z (the vector-Jacobian product), given the forward's z and a.
 * Element-wise activations: dz[i] = da[i] · f'(z[i]).
 * Softmax (per row): a_j = e^{z_j}/Σ_k e^{z_k} ⇒ ∂a_j/∂z_i = a_j(δ_ij − a_i), so
 *   dz_i = Σ_j da_j a_j (δ_ij − a_i) = a_i (da_i − Σ_j da_j a_j).
 */
export function activationBackward(
  name: ActivationName, param: number, z: Float64Array, a: Float64Array, da: Float64Array,
  dz: Float64Array, rows: number, cols: number,
): void {
  const n = rows * cols;
  switch (name) {
    case 'linear': for (let i = 0; i < n; i++) dz[i] = da[i]; return;
    // a = z > 0 ? z : 0
    case 'relu': for (let i = 0; i < n; i++) dz[i] = z[i] > 0 ? da[i] : 0; return;
    // a = z > 0 ? z : slope·z
    case 'leaky_relu': for (let i = 0; i < n; i++) dz[i] = z[i] > 0 ? da[i] : param * da[i]; return;
    // a = z > 0 ? z : alpha·(e^z − 1)  ⇒  a' = alpha·e^z = a + alpha for z ≤ 0
    case 'elu': for (let i = 0; i < n; i++) dz[i] = z[i] > 0 ? da[i] : da[i] * param * Math.exp(z[i]); return;
    // a = scale·(z > 0 ? z : alpha·(e^z − 1))
    case 'selu':
      for (let i = 0; i < n; i++) {
        dz[i] = da[i] * SELU_SCALE * (z[i] > 0 ? 1 : SELU_ALPHA * Math.exp(z[i]));
      }
      return;
    // a = σ(z)  ⇒  a' = a(1 − a)
    case 'sigmoid': for (let i = 0; i < n; i++) dz[i] = da[i] * a[i] * (1 - a[i]); return;
    // a = tanh z  ⇒  a' = 1 − a²
    case 'tanh': for (let i = 0; i < n; i++) dz[i] = da[i] * (1 - a[i] * a[i]); return;
    case 'softmax':
      for (let r = 0; r < rows; r++) {
        const o = r * cols;
        let dot = 0;
        for (let j = 0; j < cols; j++) dot += da[o + j] * a[o + j];
        for (let j = 0; j < cols; j++) dz[o + j] = a[o + j] * (da[o + j] - dot);
      }
      return;
  }
}

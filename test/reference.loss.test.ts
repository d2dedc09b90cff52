// Loss values and reductions of the reference (ts/reference/losses.ts) on small examples worked out
// by hand from the Keras definitions (docs/abi.md "Loss reductions"). The gradient check shows the
// gradients match the losses; this shows the losses are the right ones (mean over the batch; sum
// over classes for CE; mean over outputs for BCE and MSE; 1e-7 clipping; row renormalisation).
// Tolerance 1e-12 relative: both sides are a handful of f64 operations.

import { describe, expect, it } from 'vitest';
import type { ActivationName, LossName, Targets } from '../ts/backend/types.js';
import { activationForward } from '../ts/reference/activations.js';
import { countCorrect, lossForwardBackward } from '../ts/reference/losses.js';

function run(loss: LossName, activation: ActivationName, fromLogits: boolean, z: number[][], y: Targets) {
  const batch = z.length; const n = z[0].length;
  const zf = Float64Array.from(z.flat());
  const a = new Float64Array(zf.length);
  activationForward(activation, 0, zf, a, batch, n);
  const head = { loss, fromLogits, activation, activationParam: 0 };
  return { ...lossForwardBackward(head, zf, a, y, batch, n, true), correct: countCorrect(head, a, y, batch, n) };
}
const close = (got: number, want: number) => expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-12 * Math.abs(want) + 1e-15);
const L = Math.log; const E = Math.exp;

describe('loss values by hand', () => {
  it('sparse CE + softmax: mean over the batch of −log p_label', () => {
    const r = run('sparse_categorical_crossentropy', 'softmax', false, [[1, 2, 3], [0, 0, 0]], Int32Array.from([2, 0]));
    const l0 = -L(E(3) / (E(1) + E(2) + E(3))); const l1 = L(3);
    close(r.perSample[0], l0); close(r.perSample[1], l1); close(r.mean, (l0 + l1) / 2);
    // dL/dz = (p − onehot)/batch
    close(r.dz![2], (E(3) / (E(1) + E(2) + E(3)) - 1) / 2);
    close(r.dz![3], (1 / 3 - 1) / 2);
    expect(r.correct).toBe(2); // argmax [2] and, with ties, the first index [0]
  });

  it('categorical CE from logits on a linear layer is the same number', () => {
    const r = run('categorical_crossentropy', 'linear', true, [[1, 2, 3]], Float32Array.from([0, 0, 1]));
    close(r.mean, -L(E(3) / (E(1) + E(2) + E(3))));
  });

  it('categorical CE with soft labels sums over classes', () => {
    const r = run('categorical_crossentropy', 'softmax', false, [[0, L(3)]], Float32Array.from([0.5, 0.5]));
    // p = [1/4, 3/4]: ℓ = −0.5 log(1/4) − 0.5 log(3/4)
    close(r.mean, -0.5 * L(0.25) - 0.5 * L(0.75));
  });

  it('CE on probabilities renormalises the row first (Keras), and clips at 1e-7', () => {
    const r = run('categorical_crossentropy', 'linear', false, [[0.2, 0.2, 0.4], [0, 0.5, 0.5]], Float32Array.from([0, 0, 1, 1, 0, 0]));
    close(r.perSample[0], -L(0.5)); // 0.4 / 0.8
    close(r.perSample[1], -L(1e-7)); // p = 0 clipped
    expect(r.dz![3]).toBe(0); // clipped entries pass no gradient
  });

  it('binary CE + sigmoid: mean over outputs of the logits form', () => {
    const r = run('binary_crossentropy', 'sigmoid', false, [[0, 2], [-1, 40]], Float32Array.from([1, 0, 0, 1]));
    close(r.perSample[0], (L(2) + L(1 + E(2))) / 2);
    close(r.perSample[1], (L(1 + E(-1)) + L(1 + E(-40))) / 2);
    close(r.dz![1], (1 / (1 + E(-2)) - 0) / 4); // (σ(z) − y)/(batch·outputs)
  });

  it('binary CE on probabilities clips to [1e-7, 1 − 1e-7]', () => {
    const r = run('binary_crossentropy', 'linear', false, [[0, 1]], Float32Array.from([1, 0]));
    // y=1, p=0 → −log(1e-7); y=0, p=1 → −log(1 − (1 − 1e-7)) (1 − 1e-7 is rounded in f64); mean of 2
    close(r.mean, -(L(1e-7) + L(1 - (1 - 1e-7))) / 2);
  });

  it('mean squared error: mean over outputs, then over the batch', () => {
    const r = run('mean_squared_error', 'linear', false, [[1, 2], [0, -3]], Float32Array.from([0, 0, 1, 1]));
    close(r.perSample[0], 2.5); close(r.perSample[1], 8.5); close(r.mean, 5.5);
    close(r.dz![1], (2 * 2) / 4);
  });

  it('accuracy with one output: p ≥ 0.5 vs y ≥ 0.5 (logits: σ(a) ≥ 0.5)', () => {
    expect(run('binary_crossentropy', 'sigmoid', false, [[0.1], [-0.1], [3]], Float32Array.from([1, 1, 0])).correct).toBe(1);
    expect(run('binary_crossentropy', 'linear', true, [[0.1], [-0.1], [3]], Float32Array.from([1, 1, 0])).correct).toBe(1);
    expect(run('mean_squared_error', 'linear', false, [[0.7], [0.2]], Float32Array.from([1, 0])).correct).toBe(2);
  });
});

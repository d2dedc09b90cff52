// Small seeded data sets for tests and examples. Every value comes from the shared generator
// (ts/reference/rng.ts), so a seed gives the same data everywhere.

import { checkNumber, checkOptions } from '../errors.js';
import { Rng } from '../reference/rng.js';

export interface ClassificationSet {
  /** (count, features) */
  x: Float32Array;
  /** (count) class ids */
  y: Int32Array;
  count: number;
  features: number;
  classes: number;
}

export interface BlobsOptions {
  samples?: number; features?: number; classes?: number;
  /** Standard deviation of each blob around its centre (default 1). */
  spread?: number;
  /** Standard deviation of the centres around the origin (default 4). */
  centerScale?: number;
  seed?: number;
}

/**
 * Gaussian blobs: `classes` centres drawn N(0, centerScale²) per feature, each sample its class's
 * centre plus N(0, spread²) noise. Classes cycle (sample i has class i mod classes) and the rows
 * are then shuffled, so every class has ⌊samples/classes⌋ or one more members.
 */
export function blobs(opts: BlobsOptions = {}): ClassificationSet {
  const w = 'data.synthetic.blobs';
  checkOptions(w, opts, ['samples', 'features', 'classes', 'spread', 'centerScale', 'seed']);
  const n = checkNumber(w, 'samples', opts.samples ?? 300, { integer: true, min: 1 });
  const f = checkNumber(w, 'features', opts.features ?? 2, { integer: true, min: 1 });
  const k = checkNumber(w, 'classes', opts.classes ?? 3, { integer: true, min: 1 });
  const spread = checkNumber(w, 'spread', opts.spread ?? 1, { min: 0 });
  const cs = checkNumber(w, 'centerScale', opts.centerScale ?? 4, { min: 0 });
  const rng = new Rng(checkNumber(w, 'seed', opts.seed ?? 0, { integer: true, min: 0 }));
  const centers = Float64Array.from({ length: k * f }, () => cs * rng.normal());
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  rng.shuffle(order);
  const x = new Float32Array(n * f), y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = order[i] % k;
    y[i] = c;
    for (let j = 0; j < f; j++) x[i * f + j] = centers[c * f + j] + spread * rng.normal();
  }
  return { x, y, count: n, features: f, classes: k };
}

export interface RegressionSet {
  /** (count, features) ~ N(0, 1) */
  x: Float32Array;
  /** (count, outputs) = x·W + b + noise */
  y: Float32Array;
  count: number; features: number; outputs: number;
  /** The true (features, outputs) weights and (outputs) bias. */
  weights: Float32Array; bias: Float32Array;
}

export interface RegressionOptions { samples?: number; features?: number; outputs?: number; noise?: number; seed?: number }

/** A linear regression problem y = x·W + b + N(0, noise²), with W, b ~ N(0, 1). */
export function regression(opts: RegressionOptions = {}): RegressionSet {
  const w = 'data.synthetic.regression';
  checkOptions(w, opts, ['samples', 'features', 'outputs', 'noise', 'seed']);
  const n = checkNumber(w, 'samples', opts.samples ?? 200, { integer: true, min: 1 });
  const f = checkNumber(w, 'features', opts.features ?? 3, { integer: true, min: 1 });
  const o = checkNumber(w, 'outputs', opts.outputs ?? 1, { integer: true, min: 1 });
  const noise = checkNumber(w, 'noise', opts.noise ?? 0.1, { min: 0 });
  const rng = new Rng(checkNumber(w, 'seed', opts.seed ?? 0, { integer: true, min: 0 }));
  const weights = Float32Array.from({ length: f * o }, () => rng.normal());
  const bias = Float32Array.from({ length: o }, () => rng.normal());
  const x = Float32Array.from({ length: n * f }, () => rng.normal());
  const y = new Float32Array(n * o);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < o; c++) {
      let s = bias[c];
      for (let j = 0; j < f; j++) s += x[i * f + j] * weights[j * o + c];
      y[i * o + c] = s + noise * rng.normal();
    }
  }
  return { x, y, count: n, features: f, outputs: o, weights, bias };
}

/**
 * Two classes on the XOR pattern (label 1 when x₀·x₁ > 0), uniform in [−1, 1]²: not linearly
 * separable, so it needs a hidden layer. Labels are class ids; targets01 is (count, 1) for
 * binary cross-entropy.
 */
export function xor(opts: { samples?: number; seed?: number } = {}): ClassificationSet & { targets01: Float32Array } {
  const w = 'data.synthetic.xor';
  checkOptions(w, opts, ['samples', 'seed']);
  const n = checkNumber(w, 'samples', opts.samples ?? 200, { integer: true, min: 1 });
  const rng = new Rng(checkNumber(w, 'seed', opts.seed ?? 0, { integer: true, min: 0 }));
  const x = new Float32Array(n * 2), y = new Int32Array(n), targets01 = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const a = 2 * rng.uniform() - 1, b = 2 * rng.uniform() - 1;
    x[2 * i] = a; x[2 * i + 1] = b;
    y[i] = a * b > 0 ? 1 : 0;
    targets01[i] = y[i];
  }
  return { x, y, count: n, features: 2, classes: 2, targets01 };
}

export const synthetic = { blobs, regression, xor };

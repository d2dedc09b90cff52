// Initialisers (docs/abi.md, "Initialisers"; Keras 3 keras/src/initializers/random_initializers.py),
// drawing from the shared generator (rng.ts) in the same order as the kernel so that both give the
// same numbers: element i takes the next draw(s) for i = 0, 1, …; each value is computed in f64
// and rounded to f32 once.
//
//   glorot: fan = (fan_in + fan_out)/2, scale 1      he: fan = fan_in, scale 2
//   lecun:  fan = fan_in, scale 1
//   *_uniform: U(−limit, limit) with limit = sqrt(3·scale/fan)   (glorot: sqrt(6/(fan_in+fan_out)))
//   *_normal:  σ·z with z a standard normal truncated at 2 (redrawn while |z| > 2) and
//              σ = sqrt(scale/fan)/0.87962566103423978 (the std of a unit normal truncated at ±2,
//              so the result has variance scale/fan, as Keras's VarianceScaling does)
//   random_uniform(value): U(−value, value);  random_normal(value): value·z (not truncated)

import type { InitializerName } from '../backend/types.js';
import { Rng } from './rng.js';

/** Std of a standard normal truncated to [−2, 2] (Keras's constant). */
export const TRUNCATED_NORMAL_STD = 0.87962566103423978;

/** A standard normal truncated at ±2 by rejection: draw again while |z| > 2. */
export function truncatedNormal(rng: Rng): number {
  for (;;) {
    const z = rng.normal();
    if (Math.abs(z) <= 2) return z;
  }
}

/** uniform in (−limit, limit): limit·(2u − 1), u ∈ [0, 1). */
function symmetricUniform(rng: Rng, limit: number): number {
  return limit * (2 * rng.uniform() - 1);
}

/** The (scale, fan) of a variance-scaling initialiser, or null for the others. */
export function varianceScaling(
  kind: InitializerName, fanIn: number, fanOut: number,
): { scale: number; fan: number; distribution: 'uniform' | 'normal' } | null {
  switch (kind) {
    case 'glorot_uniform': return { scale: 1, fan: (fanIn + fanOut) / 2, distribution: 'uniform' };
    case 'glorot_normal': return { scale: 1, fan: (fanIn + fanOut) / 2, distribution: 'normal' };
    case 'he_uniform': return { scale: 2, fan: fanIn, distribution: 'uniform' };
    case 'he_normal': return { scale: 2, fan: fanIn, distribution: 'normal' };
    case 'lecun_uniform': return { scale: 1, fan: fanIn, distribution: 'uniform' };
    case 'lecun_normal': return { scale: 1, fan: fanIn, distribution: 'normal' };
    default: return null;
  }
}

/** n values of initialiser `kind` from generator seed `seed` (see the header for the formulas). */
export function initValues(
  n: number, kind: InitializerName, fanIn: number, fanOut: number, value: number, seed: number,
): Float32Array {
  const out = new Float32Array(n);
  value = Math.fround(value); // the ABI passes `value` as f32
  switch (kind) {
    case 'zeros': return out;
    case 'ones': out.fill(1); return out;
    case 'constant': out.fill(value); return out;
    case 'random_uniform': {
      const rng = new Rng(seed);
      for (let i = 0; i < n; i++) out[i] = symmetricUniform(rng, value);
      return out;
    }
    case 'random_normal': {
      const rng = new Rng(seed);
      for (let i = 0; i < n; i++) out[i] = value * rng.normal();
      return out;
    }
    default: {
      const vs = varianceScaling(kind, fanIn, fanOut);
      if (!vs) throw new Error(`unknown initializer ${String(kind)}`);
      const rng = new Rng(seed);
      if (vs.distribution === 'uniform') {
        const limit = Math.sqrt((3 * vs.scale) / vs.fan);
        for (let i = 0; i < n; i++) out[i] = symmetricUniform(rng, limit);
      } else {
        const sigma = Math.sqrt(vs.scale / vs.fan) / TRUNCATED_NORMAL_STD;
        for (let i = 0; i < n; i++) out[i] = sigma * truncatedNormal(rng);
      }
      return out;
    }
  }
}

// Collecting the gradient-health statistics must never change training (issue 3's contract).
// With collection on, the kernel runs each optimizer rule inside a different loop from the
// plain update: on simd128 builds one fused f32x4 pass that also sums Σg², max|g|, Σ(Δθ)²,
// Σθ², written separately from the flat loop LLVM vectorises (crates/kernel/src/optim.rs,
// `stats_block`). Both must apply the rule's operations in the same order, so parameters and
// optimizer slots must be equal bit for bit after the same steps, for every rule, with and
// without weight decay, on every build. The shapes make every loop edge happen: the first
// kernel (130×131 = 17,030 elements) spans two statistics segments (16 Ki) and ends 2 past a
// multiple of 4; the others (131, 917, 7 elements) end 3, 1 and 3 past one.
import { describe, expect, it } from 'vitest';
import { createWasmBackend, type WasmBackend } from '../ts/backend/wasm';
import type { OptimizerConfig } from '../ts/backend/types';
import { Rng } from '../ts/reference/rng';
import { adam, denseSpec, initModel } from './helpers/backend-model';

const spec = denseSpec('sparse_categorical_crossentropy', [[130, 131, 'relu'], [131, 7, 'softmax']]);

const base = adam(0.01);
const rules: [string, OptimizerConfig][] = [
  ['sgd', { ...base, kind: 'sgd', learningRate: 0.05 }],
  ['sgd + momentum', { ...base, kind: 'sgd', learningRate: 0.05, momentum: 0.9 }],
  ['sgd + nesterov', { ...base, kind: 'sgd', learningRate: 0.05, momentum: 0.9, nesterov: true }],
  ['rmsprop', { ...base, kind: 'rmsprop', learningRate: 0.001 }],
  ['rmsprop + momentum', { ...base, kind: 'rmsprop', learningRate: 0.001, momentum: 0.5 }],
  ['adagrad', { ...base, kind: 'adagrad', learningRate: 0.05 }],
  ['adam', base],
  ['adamw', { ...base, kind: 'adamw', weightDecay: 0.004 }],
  ['sgd + weight decay', { ...base, kind: 'sgd', learningRate: 0.05, momentum: 0.9, weightDecay: 0.01 }],
];

const BATCH = 5, STEPS = 6;
const rng = new Rng(7);
const x = Float32Array.from({ length: BATCH * 130 }, () => 2 * rng.uniform() - 1);
const y = Int32Array.from({ length: BATCH }, (_, i) => (3 * i + 1) % 7);

/** First index where two arrays differ as f32 bit patterns, or -1. */
function firstBitDifference(a: Float32Array, b: Float32Array): number {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length), ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  if (ua.length !== ub.length) return 0;
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return i;
  return -1;
}

const builds: [string, () => Promise<WasmBackend>][] = [
  ['simd', () => createWasmBackend({ variant: 'simd' })],
  ['scalar', () => createWasmBackend({ variant: 'scalar' })],
  ['simd-threads, 2 threads', () => createWasmBackend({ variant: 'simd-threads', threads: 2 })],
];

describe.each(builds)('statistics never change the update (%s)', (_name, make) => {
  it.each(rules)('%s: parameters and slots equal bit for bit with statistics on every step and off', async (_rule, cfg) => {
    const b = await make();
    try {
      const [on, off] = [b.createModel(spec), b.createModel(spec)];
      for (const m of [on, off]) { initModel(m, 11); m.setOptimizer(cfg); }
      on.setCollectStats(true);
      for (let s = 0; s < STEPS; s++) {
        const l1 = on.trainStep(x, y, BATCH), l2 = off.trainStep(x, y, BATCH);
        expect(Number.isFinite(l1), 'loss is finite').toBe(true);
        expect(l1).toBe(l2);
      }
      // The statistics were collected (and so the statistics loop ran): finite update ratios.
      const st = on.getStats();
      expect(st).not.toBeNull();
      expect(off.getStats()).toBeNull();
      for (const l of st!.layers) expect(Number.isFinite(l.updateRatio) && l.updateRatio > 0).toBe(true);
      const p = firstBitDifference(on.getParams(), off.getParams());
      expect(p, `parameters differ first at ${p}`).toBe(-1);
      const [so, sf] = [on.getOptimizerState(), off.getOptimizerState()];
      expect(so.step).toBe(sf.step);
      const q = firstBitDifference(so.slots, sf.slots);
      expect(q, `optimizer slots differ first at ${q}`).toBe(-1);
      // and training moved the parameters at all (a rule that did nothing would pass the above)
      const fresh = b.createModel(spec);
      initModel(fresh, 11);
      expect(firstBitDifference(on.getParams(), fresh.getParams())).not.toBe(-1);
      for (const m of [on, off, fresh]) m.dispose();
    } finally {
      await b.dispose();
    }
  });
});

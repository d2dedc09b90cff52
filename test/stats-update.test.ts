// Collecting the gradient-health statistics must never change training (issue 3's contract).
// With collection on, the kernel runs each optimizer rule inside a different loop from the
// plain update: on simd128 builds one fused f32x4 pass that also sums Σg², max|g|, Σ(Δθ)²,
// Σθ², written separately from the flat loop LLVM vectorises (crates/kernel/src/optim.rs,
// `stats_block`). Both must apply the rule's operations in the same order, so parameters and
// optimizer slots must be equal bit for bit after the same steps, for every rule, with and
// without weight decay, on every build. The shapes make every loop edge happen: the first
// kernel (130×131 = 17,030 elements) spans two statistics segments (16 Ki) and ends 2 past a
// multiple of 4; the others (131, 917, 7 elements) end 3, 1 and 3 past one.
//
// Slots are stored flush-to-zero (optim.rs), which the f32x4 loop does with a mask and the flat
// loop with a compare per element: the slots start just above the smallest normal f32, and
// input feature 0 is 0 in every sample, so the 131 weights of W₀'s row 0 get g = 0 every step
// and their decaying slots go below it at the first step (a subnormal unless flushed).
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
const x = Float32Array.from({ length: BATCH * 130 }, (_, i) => (i % 130 === 0 ? 0 : 2 * rng.uniform() - 1));
const TINY = 1.0005 * 2 ** -126; // just above the smallest normal f32

/** Which of its two slots a rule keeps and decays (m: momentum or Adam's m; v: RMSprop's or Adam's v). */
function decaying(cfg: OptimizerConfig): { m: boolean; v: boolean } {
  const adam = cfg.kind === 'adam' || cfg.kind === 'adamw';
  return { m: adam || (cfg.kind !== 'adagrad' && cfg.momentum > 0), v: adam || cfg.kind === 'rmsprop' };
}
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
      for (const m of [on, off]) {
        initModel(m, 11); m.setOptimizer(cfg);
        const st = m.getOptimizerState();
        const n = st.slots.length / 2;
        for (let i = 0; i < n; i++) { st.slots[i] = i % 2 ? -TINY : TINY; st.slots[n + i] = TINY; }
        m.setOptimizerState(st);
      }
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
      // flush-to-zero: no subnormal stored; the zero-gradient row's decaying slots are exactly 0
      const sub = so.slots.findIndex((v) => v !== 0 && Math.abs(v) < 2 ** -126);
      expect(sub, `slot ${sub} is subnormal (${so.slots[sub]})`).toBe(-1);
      const n = so.slots.length / 2, w0 = on.layout[0].wOffset, units = spec.layers[0].units;
      const { m: dm, v: dv } = decaying(cfg);
      for (const [used, base, name] of [[dm, 0, 'm'], [dv, n, 'v']] as const) {
        if (!used) continue;
        const row = so.slots.subarray(base + w0, base + w0 + units);
        expect(row.every((v) => v === 0), `${name} of W₀ row 0 (g = 0) flushed to 0: ${row.slice(0, 4)}`).toBe(true);
      }
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

// WasmBackend / WasmModel: the binding of the model ABI, checked against the TypeScript
// reference backend, plus the memory habits (no per-step allocation, dispose frees everything).
//
// This file tests the binding (arguments reach the right exports, data lands where the kernel
// reads it, results are read back from the right words), not the kernel's numerics in depth;
// the kernel-vs-reference suites do that. Tolerances are therefore loose enough for f32
// accumulation in a different order (the kernel) against f64-then-rounded (the reference):
// relative 1e-4 on losses and parameters after a few steps of width-≤13 layers, where
// accumulated rounding is about k·2^-24 ≈ 1e-6 relative per product.
import { describe, expect, it } from 'vitest';
import { createWasmBackend, type WasmBackend, type WasmModel } from '../ts/backend/wasm';
import { createReferenceBackend } from '../ts/reference';
import type { ModelSpec, Targets } from '../ts/backend/types';
import { BackendError, DisposedError } from '../ts/errors';
import { adam, clsSpec, initModel } from './helpers/backend-model';
import { Rng } from '../ts/reference/rng';

const REL = 1e-4;

const mseSpec: ModelSpec = {
  layers: [
    { kind: 'dense', inputSize: 5, units: 11, activation: 'tanh', activationParam: 0, useBias: true },
    { kind: 'dense', inputSize: 11, units: 2, activation: 'linear', activationParam: 0, useBias: false },
  ],
  loss: 'mean_squared_error',
  fromLogits: false,
};

/** A learnable synthetic task: class = argmax of three fixed linear projections of x. */
function classData(n: number, seed: number): { x: Float32Array; y: Int32Array } {
  const rng = new Rng(seed);
  const x = Float32Array.from({ length: n * 13 }, () => 2 * rng.uniform() - 1);
  const y = new Int32Array(n);
  for (let s = 0; s < n; s++) {
    const z = [0, 1, 2].map((c) => x.subarray(s * 13, s * 13 + 13).reduce((a, v, i) => a + v * Math.sin(1 + c * 13 + i), 0));
    y[s] = z.indexOf(Math.max(...z));
  }
  return { x, y };
}

function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, rel: number, what: string): void {
  expect(a.length, what).toBe(b.length);
  let worst = 0, at = -1;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]) / Math.max(1e-3, Math.abs(b[i]));
    if (!(d <= worst)) { worst = d; at = i; }
  }
  expect(worst, `${what}: worst relative difference at ${at}: ${a[at]} vs ${b[at]}`).toBeLessThanOrEqual(rel);
}

describe.each(['simd', 'scalar'] as const)('WasmBackend (%s)', (variant) => {
  const backend = (): Promise<WasmBackend> => createWasmBackend({ variant });

  it('has the variant in its name and the reference layout', async () => {
    const b = await backend();
    expect(b.name).toBe(`wasm-${variant}`);
    const m = b.createModel(clsSpec), r = createReferenceBackend().createModel(clsSpec);
    expect(m.paramCount).toBe(13 * 7 + 7 + 7 * 3 + 3);
    expect(m.layout).toEqual(r.layout);
    m.dispose();
  });

  it('trains like the reference, step for step (loss, correct count, parameters, gradients)', async () => {
    const m = (await backend()).createModel(clsSpec), r = createReferenceBackend().createModel(clsSpec);
    initModel(m, 7);
    r.setParams(m.getParams());
    m.setOptimizer(adam(0.01)); r.setOptimizer(adam(0.01));
    const { x, y } = classData(29, 1); // batch 29: prime
    for (let step = 0; step < 5; step++) {
      const lw = m.trainStep(x, y, 29), lr = r.trainStep(x, y, 29);
      expectClose([lw], [lr], REL, `loss at step ${step}`);
      expect(m.lastCorrect()).toBe(r.lastCorrect());
    }
    expectClose(m.getParams(), r.getParams(), REL, 'parameters after 5 Adam steps');
    expectClose(m.getGrads(), r.getGrads(), REL, 'gradients of the last step');
    m.dispose();
  });

  it('the loss falls over training on a learnable task', async () => {
    const m = (await backend()).createModel(clsSpec);
    initModel(m, 3);
    m.setOptimizer(adam(0.02));
    const { x, y } = classData(256, 2);
    const losses: number[] = [];
    for (let epoch = 0; epoch < 20; epoch++) {
      let sum = 0;
      for (let b = 0; b < 256; b += 32) sum += m.trainStep(x.subarray(b * 13, (b + 32) * 13), y.subarray(b, b + 32), 32);
      losses.push(sum / 8);
    }
    expect(losses[19]).toBeLessThan(0.5 * losses[0]);
    const { correct } = m.evaluate(x, y, 256);
    expect(correct).toBeGreaterThan(0.8 * 256);
    m.dispose();
  });

  it('forwardBackward fills gradients without updating; predict and evaluate match the reference', async () => {
    const m = (await backend()).createModel(clsSpec), r = createReferenceBackend().createModel(clsSpec);
    initModel(m, 11);
    r.setParams(m.getParams());
    const { x, y } = classData(17, 5);
    const before = m.getParams();
    expectClose([m.forwardBackward(x, y, 17)], [r.forwardBackward(x, y, 17)], REL, 'loss');
    expect(m.getParams()).toEqual(before);
    expectClose(m.getGrads(), r.getGrads(), REL, 'gradients');
    const p = m.predict(x, 17);
    expect(p.length).toBe(17 * 3);
    expectClose(p, r.predict(x, 17), REL, 'predictions');
    const ew = m.evaluate(x, y, 17), er = r.evaluate(x, y, 17);
    expectClose([ew.lossSum], [er.lossSum], REL, 'evaluate lossSum');
    expect(ew.correct).toBe(er.correct);
    m.dispose();
  });

  it('dense targets (mean squared error, no bias on the last layer) match the reference', async () => {
    const m = (await backend()).createModel(mseSpec), r = createReferenceBackend().createModel(mseSpec);
    initModel(m, 21);
    r.setParams(m.getParams());
    m.setOptimizer(adam(0.01)); r.setOptimizer(adam(0.01));
    const rng = new Rng(9);
    const x = Float32Array.from({ length: 7 * 5 }, () => rng.normal());
    const y = Float32Array.from({ length: 7 * 2 }, () => rng.normal());
    for (let s = 0; s < 3; s++) expectClose([m.trainStep(x, y, 7)], [r.trainStep(x, y, 7)], REL, `mse loss step ${s}`);
    expectClose(m.getParams(), r.getParams(), REL, 'parameters');
    m.dispose();
  });

  it('trainStepGather trains exactly as trainStep on the same rows gathered by the caller (sparse, float labels, dense)', async () => {
    const b = await backend();
    const { x: X, y: Yl } = classData(40, 21);
    const rows = Int32Array.from([39, 0, 17, 17, 5, 22, 8]);
    const gx = new Float32Array(rows.length * 13);
    rows.forEach((r, i) => gx.set(X.subarray(r * 13, r * 13 + 13), i * 13));
    const cases: [ModelSpec, Targets, Targets][] = [
      [clsSpec, Yl, Int32Array.from(rows, (r) => Yl[r])],
      [clsSpec, Float32Array.from(Yl), Int32Array.from(rows, (r) => Yl[r])],
    ];
    const T = Float32Array.from({ length: 40 * 2 }, (_, i) => Math.sin(i));
    const gt = new Float32Array(rows.length * 2);
    rows.forEach((r, i) => gt.set(T.subarray(r * 2, r * 2 + 2), i * 2));
    // The same x as a view 3 floats into a larger buffer (the gather copies bytes from x.buffer,
    // so its byteOffset must count); steps alternate between the two.
    const Xoff = new Float32Array(3 + X.length).subarray(3); Xoff.set(X);
    const mse5: ModelSpec = { ...mseSpec, layers: [{ ...mseSpec.layers[0], inputSize: 13 }, mseSpec.layers[1]] };
    cases.push([mse5, T, gt]);
    for (const [spec, yAll, yRows] of cases) {
      const [a, c] = [b.createModel(spec), b.createModel(spec)];
      for (const m of [a, c]) { initModel(m, 2); m.setOptimizer(adam(0.01)); }
      for (let s = 0; s < 3; s++) {
        const l1 = a.trainStepGather(s % 2 ? Xoff : X, yAll, rows, rows.length), l2 = c.trainStep(gx, yRows, rows.length);
        expect(Number.isFinite(l1)).toBe(true);
        expect(l1).toBe(l2);
        expect(a.lastCorrect()).toBe(c.lastCorrect());
      }
      expect(new Uint32Array(a.getParams().buffer)).toEqual(new Uint32Array(c.getParams().buffer));
      a.dispose(); c.dispose();
    }
  });

  it('a step with a NaN/±Inf in x changes nothing and badInput() says where (odd sizes, every SIMD edge)', async () => {
    // The kernel's scan (crates/kernel/src/finite.rs) runs 8 values a step in blocks of 512 and
    // ends in a scalar tail: positions on each side of those edges, in x of 13 (prime) columns
    // and batches of 1, 7 and 131 (a split step, docs/abi.md). Exact: nothing is computed.
    const b = await backend();
    const m = b.createModel(clsSpec);
    initModel(m, 4);
    m.setOptimizer(adam(0.01));
    for (const batch of [1, 7, 131]) {
      const { x, y } = classData(batch, batch);
      expect(Number.isFinite(m.trainStep(x, y, batch))).toBe(true);
      expect(m.badInput()).toBe(-1);
      const n = batch * 13;
      const spots = [0, 7, 8, 15, 511, 512, 513, n - 2, n - 1].filter((i) => i >= 0 && i < n);
      for (const at of spots) {
        for (const bad of [NaN, Infinity, -Infinity]) {
          const xb = Float32Array.from(x); xb[at] = bad;
          if (at + 3 < n) xb[n - 1] = NaN; // a later bad value must not be the one reported
          const [p, g, o] = [m.getParams(), m.getGrads(), m.getOptimizerState()];
          expect(m.trainStep(xb, y, batch), `${bad} at ${at} of ${n}`).toBeNaN();
          expect(m.badInput(), `${bad} at ${at} of ${n}`).toBe(at);
          expect(m.getParams()).toEqual(p);
          expect(m.getGrads()).toEqual(g);
          expect(m.getOptimizerState()).toEqual(o);
        }
      }
      expect(Number.isFinite(m.trainStep(x, y, batch))).toBe(true);
      expect(m.badInput()).toBe(-1);
    }
    b.dispose();
  });

  it('class ids given as a Float32Array reach the kernel as the same integers', async () => {
    const m = (await backend()).createModel(clsSpec);
    initModel(m, 4);
    const { x, y } = classData(9, 8);
    const asInt = m.forwardBackward(x, y, 9);
    expect(m.forwardBackward(x, Float32Array.from(y), 9)).toBe(asInt);
    m.dispose();
  });

  it('setParams/getParams round-trip; a wrong length is refused', async () => {
    const m = (await backend()).createModel(clsSpec);
    const p = Float32Array.from({ length: m.paramCount }, (_, i) => i / 7 - 3);
    m.setParams(p);
    expect(m.getParams()).toEqual(p);
    expect(() => m.setParams(new Float32Array(5))).toThrow(`setParams expected ${m.paramCount} values, got 5`);
    m.dispose();
  });

  it('gradient statistics: null until a step runs with collection on, then one entry per layer', async () => {
    const m = (await backend()).createModel(clsSpec), r = createReferenceBackend().createModel(clsSpec);
    initModel(m, 5);
    r.setParams(m.getParams());
    m.setOptimizer(adam(0.01)); r.setOptimizer(adam(0.01));
    const { x, y } = classData(16, 3);
    m.trainStep(x, y, 16); r.trainStep(x, y, 16);
    expect(m.getStats()).toBeNull();
    m.setCollectStats(true); r.setCollectStats(true);
    m.trainStep(x, y, 16); r.trainStep(x, y, 16);
    const s = m.getStats()!, t = r.getStats()!;
    expect(s.layers.length).toBe(2);
    expectClose([s.globalGradNorm, s.loss, s.updateNorm, s.paramNorm], [t.globalGradNorm, t.loss, t.updateNorm, t.paramNorm], REL, 'global stats');
    expectClose([s.layers[0].gradWNorm, s.layers[1].gradBNorm, s.layers[1].wNorm], [t.layers[0].gradWNorm, t.layers[1].gradBNorm, t.layers[1].wNorm], REL, 'layer stats');
    expect(s.nonFiniteLoss).toBe(false);
    expect(s.clipped).toBe(false);
    m.dispose();
  });

  it('a spec the kernel rejects is a BackendError, and an invalid optimizer config too', async () => {
    const b = await backend();
    const bad: ModelSpec = { ...clsSpec, layers: [clsSpec.layers[0], { ...clsSpec.layers[1], inputSize: 8 }] };
    expect(() => b.createModel(bad)).toThrow(BackendError);
    expect(() => b.createModel(bad)).toThrow(/rejected the model spec \(dense 13→7 relu, dense 8→3 softmax/);
    const m = b.createModel(clsSpec);
    expect(() => m.setOptimizer({ ...adam(0.01), clipNorm: 1, globalClipNorm: 1 })).toThrow(/rejected the optimizer config/);
    m.dispose();
  });

  it('use after dispose is a DisposedError; dispose twice is harmless', async () => {
    const m = (await backend()).createModel(clsSpec);
    m.dispose();
    m.dispose();
    expect(() => m.getParams()).toThrow(DisposedError);
    expect(() => m.trainStep(new Float32Array(13), new Int32Array(1), 1)).toThrow(DisposedError);
  });

  // tfjs's leak test habit: allocate, free, allocate again → the same memory comes back.
  it('dispose frees everything: a second model gets the same pointers and memory does not grow', async () => {
    const b = await backend();
    const { x, y } = classData(32, 4);
    const run = (): { handle: number; ptrs: WasmModel['bufferPointers']; params: number } => {
      const m = b.createModel(clsSpec);
      initModel(m, 1);
      m.setOptimizer(adam(0.01));
      m.trainStep(x, y, 32);
      m.predict(x, 32);
      m.evaluate(x, y, 32);
      const out = { handle: m.handle, ptrs: m.bufferPointers, params: (m as unknown as { paramsPtr(): number }).paramsPtr() };
      m.dispose();
      return out;
    };
    // The first model's steps may make the kernel allocate lasting caches (GEMM packing
    // buffers), and the allocator's free lists take a cycle or two to settle (observed: the
    // scalar build repeats from the third model on). After a few warm-up cycles every model must
    // land on exactly the same addresses, and memory must not grow at all after the first.
    const first = run();
    const bytes = b.memoryBytes;
    for (let i = 0; i < 4; i++) run();
    const settled = run();
    for (let i = 0; i < 20; i++) expect(run()).toEqual(settled);
    expect(b.memoryBytes).toBe(bytes);
    expect(first.handle).toBeGreaterThan(0);
  });

  it('no allocation per step: memory and buffers stay put over many steps and smaller batches', async () => {
    const b = await backend();
    const m = b.createModel(clsSpec);
    initModel(m, 2);
    m.setOptimizer(adam(0.01));
    const { x, y } = classData(64, 6);
    // The largest batch first: buffers and workspace sized here (two steps: x is staged in two
    // buffers in turn, see WasmModel.xs).
    m.trainStep(x, y, 64);
    m.trainStep(x, y, 64);
    const bytes = b.memoryBytes, ptrs = m.bufferPointers;
    for (let i = 0; i < 300; i++) {
      const batch = [64, 32, 1, 63][i % 4];
      m.trainStep(x, y.subarray(0, batch), batch);
    }
    expect(b.memoryBytes).toBe(bytes);
    expect(m.bufferPointers).toEqual(ptrs);
    m.dispose();
  });

  it('a larger batch later grows the buffers and still computes right (views re-created)', async () => {
    const b = await backend();
    const m = b.createModel(clsSpec), r = createReferenceBackend().createModel(clsSpec);
    initModel(m, 3);
    r.setParams(m.getParams());
    m.setOptimizer(adam(0.01)); r.setOptimizer(adam(0.01));
    const small = classData(2, 1), big = classData(4099, 2); // 4099·13·4 bytes > any free space
    m.trainStep(small.x, small.y, 2); r.trainStep(small.x, small.y, 2);
    const before = b.memoryBytes;
    expectClose([m.trainStep(big.x, big.y, 4099)], [r.trainStep(big.x, big.y, 4099)], REL, 'loss on the big batch');
    expect(b.memoryBytes).toBeGreaterThan(before);
    expectClose(m.predict(big.x, 4099), r.predict(big.x, 4099), REL, 'predictions after growth');
    m.dispose();
  });
});

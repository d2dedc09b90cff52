// The simd-threads build (issue 4, item 3): a pool of worker threads inside the wasm kernel.
// Contract under test: results are bit-identical to the single-threaded simd build and across
// thread counts (the kernel partitions work by shape only and combines partial sums in a fixed
// order), so every comparison here is exact (toEqual on Float32Array bits), not a tolerance.
// Models are sized so that the parallel paths actually run (layers above the kernel's
// sequential thresholds) and with odd widths that do not divide the SIMD width or the column
// block, plus one small model that stays below the thresholds.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createWasmBackend, setThreadsNotice, threadsUnavailableReason, type WasmBackend } from '../ts/backend/wasm';
import type { BackendModel, ModelSpec, OptimizerConfig } from '../ts/backend/types';
import { DisposedError, OptionError } from '../ts/errors';
import { Rng } from '../ts/reference/rng';

const root = fileURLToPath(new URL('..', import.meta.url));

const adam = (lr = 0.001): OptimizerConfig => ({
  kind: 'adam', learningRate: lr, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, momentum: 0, nesterov: false,
  weightDecay: 0, rho: 0.9, initialAccumulatorValue: 0.1, clipValue: 0, clipNorm: 0, globalClipNorm: 0,
});

/** MNIST-like widths, but odd: 301 inputs, 263 and 129 hidden (neither divides 4, 8 or 64), 10 classes. */
const bigSpec: ModelSpec = {
  layers: [
    { kind: 'dense', inputSize: 301, units: 263, activation: 'relu', activationParam: 0, useBias: true },
    { kind: 'dense', inputSize: 263, units: 129, activation: 'tanh', activationParam: 0, useBias: true },
    { kind: 'dense', inputSize: 129, units: 10, activation: 'softmax', activationParam: 0, useBias: true },
  ],
  loss: 'sparse_categorical_crossentropy',
  fromLogits: false,
};
const smallSpec: ModelSpec = {
  layers: [
    { kind: 'dense', inputSize: 13, units: 7, activation: 'relu', activationParam: 0, useBias: true },
    { kind: 'dense', inputSize: 7, units: 3, activation: 'softmax', activationParam: 0, useBias: true },
  ],
  loss: 'sparse_categorical_crossentropy',
  fromLogits: false,
};

function initModel(m: BackendModel, seed: number): void {
  m.layout.forEach((l, i) => {
    const { inputSize, units } = m.spec.layers[i];
    m.initTensor(l.wOffset, l.wLength, 'glorot_uniform', inputSize, units, 0, seed + 2 * i);
    if (l.bLength > 0) m.initTensor(l.bOffset, l.bLength, 'zeros', inputSize, units, 0, seed + 2 * i + 1);
  });
}

/** Trains `steps` steps at `batch` on seeded random data; returns the parameters and losses. */
function train(backend: WasmBackend, spec: ModelSpec, batch: number, steps: number, stats: boolean) {
  const m = backend.createModel(spec);
  initModel(m, 7);
  m.setOptimizer(adam());
  m.setCollectStats(stats);
  const rng = new Rng(99);
  const inSize = spec.layers[0].inputSize;
  const classes = spec.layers[spec.layers.length - 1].units;
  const losses: number[] = [];
  const statWords: number[] = [];
  for (let s = 0; s < steps; s++) {
    const x = Float32Array.from({ length: batch * inSize }, () => 2 * rng.uniform() - 1);
    const y = Int32Array.from({ length: batch }, () => Math.floor(rng.uniform() * classes));
    losses.push(m.trainStep(x, y, batch));
    if (stats) {
      const st = m.getStats();
      if (st) statWords.push(...st.layers.flatMap((l) => Object.values(l) as number[]));
    }
  }
  const params = m.getParams();
  m.dispose();
  return { params, losses, statWords };
}

const backends: WasmBackend[] = [];
async function load(opts: Parameters<typeof createWasmBackend>[0]): Promise<WasmBackend> {
  const b = await createWasmBackend(opts);
  backends.push(b);
  return b;
}
afterAll(async () => { await Promise.all(backends.map((b) => b.dispose())); });

describe('simd-threads', () => {
  it('loads with the asked thread count and reports it', async () => {
    const b = await load({ variant: 'simd-threads', threads: 2 });
    expect(b.name).toBe('wasm-simd-threads');
    expect(b.threads).toBe(2);
    const s = await load({ variant: 'simd' });
    expect(s.threads).toBe(1);
  });

  it('rejects a bad thread count with a typed error', async () => {
    await expect(createWasmBackend({ variant: 'simd-threads', threads: 0 })).rejects.toThrow(OptionError);
    await expect(createWasmBackend({ variant: 'simd-threads', threads: 2.5 })).rejects.toThrow(/integer from 1 to 64, got 2.5/);
  });

  for (const [spec, batch, name] of [[bigSpec, 128, 'big, batch 128'], [bigSpec, 33, 'big, batch 33'], [smallSpec, 5, 'small, batch 5']] as const) {
    it(`training is bit-identical to simd and across 1/2/3 threads (${name}, with statistics)`, async () => {
      const simd = train(await load({ variant: 'simd' }), spec, batch, 6, true);
      for (const threads of [1, 2, 3]) {
        const t = train(await load({ variant: 'simd-threads', threads }), spec, batch, 6, true);
        expect(t.losses).toEqual(simd.losses);
        expect(t.statWords).toEqual(simd.statWords);
        // Compare bits: toEqual on Float32Array would accept -0 vs +0 differently from NaN payloads.
        expect(new Uint32Array(t.params.buffer)).toEqual(new Uint32Array(simd.params.buffer));
      }
      expect(simd.losses.every(Number.isFinite)).toBe(true);
    }, 120_000);
  }

  it('GEMM sweep: every shape, transposition, alpha/beta and padded ldc is bit-identical to the simd build, with the parallel path forced', async () => {
    const ref = await load({ variant: 'simd' });
    const thr = [await load({ variant: 'simd-threads', threads: 2 }), await load({ variant: 'simd-threads', threads: 3 })];
    // With force on, every product with more than one column block runs on the pool, so small
    // odd shapes (not multiples of 4, 8 or the column block) cross the block seams too.
    for (const b of thr) (b.kernel.exports as unknown as { gg_pool_force_parallel(on: number): void }).gg_pool_force_parallel(1);
    const rng = new Rng(5);
    const sizes = [1, 7, 33, 130, 257];
    let checked = 0;
    for (const m of sizes) for (const n of [1, 9, 40, 130, 257, 600]) for (const k of [1, 13, 401]) {
      const ta = rng.uniform() < 0.5, tb = rng.uniform() < 0.5;
      const beta = [0, 1, 0.5][checked % 3], alpha = checked % 4 === 0 ? -0.75 : 1;
      const ldc = n + (checked % 2) * 3;
      const A = Float32Array.from({ length: m * k }, () => 2 * rng.uniform() - 1);
      const B = Float32Array.from({ length: k * n }, () => 2 * rng.uniform() - 1);
      const C = Float32Array.from({ length: m * ldc }, () => 2 * rng.uniform() - 1);
      const run = (bk: WasmBackend): Uint32Array => {
        const K = bk.kernel;
        const pa = K.alloc(A.byteLength), pb = K.alloc(B.byteLength), pc = K.alloc(C.byteLength);
        K.f32.set(A, pa >> 2); K.f32.set(B, pb >> 2); K.f32.set(C, pc >> 2);
        K.sgemm(ta, tb, m, n, k, alpha, pa, ta ? m : k, pb, tb ? k : n, beta, pc, ldc);
        const out = new Uint32Array(K.u32.slice(pc >> 2, (pc >> 2) + m * ldc));
        K.free(pa, A.byteLength); K.free(pb, B.byteLength); K.free(pc, C.byteLength);
        return out;
      };
      const want = run(ref);
      for (const b of thr) {
        const got = run(b);
        if (!want.every((w, i) => w === got[i])) {
          expect.fail(`sgemm ${ta ? 'T' : 'N'}${tb ? 'T' : 'N'} m=${m} n=${n} k=${k} alpha=${alpha} beta=${beta} ldc=${ldc} on ${b.threads} threads differs from simd`);
        }
      }
      checked++;
    }
    expect(checked).toBe(sizes.length * 6 * 3);
    for (const b of thr) (b.kernel.exports as unknown as { gg_pool_force_parallel(on: number): void }).gg_pool_force_parallel(0);
  }, 120_000);

  it('a disposed threaded backend refuses its models with DisposedError (no hang)', async () => {
    const b = await createWasmBackend({ variant: 'simd-threads', threads: 2 });
    const m = b.createModel(smallSpec);
    await b.dispose();
    expect(() => m.trainStep(new Float32Array(13), new Int32Array(1), 1)).toThrow(DisposedError);
  });
});

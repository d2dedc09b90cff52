// The simd-threads build (issue 4, item 3): a pool of worker threads inside the wasm kernel.
// Contract under test: results are bit-identical to the single-threaded simd build and across
// thread counts (the kernel partitions work by shape only and combines partial sums in a fixed
// order), so every comparison here is exact (toEqual on Float32Array bits), not a tolerance.
// The kernel's size thresholds keep MNIST-sized work on the calling thread (a hand-off to the
// pool costs ~80 µs), so the tests force the parallel paths (gg_pool_force_parallel) to run them
// on real worker threads at these sizes; the models have odd widths that do not divide the SIMD
// width or the column block.
import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { createWasmBackend, setThreadsNotice, threadsUnavailableReason, type WasmBackend } from '../ts/backend/wasm';
import type { ModelSpec } from '../ts/backend/types';
import { DisposedError, OptionError } from '../ts/errors';
import { adam, clsSpec, denseSpec, initModel } from './helpers/backend-model';
import { Rng } from '../ts/reference/rng';
import { ensureFreshDist, ROOT } from './browser/dist';
import { launchChromium } from './browser/harness';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';

/** Runs `node -e code` (ESM with --input-type=module) in a child; resolves with its exit code
 *  (null when it had to be killed at the bound), stdout and stderr. */
function runNode(code: string, esm: boolean, boundMs: number): Promise<{ code: number | null; out: string; err: string }> {
  const args = esm ? ['--input-type=module', '-e', code] : ['-e', code];
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: tmpdir(), timeout: boundMs, killSignal: 'SIGKILL' }, (e, out, err) => {
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, out, err });
    });
  });
}

/** A child program training a small model through the public API on simd-threads. */
const trainProgram = (gg: string, shutdown: boolean): string => `
  await gg.ready({ variant: 'simd-threads', threads: 2 });
  const b = gg.currentBackend();
  b.kernel.exports.gg_pool_force_parallel(1); // make the workers work, not just exist
  const d = gg.data.synthetic.blobs({ samples: 256, features: 40, classes: 3, seed: 3, spread: 1.5 });
  const m = gg.sequential({ seed: 1, layers: [
    gg.layers.dense({ inputShape: [40], units: 300, activation: 'relu' }),
    gg.layers.dense({ units: 3, activation: 'softmax' }) ] });
  m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const h = await m.fit(d.x, d.y, { epochs: 3, batchSize: 128, verbose: 0 });
  console.log(JSON.stringify({ name: b.name, threads: b.threads, loss: h.history.loss.at(-1) }));
  ${shutdown ? 'await gg.shutdown();' : '/* no shutdown: idle workers must not keep the process alive */'}
`.replaceAll('gg.', `${gg}.`);

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
/** More inputs than the GEMM's k-block (400): steps of ≤ 64 rows split this first layer by input
 *  features into 3 parts and leave its update running on the pool (model.rs, input_split_step). */
const wideInputSpec = denseSpec('sparse_categorical_crossentropy', [[803, 67, 'relu'], [67, 10, 'softmax']]);
/** Trains `steps` steps at `batch` on seeded random data; returns the parameters and losses. */
function train(backend: WasmBackend, spec: ModelSpec, batch: number, steps: number, stats: boolean) {
  const m = backend.createModel(spec);
  initModel(m, 7);
  m.setOptimizer(adam(0.001));
  m.setCollectStats(stats);
  const rng = new Rng(99);
  const inSize = spec.layers[0].inputSize;
  const classes = spec.layers[spec.layers.length - 1].units;
  const losses: number[] = [];
  const statWords: number[] = [];
  // All batches first, so that each step's batch is staged right as the last step returns.
  const data = Array.from({ length: steps }, () => ({
    x: Float32Array.from({ length: batch * inSize }, () => 2 * rng.uniform() - 1),
    y: Int32Array.from({ length: batch }, () => Math.floor(rng.uniform() * classes)),
  }));
  for (const { x, y } of data) {
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

/** A model of `spec` (initModel seed `init`, Adam at `lr`) and one batch of `batch` rows of
 *  seeded random data (x uniform in [-1, 1), class labels). */
function modelAndBatch(b: WasmBackend, spec: ModelSpec, batch: number, init: number, lr: number, seed: number) {
  const m = b.createModel(spec);
  initModel(m, init);
  m.setOptimizer(adam(lr));
  const rng = new Rng(seed);
  const classes = spec.layers[spec.layers.length - 1].units;
  const x = Float32Array.from({ length: batch * spec.layers[0].inputSize }, () => 2 * rng.uniform() - 1);
  const y = Int32Array.from({ length: batch }, () => Math.floor(rng.uniform() * classes));
  return { m, x, y };
}

/** Runs every parallel pass of this threaded backend on its pool whatever the size (or not). */
const force = (b: WasmBackend, on: boolean): void =>
  (b.kernel.exports as unknown as { gg_pool_force_parallel(on: number): void }).gg_pool_force_parallel(on ? 1 : 0);

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

  // Batches over 64 rows are split into row chunks (128: 2, 131: 3) run on the pool; 128 runs
  // with the measured thresholds, the others with every parallel path forced. Batches of ≤ 64
  // rows with more than 400 inputs split the first layer by inputs; each step's x is new, so a
  // deferred update reading the step's x while the next batch is staged over it would show here.
  for (const [spec, batch, name, forced] of [[bigSpec, 128, 'big, batch 128, real thresholds', false],
    [bigSpec, 131, 'big, batch 131', true], [bigSpec, 33, 'big, batch 33', true], [clsSpec, 5, 'small, batch 5', true],
    [wideInputSpec, 64, 'wide input, batch 64, real thresholds', false], [wideInputSpec, 7, 'wide input, batch 7', true]] as const) {
    // Without statistics the optimizer update takes the flat (parallel) path; with them, the
    // per-tensor path that also reduces the statistics.
    it(`training is bit-identical to simd and across 1/2/3 threads (${name}, without and with statistics)`, async () => {
      const simdB = await load({ variant: 'simd' });
      const thr = [await load({ variant: 'simd-threads', threads: 1 }), await load({ variant: 'simd-threads', threads: 2 }), await load({ variant: 'simd-threads', threads: 3 })];
      for (const b of thr) force(b, forced);
      for (const stats of [false, true]) {
        const simd = train(simdB, spec, batch, 6, stats);
        for (const b of thr) {
          const t = train(b, spec, batch, 6, stats);
          expect(t.losses).toEqual(simd.losses);
          expect(t.statWords).toEqual(simd.statWords);
          // Compare bits: toEqual on Float32Array would accept -0 vs +0 differently from NaN payloads.
          expect(new Uint32Array(t.params.buffer)).toEqual(new Uint32Array(simd.params.buffer));
        }
        expect(simd.losses.every(Number.isFinite)).toBe(true);
        if (stats) expect(simd.statWords.length).toBeGreaterThan(0);
      }
      for (const b of thr) force(b, false);
    }, 120_000);
  }

  it('GEMM sweep: every shape, transposition, alpha/beta and padded ldc is bit-identical to the simd build, with the parallel path forced', async () => {
    const ref = await load({ variant: 'simd' });
    const thr = [await load({ variant: 'simd-threads', threads: 2 }), await load({ variant: 'simd-threads', threads: 3 })];
    // With force on, every product with more than one column block runs on the pool, so small
    // odd shapes (not multiples of 4, 8 or the column block) cross the block seams too.
    for (const b of thr) force(b, true);
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
    for (const b of thr) force(b, false);
  }, 120_000);

  // Correctness, not timing: a process whose workers kept it alive never exits, so the bound
  // (60 s, far above the ~2 s this takes) only turns a hang into a failure instead of a stuck run.
  it('a Node process that trained on simd-threads exits by itself with code 0 (ESM dist, no shutdown)', async () => {
    const dist = await ensureFreshDist('index.js');
    const r = await runNode(`import * as gg from ${JSON.stringify(dist)};\n${trainProgram('gg', false)}`, true, 60_000);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const res = JSON.parse(r.out.trim().split('\n').at(-1)!);
    expect(res).toMatchObject({ name: 'wasm-simd-threads', threads: 2 });
    expect(Number.isFinite(res.loss)).toBe(true);
  }, 120_000);

  it('... and from CommonJS dist/index.cjs with gg.shutdown()', async () => {
    await ensureFreshDist('index.cjs');
    const cjs = `${ROOT}/dist/index.cjs`;
    const r = await runNode(`const gg = require(${JSON.stringify(cjs)});\n(async () => {${trainProgram('gg', true)}})();`, false, 60_000);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out.trim().split('\n').at(-1)!)).toMatchObject({ name: 'wasm-simd-threads', threads: 2 });
  }, 120_000);

  it('without SharedArrayBuffer, simd-threads falls back to simd with a one-line notice naming the cause', async () => {
    // Simulated as browsers without cross-origin isolation are: the global is absent.
    const sab = Object.getOwnPropertyDescriptor(globalThis, 'SharedArrayBuffer')!;
    const notices: string[] = [];
    const old = setThreadsNotice((m) => notices.push(m));
    try {
      // @ts-expect-error: deleting a global for the simulation
      delete globalThis.SharedArrayBuffer;
      expect(threadsUnavailableReason()).toMatch(/SharedArrayBuffer is not available/);
      const b = await load({ variant: 'simd-threads', threads: 2 });
      expect(b.name).toBe('wasm-simd');
      expect(b.threads).toBe(1);
      // 'auto' with threads asked for also stays on simd, silently (threads were a wish, not a demand).
      const a = await load({ threads: 2 });
      expect(a.name).toBe('wasm-simd');
    } finally {
      Object.defineProperty(globalThis, 'SharedArrayBuffer', sab);
      setThreadsNotice(old);
    }
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/^gradguard: using the single-threaded 'simd' kernel instead of 'simd-threads': SharedArrayBuffer is not available/);
    expect(notices[0]).not.toContain('\n');
    // And with it back, 'auto' + threads: 2 picks the threaded build.
    const t = await load({ threads: 2 });
    expect(t.name).toBe('wasm-simd-threads');
    expect(t.threads).toBe(2);
  });

  it('a browser main thread (window defined) is refused with its cause', () => {
    const g = globalThis as { window?: unknown; crossOriginIsolated?: boolean };
    try {
      g.window = {};
      g.crossOriginIsolated = false;
      expect(threadsUnavailableReason()).toMatch(/not cross-origin isolated/);
      g.crossOriginIsolated = true;
      expect(threadsUnavailableReason()).toMatch(/main thread may not block; train inside a Web Worker/);
    } finally {
      delete g.window;
      delete g.crossOriginIsolated;
    }
    expect(threadsUnavailableReason()).toBeNull();
  });

  // A split step without statistics, clipping or constraints returns while the workers still run
  // its optimizer update (docs/abi.md, "Deferred update"). Every read must see the finished step:
  // the model is wide (~620k parameters, an update of ~1 ms on one worker), so a read that did not
  // wait would catch it half done (checked: without the wait in the exports this test fails).
  it('a deferred update is finished before any read: params, grads, optimizer state, predict, evaluate, sgemm, dispose', async () => {
    const wide = denseSpec('sparse_categorical_crossentropy', [[301, 2003, 'relu'], [2003, 10, 'softmax']]);
    const batch = 131; // 3 row chunks
    const run = (b: WasmBackend) => {
      const { m, x, y } = modelAndBatch(b, wide, batch, 3, 0.01, 5);
      const bits = (f: Float32Array) => Array.from(new Uint32Array(f.buffer, f.byteOffset, f.length));
      const reads: Record<string, number[]> = {};
      const step = () => { m.trainStep(x, y, batch); return m.lastCorrect(); };
      reads.correct = [step()];
      reads.params = bits(m.getParams());
      step();
      reads.grads = bits(m.getGrads());
      step();
      reads.slots = bits(m.getOptimizerState().slots);
      step();
      reads.predict = bits(m.predict(x.subarray(0, 7 * 301), 7));
      step();
      const e = m.evaluate(x, y, batch);
      reads.evaluate = [e.lossSum, e.correct];
      step();
      // sgemm over the first layer's W (301 × 2003) read in place: W·1 per row, i.e. its row sums
      const k = b.kernel;
      const w = m.layout[0];
      const ones = k.alloc(4 * 2003), out = k.alloc(4 * 301);
      k.f32.fill(1, ones >>> 2, (ones >>> 2) + 2003);
      const pp = k.exports.gg_model_params(m.handle) >>> 0;
      step();
      k.exports.gg_sgemm(0, 0, 301, 1, 2003, 1, pp + 4 * w.wOffset, 2003, ones, 1, 0, out, 1);
      reads.sgemm = bits(k.f32.slice(out >>> 2, (out >>> 2) + 301));
      k.free(ones, 4 * 2003);
      k.free(out, 4 * 301);
      return { m, reads };
    };
    const simd = run(await load({ variant: 'simd' }));
    const tb = await createWasmBackend({ variant: 'simd-threads', threads: 2 });
    const thr = run(tb);
    // first differing index per read (-1: all equal); a deep diff of 620k numbers would take minutes
    const differs = (a: number[], b: number[]) => (a.length !== b.length ? -2 : a.findIndex((v, i) => v !== b[i]));
    for (const key of Object.keys(simd.reads)) expect(differs(thr.reads[key], simd.reads[key]), key).toBe(-1);
    // A step, then the backend's disposal at once, then the model's: no hang, nothing trapped.
    thr.m.trainStep(new Float32Array(batch * 301).fill(0.5), new Int32Array(batch), batch);
    await tb.dispose();
    thr.m.dispose();
    simd.m.dispose();
  }, 120_000);

  it('no allocation per step on the split, deferred path: memory stays put over 200 steps at batch 131 on 2 threads', async () => {
    const b = await load({ variant: 'simd-threads', threads: 2 });
    const { m, x, y } = modelAndBatch(b, bigSpec, 131, 4, 0.001, 8);
    // Warm-up: the workspace, gradient copies and buffers are sized by the first step, but each
    // thread's GEMM packing buffers only when that thread first runs a chunk (a helper that was
    // asleep may join a few steps late: seen growing memory by 5 pages after a 1-step warm-up).
    for (let i = 0; i < 30; i++) m.trainStep(x, y, 131);
    const bytes = b.kernel.memoryBytes, ptrs = m.bufferPointers;
    for (let i = 0; i < 200; i++) m.trainStep(x, y, 131);
    expect(m.getParams().every(Number.isFinite)).toBe(true);
    expect(b.kernel.memoryBytes).toBe(bytes);
    expect(m.bufferPointers).toEqual(ptrs);
    m.dispose();
  }, 120_000);

  it('poolActivity counts the parallel passes and their chunks (all 0 without a pool)', async () => {
    const run = async (variant: 'simd' | 'simd-threads') => {
      const b = await load(variant === 'simd' ? { variant } : { variant, threads: 2 });
      const { m, x, y } = modelAndBatch(b, bigSpec, 128, 4, 0.001, 9);
      const a0 = b.poolActivity;
      for (let i = 0; i < 20; i++) m.trainStep(x, y, 128);
      m.getParams(); // completes the last step's deferred update
      const a1 = b.poolActivity;
      m.dispose();
      return { passes: a1.passes - a0.passes, chunks: a1.callerChunks + a1.workerChunks - a0.callerChunks - a0.workerChunks,
        without: a1.passesWithoutWorker - a0.passesWithoutWorker };
    };
    // batch 128 on 2 threads: every step is a row split of 2 chunks (one pass) and a deferred
    // update; each pass has at least 2 chunks
    const t = await run('simd-threads');
    expect(t.passes).toBeGreaterThanOrEqual(20);
    expect(t.chunks).toBeGreaterThanOrEqual(2 * t.passes);
    expect(t.without).toBeLessThanOrEqual(t.passes);
    expect(await run('simd')).toEqual({ passes: 0, chunks: 0, without: 0 });
  }, 60_000);

  it('a disposed threaded backend refuses its models with DisposedError (no hang)', async () => {
    const b = await createWasmBackend({ variant: 'simd-threads', threads: 2 });
    const m = b.createModel(clsSpec);
    await b.dispose();
    expect(() => m.trainStep(new Float32Array(13), new Int32Array(1), 1)).toThrow(DisposedError);
  });
});

// The browser path: Chromium, a cross-origin isolated page (COOP/COEP headers), the package's
// own layout (dist/index.js fetches ../wasm/gradguard-simd-threads.wasm and starts
// dist/wasm-worker.js as module Workers). Training runs inside a Web Worker (a page's main
// thread may not block); the page's main thread asks for simd-threads too and must get simd
// with the one-line notice.
const PAGE = `<!doctype html><script type="module">
const seen = [];
const origWarn = console.warn; console.warn = (m) => { seen.push(String(m)); origWarn(m); };
const gg = await import('/dist/index.js');
const main = await gg.createWasmBackend({ variant: 'simd-threads', threads: 2 });
const w = new Worker('/threads-trainer.js', { type: 'module' });
w.onmessage = (e) => { window.result = { isolated: crossOriginIsolated, mainName: main.name, notices: seen, worker: e.data }; };
w.onerror = (e) => { window.result = { error: e.message }; };
</script>`;
const TRAINER = `
import * as gg from '/dist/index.js';
const spec = ${JSON.stringify(bigSpec)};
const opt = ${JSON.stringify(adam(0.001))};
function train(b) {
  const m = b.createModel(spec);
  m.layout.forEach((l, i) => m.initTensor(l.wOffset, l.wLength, 'glorot_uniform', spec.layers[i].inputSize, spec.layers[i].units, 0, 5 + i));
  m.setOptimizer(opt);
  let s = 1;
  const rnd = () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return (s >>> 8) / 16777216 - 0.5; };
  for (let t = 0; t < 3; t++) {
    const x = Float32Array.from({ length: 128 * 301 }, rnd), y = Int32Array.from({ length: 128 }, (_, i) => i % 10);
    m.trainStep(x, y, 128);
  }
  return new Uint32Array(m.getParams().buffer);
}
try {
  const t = await gg.createWasmBackend({ variant: 'simd-threads', threads: 2 });
  t.kernel.exports.gg_pool_force_parallel(1); // MNIST-sized passes would stay on one thread
  const s = await gg.createWasmBackend({ variant: 'simd' });
  const a = train(t), b = train(s);
  postMessage({ name: t.name, threads: t.threads, n: a.length, same: a.length === b.length && a.every((v, i) => v === b[i]) });
  await t.dispose();
} catch (e) { postMessage({ error: String(e && e.message || e) }); }
`;

describe('simd-threads in Chromium (cross-origin isolated page, training in a Web Worker)', () => {
  it('trains on 2 worker threads bit-identically to simd; the main thread falls back with a notice', async () => {
    await ensureFreshDist('index.js');
    await ensureFreshDist('wasm-worker.js');
    const server = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      const headers = {
        'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp', 'cache-control': 'no-store',
      };
      if (path === '/') { res.writeHead(200, { ...headers, 'content-type': 'text/html' }).end(PAGE); return; }
      if (path === '/threads-trainer.js') { res.writeHead(200, { ...headers, 'content-type': 'text/javascript' }).end(TRAINER); return; }
      const file = normalize(join(ROOT, path));
      if (!file.startsWith(ROOT + sep)) { res.writeHead(403).end(); return; }
      const type = extname(file) === '.wasm' ? 'application/wasm' : extname(file) === '.js' ? 'text/javascript' : 'application/octet-stream';
      readFile(file).then((b) => res.writeHead(200, { ...headers, 'content-type': type }).end(b), () => res.writeHead(404).end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.waitForFunction(() => (window as { result?: unknown }).result !== undefined, undefined, { timeout: 90_000 });
      const result = await page.evaluate(() => (window as unknown as { result: unknown }).result);
      expect(errors).toEqual([]);
      expect(result).toMatchObject({
        isolated: true,
        mainName: 'wasm-simd',
        worker: { name: 'wasm-simd-threads', threads: 2, same: true },
      });
      const r = result as { notices: string[]; worker: { n: number } };
      expect(r.worker.n).toBeGreaterThan(100_000);
      expect(r.notices.filter((m) => m.includes("instead of 'simd-threads'"))).toHaveLength(1);
      expect(r.notices.find((m) => m.includes("instead of 'simd-threads'"))).toMatch(/main thread may not block/);
    } finally {
      await browser.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
  }, 180_000);
});

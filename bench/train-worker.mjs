// One training-throughput measurement: one contender, one batch size, in a fresh process.
// bench/train.mjs starts this script once per (repetition, batch size, contender), so that one
// contender's heap, JIT state and wasm memory never affect another's timings or peak RSS.
//
//   node bench/train-worker.mjs --contender tfjs-wasm --batch 32 [--steps 0] [--warmup 10] [--eval]
//
// --steps 0 (default) times one full epoch of the 60,000 training images; --steps N times an
// epoch over the first N·batch images only (same code path, smaller set) and the rate is then
// an extrapolation to the full epoch. --warmup W first fits W batches (untimed) on the same
// model so that lazy kernel compilation / JIT tiers are not billed to the timed epoch.
// --eval evaluates the trained model on the 10,000 test images (untimed).
//
// Output: one line `@@RESULT {json}` on stdout (everything else a library prints is noise the
// parent ignores), or `@@SKIP {"reason": …}` when the contender does not exist in this build. Fields: contender, batch, samples, steps, fitMs, samplesPerSec, trainAcc,
// trainLoss, testAcc, testLoss, maxRssMB, loadMs, setupMs, info.

import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { loadMnistIdx } from './train-mnist.mjs';
import { CLASSES, HIDDEN, LEARNING_RATE, gradguardSeedModel } from './seed-model.mjs';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------- TensorFlow.js (layers API)
// tf.sequential / model.fit live in @tensorflow/tfjs-layers, not in tfjs-core, so the
// benchmark uses tfjs-layers 4.22.0 on top of tfjs-core 4.22.0 and the chosen backend: the
// way a TF.js user trains this model. All four packages are loaded through require() so that
// they share one tfjs-core instance (their Node entry points are CommonJS).
async function tfjsContender(backendName) {
  const tf = require('@tensorflow/tfjs-core');
  if (backendName === 'wasm') require('@tensorflow/tfjs-backend-wasm');
  else if (backendName === 'cpu') require('@tensorflow/tfjs-backend-cpu');
  else throw new Error(`unknown TF.js backend '${backendName}'`);
  const tfl = require('@tensorflow/tfjs-layers');
  const ok = await tf.setBackend(backendName);
  if (!ok || tf.getBackend() !== backendName) throw new Error(`TF.js backend '${backendName}' did not initialise`);
  await tf.ready();

  const info = {
    library: `@tensorflow/tfjs-core ${tf.version_core}, tfjs-layers ${tfl.version_layers}`,
    backend: backendName,
  };
  if (backendName === 'wasm') {
    // What XNNPACK was given: SIMD yes; threads are off in Node by default (issue 4 notes that
    // forcing them on makes training slower), so the default is what we compare against.
    info.wasmSimd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    info.wasmThreads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  }

  let model;
  const tensors = [];
  const keep = (t) => (tensors.push(t), t);
  let all;
  return {
    info,
    setup(data) {
      model = tfl.sequential({
        layers: [
          tfl.layers.dense({ inputShape: [784], units: HIDDEN, activation: 'relu' }),
          tfl.layers.dense({ units: HIDDEN, activation: 'relu' }),
          tfl.layers.dense({ units: CLASSES, activation: 'softmax' }),
        ],
      });
      model.compile({
        optimizer: tf.train.adam(LEARNING_RATE),
        loss: 'sparseCategoricalCrossentropy',
        metrics: ['accuracy'],
      });
      // Targets are (n, 1): tfjs-layers expects sparse labels with a trailing axis of 1.
      all = {
        x: keep(tf.tensor2d(data.train.x, [data.train.n, 784])),
        y: keep(tf.tensor2d(data.train.y, [data.train.n, 1], 'float32')),
      };
    },
    // The first `count` training samples, as the contender's native input (prepared untimed).
    subset(count) {
      if (count === all.x.shape[0]) return all;
      // tf.slice, not t.slice(): chained tensor methods are only registered by the `tfjs` bundle.
      return { x: keep(tf.slice(all.x, [0, 0], [count, 784])), y: keep(tf.slice(all.y, [0, 0], [count, 1])) };
    },
    async fit(set, batchSize, shuffle) {
      const h = await model.fit(set.x, set.y, { epochs: 1, batchSize, shuffle, verbose: 0 });
      const last = (k) => (h.history[k] ? Number(h.history[k].at(-1)) : null);
      return { loss: last('loss'), acc: last('acc') ?? last('accuracy') };
    },
    async evaluate(data) {
      const x = tf.tensor2d(data.test.x, [data.test.n, 784]);
      const y = tf.tensor2d(data.test.y, [data.test.n, 1], 'float32');
      const out = model.evaluate(x, y, { batchSize: 1000 });
      const [loss, acc] = await Promise.all(out.map((t) => t.data()));
      tf.dispose([x, y, out]);
      return { loss: loss[0], acc: acc[0] };
    },
    dispose() {
      tf.dispose(tensors);
      model.dispose();
    },
  };
}

// ---------------------------------------------------------------- gradguard (the built package)
// Loads ../dist/index.js (built by `npm install` → prepare → tsup). `variant` is a wasm build
// name (simd, scalar, simd-threads, relaxed-simd) passed to gg.ready(). `statsEvery` > 0 makes
// fit() collect the per-layer gradient-health statistics every that many steps (issue 3 wants
// their cost measured: ≤ 5% of step time at every step, negligible at every 16).
// `threads` (simd-threads only; 0 = the package's default, os.availableParallelism()) is
// passed to gg.ready().
async function gradguardContender(variant, seed, statsEvery, threads) {
  const distIndex = join(here, '..', 'dist', 'index.js');
  const gg = await import(pathToFileURL(distIndex).href);
  try {
    await gg.ready({ variant, ...(threads ? { threads } : {}) });
  } catch (e) {
    // A wasm file can exist before the package's ready() accepts its variant (builds land
    // before the loader learns them): that is "not benchmarkable yet", not a crash.
    if (e?.name === 'OptionError' && /variant/.test(e.message)) throw new SkipError(e.message);
    throw e;
  }
  const info = { library: `gradguard ${readVersion()}`, variant, statsEvery, threads: threads || null };
  let model;
  let all;
  return {
    info,
    setup(data) {
      model = gradguardSeedModel(gg, seed);
      all = { x: data.train.x, y: data.train.y, n: data.train.n };
    },
    subset(count) {
      if (count === all.n) return all;
      return { x: all.x.subarray(0, count * 784), y: all.y.subarray(0, count), n: count };
    },
    async fit(set, batchSize, shuffle) {
      const h = await model.fit(set.x, set.y, { epochs: 1, batchSize, shuffle, ...(statsEvery ? { statsEvery } : {}) });
      const hist = h?.history ?? {};
      const last = (k) => (hist[k] ? Number(hist[k].at(-1)) : null);
      return { loss: last('loss'), acc: last('accuracy') ?? last('acc') };
    },
    async evaluate(data) {
      const r = await model.evaluate(data.test.x, data.test.y);
      return { loss: r.loss, acc: r.accuracy };
    },
    async dispose() {
      model.dispose?.();
      await gg.shutdown?.(); // ends simd-threads workers
    },
  };
}

function readVersion() {
  return require(join(here, '..', 'package.json')).version;
}

// ---------------------------------------------------------------- main

/** The contender cannot run in this build (reported as `@@SKIP reason`, exit code 0). */
class SkipError extends Error {}

const CONTENDERS = {
  'tfjs-wasm': () => tfjsContender('wasm'),
  'tfjs-cpu': () => tfjsContender('cpu'),
};
// gradguard-<variant>[:<threads>][+stats<N>] for any variant name (the parent decides which
// builds exist); :<threads> sets the simd-threads pool size; +stats<N> collects
// gradient-health statistics every N steps.
const GG_ID = /^gradguard-([a-z0-9-]+?)(?::(\d+))?(?:\+stats(\d+))?$/;
function makeContender(id, seed) {
  if (CONTENDERS[id]) return CONTENDERS[id]();
  const m = GG_ID.exec(id);
  if (m) return gradguardContender(m[1], seed, Number(m[3] ?? 0), Number(m[2] ?? 0));
  throw new Error(`unknown contender '${id}' (expected tfjs-wasm, tfjs-cpu or gradguard-<variant>[:<threads>][+stats<N>])`);
}

async function main() {
  const { values } = parseArgs({
    options: {
      contender: { type: 'string' },
      batch: { type: 'string', default: '32' },
      steps: { type: 'string', default: '0' },
      warmup: { type: 'string', default: '10' },
      eval: { type: 'boolean', default: false },
      seed: { type: 'string', default: '42' },
    },
  });
  const batch = Number(values.batch);
  const steps = Number(values.steps);
  const warmup = Number(values.warmup);
  for (const [k, v] of Object.entries({ batch, steps, warmup })) {
    if (!Number.isInteger(v) || v < 0 || (k === 'batch' && v === 0)) {
      throw new Error(`--${k}: expected a non-negative integer${k === 'batch' ? ' ≥ 1' : ''}, got '${values[k]}'`);
    }
  }

  // A --steps run only needs the images it trains on (warm-up and timed sets are both
  // prefixes of the training set), so it loads just those.
  let t0 = performance.now();
  const needed = steps === 0 ? Infinity : Math.max(steps, warmup) * batch;
  const data = loadMnistIdx({ trainLimit: needed, withTest: values.eval });
  const loadMs = performance.now() - t0;

  t0 = performance.now();
  const c = await makeContender(values.contender, Number(values.seed));
  c.setup(data);
  const samples = steps === 0 ? data.train.n : Math.min(steps * batch, data.train.n);
  const timedSet = c.subset(samples);
  const warmSet = warmup > 0 ? c.subset(Math.min(warmup * batch, data.train.n)) : null;
  const setupMs = performance.now() - t0;

  if (warmSet) await c.fit(warmSet, batch, false);

  // The timed region: exactly one user-level fit() call over `samples` images, shuffled.
  t0 = performance.now();
  const fitResult = await c.fit(timedSet, batch, true);
  const fitMs = performance.now() - t0;

  let test = { loss: null, acc: null };
  if (values.eval) test = await c.evaluate(data);
  await c.dispose();

  const result = {
    contender: values.contender,
    batch,
    samples,
    steps: Math.ceil(samples / batch),
    fullEpoch: steps === 0,
    warmupSteps: warmup,
    fitMs,
    samplesPerSec: samples / (fitMs / 1000),
    trainLoss: fitResult.loss,
    trainAcc: fitResult.acc,
    testLoss: test.loss,
    testAcc: test.acc,
    // resourceUsage().maxRSS is in kilobytes (getrusage ru_maxrss on Linux).
    maxRssMB: process.resourceUsage().maxRSS / 1024,
    loadMs,
    setupMs,
    info: c.info,
  };
  process.stdout.write(`@@RESULT ${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (err) => {
    if (err instanceof SkipError) {
      process.stdout.write(`@@SKIP ${JSON.stringify({ reason: err.message })}\n`);
      process.exit(0);
    }
    process.stderr.write(`train-worker: ${err?.stack ?? err}\n`);
    process.exit(1);
  },
);

// Runs in headless Chromium (test/browser.test.ts): the ESM build from dist/, the wasm kernel
// fetched by the loader's browser path, a tiny model trained on synthetic data. The outcome goes
// to window.__smoke = { ok, ... } for the test to read; errors are reported, never thrown away.
import * as gg from '/dist/index.js';

async function run() {
  const r = {};
  // Default lookup: dist/index.js fetches ../wasm/gradguard-<variant>.wasm next to itself.
  const backend = await gg.ready();
  r.backend = backend.name;

  // Gaussian blobs: 5 features, 3 classes, 96 samples (a learnable task; odd sizes on purpose).
  const d = gg.data.blobs({ samples: 96, features: 5, classes: 3, seed: 3 });
  const model = gg.sequential({
    seed: 1,
    layers: [
      gg.layers.dense({ inputShape: [5], units: 7, activation: 'relu' }),
      gg.layers.dense({ units: 3, activation: 'softmax' }),
    ],
  });
  model.compile({ optimizer: gg.optimizers.adam({ learningRate: 0.02 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const stepLosses = [];
  const history = await model.fit({ data: d.x, shape: [d.count, d.features] }, d.y, {
    epochs: 8, batchSize: 16,
    callbacks: { onBatchEnd: (_b, logs) => { stepLosses.push(logs.loss); } },
  });
  r.epochLosses = history.history.loss;
  r.steps = stepLosses.length;
  r.accuracy = model.evaluate({ data: d.x, shape: [d.count, d.features] }, d.y).accuracy;
  model.dispose();

  // The user override: a URL prefix, here for the scalar build.
  const scalar = await gg.createWasmBackend({ variant: 'scalar', wasmPath: '/wasm/' });
  r.overrideBackend = scalar.name;
  r.overrideSource = scalar.source;

  // A wrong prefix must give the actionable error (URL tried, HTTP status, what to do).
  try {
    await gg.createWasmBackend({ variant: 'simd', wasmPath: '/no-such-dir/' });
    r.missingError = null;
  } catch (e) {
    r.missingError = { name: e.name, message: e.message };
  }
  return r;
}

run().then(
  (r) => { window.__smoke = { ok: true, ...r }; },
  (e) => { window.__smoke = { ok: false, error: `${e?.name}: ${e?.message}\n${e?.stack ?? ''}` }; },
);

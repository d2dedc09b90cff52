// Bad input: one test per error, each asserting the error's type and message, that the failed
// call left the model as it was (weights unchanged), and that the model still trains correctly
// afterwards (its loss falls).
//
// Runs on the reference backend (the checks are in TypeScript, before any backend call), plus
// the wasm-specific cases at the end on the wasm backend (nothing may reach the kernel unchecked).

import { describe, expect, test } from 'vitest';
import * as gg from '../ts/index.js';

const data = gg.data.synthetic.blobs({ samples: 120, features: 4, classes: 3, seed: 2, spread: 1 });

function model(backend: gg.Backend = new gg.ReferenceBackend()): gg.Sequential {
  const m = gg.sequential({ seed: 1, backend, layers: [
    gg.layers.dense({ inputShape: [4], units: 8, activation: 'relu' }),
    gg.layers.dense({ units: 3, activation: 'softmax' }),
  ] });
  m.compile({ optimizer: gg.optimizers.adam({ learningRate: 0.02 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return m;
}

const flat = (m: gg.Sequential): number[] => m.getWeights().flatMap((w) => Array.from(w.data));

/** Asserts `fn` throws `type` with a message matching `msg`, leaves the weights alone, and that the model then trains. */
async function expectError(m: gg.Sequential, fn: () => unknown, type: new (...a: never[]) => Error, msg: RegExp): Promise<void> {
  const before = flat(m);
  let err: unknown;
  try { await fn(); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(type);
  expect(err).toBeInstanceOf(gg.GradguardError);
  expect((err as Error).message).toMatch(msg);
  expect((err as Error).name).toBe(type.name);
  expect(flat(m)).toEqual(before);
  await expectTrains(m);
}

async function expectTrains(m: gg.Sequential): Promise<void> {
  const h = await m.fit(data.x, data.y, { epochs: 4, batchSize: 16 });
  expect(h.history.loss[3]).toBeLessThan(h.history.loss[0]);
  expect(Number.isFinite(h.history.loss[3])).toBe(true);
}

describe('BackendError', () => {
  // Must run before any gg.ready() in this file: no default backend is loaded yet.
  test('compile before gg.ready() and without a backend says to call ready()', () => {
    const m = gg.sequential({ layers: [gg.layers.dense({ inputShape: [4], units: 3 })] });
    expect(() => m.compile({ loss: 'mse', optimizer: 'sgd' })).toThrow(gg.BackendError);
    expect(() => m.compile({ loss: 'mse', optimizer: 'sgd' })).toThrow(/call `await gg.ready\(\)` first/);
    expect(m.isCompiled).toBe(false);
  });

  test('a wasm file that cannot be found is a BackendError naming the path', async () => {
    const err = await gg.ready({ wasmPath: '/nonexistent/dir/' }).catch((e) => e);
    expect(err).toBeInstanceOf(gg.BackendError);
    expect(err.message).toMatch(/\/nonexistent\/dir/);
  });

  test('a backend whose createModel fails is a BackendError; the model stays uncompiled and can compile later', async () => {
    const broken: gg.Backend = { name: 'broken', createModel() { throw new Error('out of memory'); } };
    const m = gg.sequential({ backend: broken, layers: [gg.layers.dense({ inputShape: [4], units: 3, activation: 'softmax' })] });
    expect(() => m.compile({ loss: 'sparseCategoricalCrossentropy' })).toThrow(/the broken backend could not create the model: out of memory/);
    expect(m.isCompiled).toBe(false);
    await gg.ready({ backend: 'reference' });
    const ok = model();
    await expectTrains(ok);
  });
});

describe('ShapeError', () => {
  test('x with the wrong number of features per sample', async () => {
    const m = model();
    const x = { data: new Float32Array(10 * 5), shape: [10, 5] };
    await expectError(m, () => m.fit(x, data.y.subarray(0, 10)), gg.ShapeError,
      /^fit: x has 5 features per sample but the model's input size is 4$/);
  });

  test('a flat x whose length is not a multiple of the input size', async () => {
    const m = model();
    await expectError(m, () => m.predict(new Float32Array(10)), gg.ShapeError,
      /^predict: x has length 10, which is not a multiple of the model's input size 4/);
  });

  test('x and y with different sample counts', async () => {
    const m = model();
    await expectError(m, () => m.fit(data.x, data.y.subarray(0, 100)), gg.ShapeError,
      /^fit: x has 120 samples but y has 100$/);
  });

  test('nested x with a short row', async () => {
    const m = model();
    await expectError(m, () => m.evaluate([[1, 2, 3, 4], [1, 2, 3]], [0, 1]), gg.ShapeError,
      /^evaluate: x has 3 features per sample \(at sample 1\) but the model's input size is 4$/);
  });

  test('one-hot labels given to sparse categorical cross-entropy', async () => {
    const m = model();
    await expectError(m, () => m.fit(data.x, gg.data.oneHot(data.y, 3)), gg.ShapeError,
      /x has 120 samples but y has 360 \(y looks one-hot: use loss 'categoricalCrossentropy' or pass class ids\)/);
  });

  test('setWeights with a tensor of the wrong length', async () => {
    const m = model();
    const w = m.getWeights();
    w[2] = { ...w[2], data: new Float32Array(5), shape: [5] };
    await expectError(m, () => m.setWeights(w), gg.ShapeError,
      /^setWeights: weights\[2\] \(dense_1\/kernel\) has shape \[5\] but the model expects \[8, 3\]$/);
  });

  test('a layer whose inputShape does not match the previous output', () => {
    const m = gg.sequential({ layers: [gg.layers.dense({ inputShape: [4], units: 8 })] });
    expect(() => m.add(gg.layers.dense({ inputShape: [7], units: 2 }))).toThrow(gg.ShapeError);
    expect(() => m.add(gg.layers.dense({ inputShape: [7], units: 2 }))).toThrow(/declares inputShape \[7\] but the previous layer outputs 8 values/);
    expect(m.layers).toHaveLength(1);
  });
});

describe('LabelError', () => {
  test('a label outside [0, classes)', async () => {
    const m = model();
    const y = Int32Array.from(data.y); y[17] = 3;
    await expectError(m, () => m.fit(data.x, y), gg.LabelError,
      /^fit: y\[17\] is 3 but labels must be integer class ids in \[0, 2\] \(the model has 3 output units\)$/);
  });

  test('a negative or fractional label', async () => {
    const m = model();
    const y = Array.from(data.y); y[3] = 1.5;
    await expectError(m, () => m.evaluate(data.x, y), gg.LabelError, /^evaluate: y\[3\] is 1.5 but labels must be integer class ids/);
    y[3] = -1;
    await expectError(m, () => m.fit(data.x, y), gg.LabelError, /^fit: y\[3\] is -1 but/);
  });

  test('a binary cross-entropy target outside [0, 1]', async () => {
    const m = gg.sequential({ seed: 1, backend: new gg.ReferenceBackend(), layers: [gg.layers.dense({ inputShape: [4], units: 1, activation: 'sigmoid' })] });
    m.compile({ optimizer: 'adam', loss: 'binary_crossentropy' });
    const t = Float32Array.from(data.y, (c) => (c === 0 ? 1 : 0));
    t[5] = 2;
    const before = flat(m);
    expect(() => m.evaluate(data.x, t)).toThrow(gg.LabelError);
    expect(() => m.evaluate(data.x, t)).toThrow(/^evaluate: y has 2 at sample 5; binaryCrossentropy targets must lie in \[0, 1\]$/);
    expect(flat(m)).toEqual(before);
    t[5] = 1;
    const h = await m.fit(data.x, t, { epochs: 5, batchSize: 16 });
    expect(h.history.loss[4]).toBeLessThan(h.history.loss[0]);
  });
});

describe('NonFiniteError', () => {
  test('NaN in x names the sample and feature', async () => {
    const m = model();
    const x = Float32Array.from(data.x); x[4 * 9 + 2] = NaN;
    await expectError(m, () => m.fit(x, data.y), gg.NonFiniteError, /^fit: x contains NaN at sample 9, feature 2; inputs must be finite numbers$/);
  });

  test('every non-finite kind is caught wherever it sits: first value, the 4-wide loop, the tail', async () => {
    // checkFinite sums v·0 four values at a time and then the length mod 4 tail (ts/data/tensor.ts)
    const { checkFinite } = await import('../ts/data/tensor.js');
    for (const cols of [1, 3, 7]) {
      const rows = 5, n = rows * cols;
      const ok = { data: Float32Array.from({ length: n }, (_, i) => i - 3.5), rows, cols };
      expect(() => checkFinite('t', 'x', ok)).not.toThrow();
      for (const bad of [NaN, Infinity, -Infinity]) {
        for (const at of [0, 1, n - 5, n - 2, n - 1].filter((i) => i >= 0)) {
          const d = Float32Array.from(ok.data); d[at] = bad;
          expect(() => checkFinite('t', 'x', { data: d, rows, cols }), `${bad} at ${at} of ${n}`)
            .toThrow(`t: x contains ${bad} at sample ${Math.floor(at / cols)}, ${cols > 1 ? `feature ${at % cols}` : 'value 0'}`);
        }
      }
    }
  });

  test('Infinity in regression targets', async () => {
    const m = gg.sequential({ seed: 1, backend: new gg.ReferenceBackend(), layers: [gg.layers.dense({ inputShape: [4], units: 1 })] });
    m.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const y = new Float32Array(120).fill(1); y[7] = -Infinity;
    const before = flat(m);
    await expect(m.fit(data.x, y)).rejects.toThrow(/^fit: y contains -Infinity at sample 7, value 0/);
    await expect(m.fit(data.x, y)).rejects.toBeInstanceOf(gg.NonFiniteError);
    expect(flat(m)).toEqual(before);
    y[7] = 1;
    const h = await m.fit(data.x, y, { epochs: 3 });
    expect(h.history.loss[2]).toBeLessThan(h.history.loss[0]);
  });

  test('NaN in setWeights', async () => {
    const m = model();
    const w = m.getWeights(); w[1].data[0] = NaN;
    await expectError(m, () => m.setWeights(w), gg.NonFiniteError, /^setWeights: weights\[1\] \(dense\/bias\) has NaN at index 0; weights must be finite numbers$/);
  });

  test('a loss that diverges to NaN/Inf: fit throws, restores the epoch-start weights, and training works again', async () => {
    const m = model();
    const start = flat(m);
    m.compile({ optimizer: gg.optimizers.sgd({ learningRate: 1e30 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const err = await m.fit(data.x, data.y, { epochs: 3, batchSize: 8 }).catch((e) => e);
    expect(err).toBeInstanceOf(gg.NonFiniteError);
    expect(err.message).toMatch(/^fit: the loss became (NaN|Infinity) at epoch 0, batch \d+ \(step \d+\); the weights were restored to the start of epoch 0/);
    expect(err.message).toMatch(/learning rate too high \(now 1e\+30\)/);
    expect(err.history.epoch).toEqual([]);
    expect(flat(m)).toEqual(start);
    m.compile({ optimizer: gg.optimizers.adam({ learningRate: 0.02 }), loss: 'sparseCategoricalCrossentropy' });
    await expectTrains(m);
  });

  test('finite inputs that overflow the network: predict and evaluate throw instead of returning NaN', async () => {
    // The wasm kernel computes in f32 (the reference in f64, where these values do not overflow).
    const m = model(await gg.createWasmBackend());
    // 3e38 is finite in f32, but summed over 4 inputs times weights it overflows to ±Infinity,
    // and Infinity − Infinity in the next layer gives NaN.
    const x = Float32Array.from(data.x); x.fill(3e38, 0, 4);
    await expectError(m, () => m.predict(x), gg.NonFiniteError, /^predict: the model's output is (NaN|-?Infinity) for sample 0 although the inputs are finite/);
    await expectError(m, () => m.evaluate(x, data.y), gg.NonFiniteError, /^evaluate: the loss is (NaN|Infinity) although the inputs are finite/);
  });

  test('terminateOnNaN stops training without throwing', async () => {
    const m = model();
    m.compile({ optimizer: gg.optimizers.sgd({ learningRate: 1e30 }), loss: 'sparseCategoricalCrossentropy' });
    const h = await m.fit(data.x, data.y, { epochs: 3, batchSize: 8, callbacks: [gg.callbacks.terminateOnNaN()] });
    expect(h.epoch.length).toBeLessThanOrEqual(1);
  });
});

describe('OptionError', () => {
  test('an unknown fit option names the likely intended one and the allowed list', async () => {
    const m = model();
    await expectError(m, () => m.fit(data.x, data.y, { epoch: 3 } as never), gg.OptionError,
      /^fit: unknown option 'epoch' \(did you mean 'epochs'\?\); allowed options: epochs, batchSize, shuffle, validationSplit/);
  });

  test('an unknown compile option', async () => {
    const m = model();
    await expectError(m, () => m.compile({ loss: 'mse', lr: 0.1 } as never), gg.OptionError,
      /^compile: unknown option 'lr'; allowed options: optimizer, loss, metrics$/);
  });

  test('a Keras snake_case option key on a layer', () => {
    expect(() => gg.layers.dense({ units: 3, kernel_initializer: 'he_normal' } as never)).toThrow(gg.OptionError);
    expect(() => gg.layers.dense({ units: 3, kernel_initializer: 'he_normal' } as never))
      .toThrow(/^layers\.dense: unknown option 'kernel_initializer' \(did you mean 'kernelInitializer'\?\)/);
  });

  test('a negative learning rate, also when set later', async () => {
    expect(() => gg.optimizers.adam({ learningRate: -0.001 })).toThrow(gg.OptionError);
    expect(() => gg.optimizers.adam({ learningRate: -0.001 })).toThrow(/^optimizers\.adam: learningRate must be a finite number ≥ 0, got -0.001$/);
    const m = model();
    await expectError(m, () => { m.optimizer!.learningRate = -1; }, gg.OptionError, /learningRate must be a finite number ≥ 0, got -1/);
    expect(m.optimizer!.learningRate).toBe(0.02);
  });

  test('batchSize 0 and epochs 1.5', async () => {
    const m = model();
    await expectError(m, () => m.fit(data.x, data.y, { batchSize: 0 }), gg.OptionError, /^fit: batchSize must be an integer ≥ 1, got 0$/);
    await expectError(m, () => m.fit(data.x, data.y, { epochs: 1.5 }), gg.OptionError, /^fit: epochs must be an integer ≥ 1, got 1.5$/);
  });

  test('clipNorm and clipValue together (mutually exclusive, as in Keras)', () => {
    expect(() => gg.optimizers.sgd({ clipNorm: 1, clipValue: 0.5 })).toThrow(gg.OptionError);
    expect(() => gg.optimizers.sgd({ clipNorm: 1, clipValue: 0.5 })).toThrow(/mutually exclusive \(as in Keras\), got clipValue and clipNorm/);
  });

  test('an unknown loss / activation / initializer name suggests the closest', async () => {
    const m = model();
    await expectError(m, () => m.compile({ loss: 'sparse_categorical_crossentropi' }), gg.OptionError,
      /^compile: unknown loss 'sparse_categorical_crossentropi' \(did you mean 'sparse_categorical_crossentropy'\?\)/);
    expect(() => gg.layers.dense({ units: 2, activation: 'rleu' })).toThrow(/unknown activation 'rleu' \(did you mean 'relu'\?\)/);
    expect(() => gg.layers.dense({ units: 2, kernelInitializer: 'glorot' })).toThrow(/unknown initializer 'glorot'; known: zeros/);
  });

  test('validationSplit 1 and validationSplit with validationData', async () => {
    const m = model();
    await expectError(m, () => m.fit(data.x, data.y, { validationSplit: 1 }), gg.OptionError, /^fit: validationSplit must be a finite number ≥ 0 < 1, got 1$/);
    await expectError(m, () => m.fit(data.x, data.y, { validationSplit: 0.1, validationData: [data.x, data.y] }), gg.OptionError,
      /^fit: give either validationData or validationSplit, not both$/);
  });

  test('fromLogits with a softmax last layer', async () => {
    const m = model();
    await expectError(m, () => m.compile({ loss: gg.losses.sparseCategoricalCrossentropy({ fromLogits: true }) }), gg.OptionError,
      /fromLogits: true needs a linear last layer .* but the last layer's activation is 'softmax'/);
  });
});

describe('DisposedError', () => {
  test('every method after dispose()', async () => {
    const m = model();
    m.dispose();
    m.dispose(); // idempotent
    await expect(m.fit(data.x, data.y)).rejects.toThrow(gg.DisposedError);
    expect(() => m.predict(data.x)).toThrow(/^predict: the model was disposed; create a new one$/);
    expect(() => m.evaluate(data.x, data.y)).toThrow(gg.DisposedError);
    expect(() => m.getWeights()).toThrow(gg.DisposedError);
    expect(() => m.compile({ loss: 'mse' })).toThrow(gg.DisposedError);
    // Other models are unaffected.
    await expectTrains(model());
  });
});

describe('NotCompiledError', () => {
  test('fit, predict and getWeights before compile', async () => {
    const m = gg.sequential({ seed: 1, backend: new gg.ReferenceBackend(), layers: [
      gg.layers.dense({ inputShape: [4], units: 8, activation: 'relu' }), gg.layers.dense({ units: 3, activation: 'softmax' }),
    ] });
    await expect(m.fit(data.x, data.y)).rejects.toThrow(gg.NotCompiledError);
    await expect(m.fit(data.x, data.y)).rejects.toThrow(/^fit: call model\.compile\(\{ optimizer, loss, metrics \}\) first$/);
    expect(() => m.predict(data.x)).toThrow(gg.NotCompiledError);
    expect(() => m.getWeights()).toThrow(gg.NotCompiledError);
    m.compile({ optimizer: gg.optimizers.adam({ learningRate: 0.02 }), loss: 'sparseCategoricalCrossentropy' });
    await expectTrains(m);
  });
});

describe('on the wasm backend, bad input never reaches the kernel', () => {
  test('shape, label and NaN errors leave a wasm model intact and training', async () => {
    const wasm = await gg.createWasmBackend();
    const m = model(wasm);
    const y = Int32Array.from(data.y); y[0] = 99;
    await expectError(m, () => m.fit(data.x, y), gg.LabelError, /y\[0\] is 99/);
    await expectError(m, () => m.predict(new Float32Array(7)), gg.ShapeError, /length 7/);
    const x = Float32Array.from(data.x); x[0] = Infinity;
    await expectError(m, () => m.evaluate(x, data.y), gg.NonFiniteError, /x contains Infinity at sample 0, feature 0/);
    m.dispose();
    expect(() => m.predict(data.x)).toThrow(gg.DisposedError);
  });
});

describe('on the wasm backend, fit finds a NaN/±Inf in x in the batch that holds it', () => {
  // The kernel scans each training batch (docs/abi.md, gg_model_bad_input) instead of fit
  // scanning all of x first; the error and the untouched model must be the same as before.
  const optState = (m: gg.Sequential): { step: number; slots: Float32Array } =>
    (m as unknown as { compiled: { backendModel: gg.BackendModel } }).compiled.backendModel.getOptimizerState();

  test('NaN, Infinity and -Infinity anywhere: named, the model restored (weights, optimizer state, iterations)', async () => {
    const m = model(await gg.createWasmBackend());
    await m.fit(data.x, data.y, { epochs: 1, batchSize: 16 }); // optimizer state not all zeros
    // 120 samples in batches of 16, shuffled: first sample, one in the middle, the last (in the
    // partial last batch of 8 when unshuffled); every feature
    for (const [bad, sample, feature] of [[NaN, 0, 0], [Infinity, 57, 2], [-Infinity, 119, 3], [NaN, 64, 1]] as const) {
      const x = Float32Array.from(data.x); x[sample * 4 + feature] = bad;
      const [w, state, iterations] = [flat(m), optState(m), m.iterations];
      let err: unknown;
      try { await m.fit(x, data.y, { epochs: 2, batchSize: 16 }); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(gg.NonFiniteError);
      expect((err as Error).message).toBe(`fit: x contains ${bad} at sample ${sample}, feature ${feature}; inputs must be finite numbers`);
      expect(flat(m)).toEqual(w);
      expect(m.iterations).toBe(iterations);
      const after = optState(m);
      expect(after.step).toBe(state.step);
      expect(Array.from(after.slots)).toEqual(Array.from(state.slots));
    }
    await expectTrains(m);
    m.dispose();
  });

  test('the batches before the bad one trained, and were undone', async () => {
    const m = model(await gg.createWasmBackend());
    const before = optState(m);
    const [w0, it0] = [flat(m), m.iterations];
    const x = Float32Array.from(data.x); x[37 * 4 + 1] = NaN; // sample 37: batch 4 of 8 unshuffled
    let batchesEnded = 0, trainBegun = 0;
    const cb = { onTrainBegin: () => { trainBegun++; }, onBatchEnd: () => { batchesEnded++; } };
    // with statistics every step: the failed step must not leave collection switched on
    await expect(m.fit(x, data.y, { batchSize: 8, shuffle: false, statsEvery: 1, callbacks: [cb] }))
      .rejects.toThrow(/^fit: x contains NaN at sample 37, feature 1; inputs must be finite numbers$/);
    expect([trainBegun, batchesEnded]).toEqual([1, 4]);
    expect(flat(m)).toEqual(w0);
    expect(m.iterations).toBe(it0);
    const after = optState(m);
    expect(after.step).toBe(before.step);
    expect(Array.from(after.slots)).toEqual(Array.from(before.slots));
    const bm = (m as unknown as { compiled: { backendModel: gg.BackendModel } }).compiled.backendModel;
    const stats = JSON.stringify(bm.getStats());
    expect(stats).not.toBe('null'); // the 4 good steps collected
    await m.fit(data.x, data.y, { batchSize: 8, epochs: 1 }); // no statistics wanted
    expect(JSON.stringify(bm.getStats())).toBe(stats);
    await expectTrains(m);
    m.dispose();
  });

  test('validation rows are never trained on, so they are scanned before training starts', async () => {
    const m = model(await gg.createWasmBackend());
    const x = Float32Array.from(data.x); x[100 * 4 + 3] = Infinity; // validationSplit 0.25: rows 90..119
    let trainBegun = 0;
    await expectError(m, () => m.fit(x, data.y, { validationSplit: 0.25, callbacks: [{ onTrainBegin: () => { trainBegun++; } }] }),
      gg.NonFiniteError, /^fit: x contains Infinity at sample 100, feature 3; inputs must be finite numbers$/);
    expect(trainBegun).toBe(0);
    m.dispose();
  });
});

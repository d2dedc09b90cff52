// The Keras-shaped API on synthetic data: sequential / compile / fit / evaluate / predict, history
// keys, validation, callback order, weights, seeding, every optimizer and loss.
//
// Most tests run on the pure-TypeScript reference backend (the oracle: f64 math over f32
// storage, so results are deterministic and independent of the kernel build); one test runs
// the same training on the wasm backend and compares.

import { beforeAll, describe, expect, test } from 'vitest';
import * as gg from '../ts/index.js';

const blobs = gg.data.synthetic.blobs({ samples: 240, features: 5, classes: 3, seed: 7, spread: 1.5 });

function classifier(opts: { seed?: number; hidden?: number; backend?: gg.Backend } = {}): gg.Sequential {
  return gg.sequential({
    seed: opts.seed ?? 1,
    backend: opts.backend,
    layers: [
      gg.layers.dense({ inputShape: [5], units: opts.hidden ?? 12, activation: 'relu' }),
      gg.layers.dense({ units: 3, activation: 'softmax' }),
    ],
  });
}

const flat = (ws: gg.WeightTensor[]): number[] => ws.flatMap((w) => Array.from(w.data));

beforeAll(async () => {
  await gg.ready({ backend: 'reference' });
});

describe('fit / evaluate / predict', () => {
  test('history has Keras keys, one entry per epoch, and loss falls', async () => {
    const m = classifier();
    m.compile({ optimizer: gg.optimizers.adam({ learningRate: 0.01 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const h = await m.fit(blobs.x, blobs.y, { epochs: 6, batchSize: 16, validationSplit: 0.25 });
    expect(Object.keys(h.history).sort()).toEqual(['accuracy', 'loss', 'val_accuracy', 'val_loss']);
    expect(h.epoch).toEqual([0, 1, 2, 3, 4, 5]);
    for (const k of Object.keys(h.history)) expect(h.history[k]).toHaveLength(6);
    expect(h.params).toEqual({ epochs: 6, steps: Math.ceil(180 / 16), samples: 180, batchSize: 16, validationSamples: 60 });
    // Blobs 1.5σ apart in 5-D are nearly separable: a working trainer gets well past chance (1/3).
    expect(h.history.loss[5]).toBeLessThan(h.history.loss[0] * 0.5);
    expect(h.history.accuracy[5]).toBeGreaterThan(0.9);
    const r = m.evaluate(blobs.x, blobs.y);
    expect(Object.keys(r).sort()).toEqual(['accuracy', 'loss']);
    expect(r.accuracy).toBeGreaterThan(0.9);
  });

  test('without metrics, logs and evaluate hold only the loss', async () => {
    const m = classifier();
    m.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy' });
    const h = await m.fit(blobs.x, blobs.y, { epochs: 1 });
    expect(Object.keys(h.history)).toEqual(['loss']);
    expect(Object.keys(m.evaluate(blobs.x, blobs.y))).toEqual(['loss']);
  });

  test('validationSplit validates on the last fraction of the samples, before shuffling (Keras)', async () => {
    const m = classifier();
    m.compile({ optimizer: gg.optimizers.sgd({ learningRate: 0.05 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const h = await m.fit(blobs.x, blobs.y, { epochs: 2, batchSize: 10, validationSplit: 0.2 });
    // 240 · 0.8 = 192 training rows; validation is rows 192..239.
    const r = m.evaluate(blobs.x.subarray(192 * 5), blobs.y.subarray(192), { batchSize: 10 });
    expect(h.history.val_loss[1]).toBe(r.loss);
    expect(h.history.val_accuracy[1]).toBe(r.accuracy);
  });

  test('validationData as [x, y] and { x, y } give the same validation metrics as evaluate', async () => {
    const v = gg.data.synthetic.blobs({ samples: 50, features: 5, classes: 3, seed: 8, spread: 1.5 });
    for (const validationData of [[v.x, v.y], { x: v.x, y: v.y }] as const) {
      const m = classifier();
      m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
      const h = await m.fit(blobs.x, blobs.y, { epochs: 2, batchSize: 32, validationData: validationData as never });
      const r = m.evaluate(v.x, v.y, { batchSize: 32 });
      expect(h.history.val_loss[1]).toBe(r.loss);
      expect(h.history.val_accuracy[1]).toBe(r.accuracy);
    }
  });

  test('batch logs are running means over the epoch weighted by batch size (partial last batch included)', async () => {
    // Learning rate 0: the weights never change, so each batch's loss is what evaluate gives
    // on that batch, and the running mean can be recomputed exactly from per-batch evaluations.
    const m = classifier();
    m.compile({ optimizer: gg.optimizers.sgd({ learningRate: 0 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const n = 23, bs = 5; // batches of 5, 5, 5, 5, 3
    const x = blobs.x.subarray(0, n * 5), y = blobs.y.subarray(0, n);
    const seen: { loss: number; accuracy: number; size: number }[] = [];
    const h = await m.fit(x, y, { epochs: 1, batchSize: bs, shuffle: false, callbacks: { onBatchEnd: (_b, l) => { seen.push({ loss: l.loss, accuracy: l.accuracy, size: l.size }); } } });
    expect(seen.map((s) => s.size)).toEqual([5, 5, 5, 5, 3]);
    let lossSum = 0, correct = 0, count = 0;
    for (let b = 0; b < 5; b++) {
      const s = b * bs, e = Math.min(n, s + bs);
      const r = m.evaluate(x.subarray(s * 5, e * 5), y.subarray(s, e));
      lossSum += r.loss * (e - s); correct += r.accuracy! * (e - s); count += e - s;
      // trainStep's mean and evaluate's sum / batch are the same f64 computation up to the
      // order of a ≤5-term sum: 1e-12 relative.
      expect(seen[b].loss).toBeCloseTo(lossSum / count, 10);
      expect(seen[b].accuracy).toBeCloseTo(correct / count, 12);
    }
    expect(h.history.loss[0]).toBe(seen[4].loss);
  });

  test('predict returns (samples, outputs) for Float32Array, { data, shape } and nested arrays alike', async () => {
    const m = classifier();
    m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
    const x3 = blobs.x.subarray(0, 15);
    const p = m.predict(x3);
    expect(p).toBeInstanceOf(Float32Array);
    expect(p.length).toBe(9);
    const nested = [0, 1, 2].map((r) => Array.from(x3.subarray(r * 5, r * 5 + 5)));
    expect(Array.from(m.predict(nested))).toEqual(Array.from(p));
    expect(Array.from(m.predict({ data: Array.from(x3), shape: [3, 5] }))).toEqual(Array.from(p));
    // Batching does not change predictions (each row is computed independently).
    expect(Array.from(m.predict(blobs.x, { batchSize: 7 }).subarray(0, 9))).toEqual(Array.from(p));
    // Softmax rows sum to 1 within f32 rounding of 3 terms.
    for (let r = 0; r < 3; r++) expect(p[3 * r] + p[3 * r + 1] + p[3 * r + 2]).toBeCloseTo(1, 6);
  });

  test('evaluate does not depend on its batch size beyond summation order', async () => {
    const m = classifier();
    m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['acc'] });
    await m.fit(blobs.x, blobs.y, { epochs: 1 });
    const a = m.evaluate(blobs.x, blobs.y, { batchSize: 240 });
    const b = m.evaluate(blobs.x, blobs.y, { batchSize: 7 });
    expect(b.loss).toBeCloseTo(a.loss, 10);
    expect(b.accuracy).toBe(a.accuracy);
  });

  test('initialEpoch resumes the epoch count; verbose 1 prints one line per epoch', async () => {
    const m = classifier();
    m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const lines: string[] = [];
    const orig = console.log;
    console.log = (s: string) => { lines.push(s); };
    let h;
    try {
      h = await m.fit(blobs.x, blobs.y, { epochs: 4, initialEpoch: 2, verbose: 1, validationSplit: 0.25 });
    } finally { console.log = orig; }
    expect(h.epoch).toEqual([2, 3]);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^Epoch 3\/4 - [\d.]+s - loss: [\d.]+ - accuracy: [\d.]+ - val_loss: [\d.]+ - val_accuracy: [\d.]+$/);
  });

  test('labels as Int32Array, Uint8Array and number[] train identically', async () => {
    const runs = [];
    for (const y of [blobs.y, Uint8Array.from(blobs.y), Array.from(blobs.y)]) {
      const m = classifier();
      m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
      runs.push((await m.fit(blobs.x, y, { epochs: 2 })).history.loss);
    }
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[2]).toEqual(runs[0]);
  });
});

describe('callbacks', () => {
  test('hooks run in Keras order with epoch/batch indices', async () => {
    const m = classifier();
    m.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const events: string[] = [];
    const cb: gg.Callback = {
      onTrainBegin: () => { events.push('trainBegin'); },
      onEpochBegin: (e) => { events.push(`epochBegin ${e}`); },
      onBatchBegin: (b) => { events.push(`batchBegin ${b}`); },
      onBatchEnd: (b) => { events.push(`batchEnd ${b}`); },
      onEpochEnd: (e, logs) => { events.push(`epochEnd ${e} ${Object.keys(logs).sort().join(',')}`); },
      onTrainEnd: () => { events.push('trainEnd'); },
    };
    // 10 samples, batch 4 → 3 batches (4, 4, 2).
    await m.fit(blobs.x.subarray(0, 50), blobs.y.subarray(0, 10), { epochs: 2, batchSize: 4, callbacks: [cb], validationData: [blobs.x.subarray(0, 10), blobs.y.subarray(0, 2)] });
    const epoch = (e: number) => [`epochBegin ${e}`, 'batchBegin 0', 'batchEnd 0', 'batchBegin 1', 'batchEnd 1', 'batchBegin 2', 'batchEnd 2',
      `epochEnd ${e} accuracy,loss,val_accuracy,val_loss`];
    expect(events).toEqual(['trainBegin', ...epoch(0), ...epoch(1), 'trainEnd']);
  });

  test('async hooks are awaited before training continues', async () => {
    const m = classifier();
    m.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
    const events: string[] = [];
    await m.fit(blobs.x, blobs.y, { epochs: 2, batchSize: 120, callbacks: {
      onEpochEnd: async (e) => { await new Promise((r) => setTimeout(r, 5)); events.push(`end ${e}`); },
      onEpochBegin: (e) => { events.push(`begin ${e}`); },
    } });
    expect(events).toEqual(['begin 0', 'end 0', 'begin 1', 'end 1']);
  });

  test('model.stopTraining from a callback ends fit after the current batch', async () => {
    const m = classifier();
    m.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
    let batches = 0;
    const h = await m.fit(blobs.x, blobs.y, { epochs: 5, batchSize: 10, callbacks: { setModel(mm) { this.m = mm; }, onBatchEnd(b) { batches++; if (b === 2) (this as { m: gg.CallbackModel }).m.stopTraining = true; } } as gg.Callback & { m?: gg.CallbackModel } });
    expect(batches).toBe(3);
    expect(h.epoch).toEqual([0]);
  });

  test('earlyStopping stops after `patience` epochs without improvement', async () => {
    const m = classifier();
    m.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
    // minDelta 1e9: no epoch after the first can count as an improvement.
    const es = gg.callbacks.earlyStopping({ monitor: 'loss', minDelta: 1e9, patience: 2 });
    const h = await m.fit(blobs.x, blobs.y, { epochs: 10, callbacks: [es] });
    expect(h.epoch).toEqual([0, 1, 2]);
    expect(es.stoppedEpoch).toBe(2);
  });

  test('earlyStopping with restoreBestWeights restores the best epoch', async () => {
    const m = classifier();
    m.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
    let first: number[] = [];
    const es = gg.callbacks.earlyStopping({ monitor: 'loss', minDelta: 1e9, patience: 1, restoreBestWeights: true });
    await m.fit(blobs.x, blobs.y, { epochs: 10, callbacks: [{ onEpochEnd: (e) => { if (e === 0) first = flat(m.getWeights()); } }, es] });
    expect(flat(m.getWeights())).toEqual(first);
  });

  test('the learning rate set from a callback reaches the backend (lr 0 freezes the weights)', async () => {
    const m = classifier();
    m.compile({ optimizer: gg.optimizers.sgd({ learningRate: 0.1 }), loss: 'sparseCategoricalCrossentropy' });
    const snaps: number[][] = [];
    await m.fit(blobs.x, blobs.y, { epochs: 3, callbacks: [
      gg.callbacks.learningRateScheduler((epoch, lr) => (epoch === 1 ? 0 : epoch === 2 ? 0.1 : lr)),
      { onEpochEnd: () => { snaps.push(flat(m.getWeights())); } },
    ] });
    expect(m.optimizer!.learningRate).toBe(0.1);
    expect(snaps[1]).toEqual(snaps[0]);       // epoch 1 ran at lr 0
    expect(snaps[2]).not.toEqual(snaps[1]);   // epoch 2 trained again
  });

  test('a learning-rate schedule on the optimizer is applied before every step', async () => {
    const m = classifier();
    const seenLr: number[] = [];
    m.compile({ optimizer: gg.optimizers.sgd({ learningRate: { valueAt: (s: number) => 0.1 / (1 + s) } }), loss: 'sparseCategoricalCrossentropy' });
    await m.fit(blobs.x, blobs.y, { epochs: 1, batchSize: 60, callbacks: { onBatchEnd: () => { seenLr.push(m.optimizer!.learningRate); } } });
    expect(seenLr).toEqual([0.1, 0.05, 0.1 / 3, 0.025]);
    expect(m.iterations).toBe(4);
  });

  test('onGradientStats receives per-layer statistics every statsEvery steps', async () => {
    const m = classifier();
    m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
    const steps: number[] = [];
    await m.fit(blobs.x, blobs.y, { epochs: 1, batchSize: 24, statsEvery: 3, callbacks: { onGradientStats: (s, st) => { steps.push(s); expect(st.layers).toHaveLength(2); expect(st.globalGradNorm).toBeGreaterThan(0); } } });
    expect(steps).toEqual([0, 3, 6, 9]);
  });

  test('fit yields to the event loop so timers fire during training', async () => {
    const m = classifier();
    m.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
    let fired = false;
    setTimeout(() => { fired = true; }, 0);
    let firedBeforeEnd = false;
    await m.fit(blobs.x, blobs.y, { epochs: 3, batchSize: 8, callbacks: { onTrainEnd: () => { firedBeforeEnd = fired; } } });
    expect(firedBeforeEnd).toBe(true);
  });
});

describe('weights, seeds and names', () => {
  test('getWeights gives Keras-ordered tensors; setWeights round-trips into another model', async () => {
    const a = classifier({ seed: 3 });
    a.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
    await a.fit(blobs.x, blobs.y, { epochs: 2 });
    const wa = a.getWeights();
    expect(wa.map((w) => [w.name, w.shape])).toEqual([
      ['dense/kernel', [5, 12]], ['dense/bias', [12]], ['dense_1/kernel', [12, 3]], ['dense_1/bias', [3]],
    ]);
    const b = classifier({ seed: 4 });
    b.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
    expect(flat(b.getWeights())).not.toEqual(flat(wa));
    b.setWeights(wa);
    expect(flat(b.getWeights())).toEqual(flat(wa));
    expect(Array.from(b.predict(blobs.x))).toEqual(Array.from(a.predict(blobs.x)));
    // Plain Float32Arrays work too, and the returned copies do not alias the model.
    wa[0].data.fill(0);
    expect(flat(a.getWeights())[0]).not.toBe(0);
    b.setWeights(a.getWeights().map((w) => w.data));
    expect(flat(b.getWeights())).toEqual(flat(a.getWeights()));
  });

  test('setWeights before compile replaces initialisation; recompiling keeps the weights', async () => {
    const a = classifier({ seed: 3 });
    a.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
    const wa = a.getWeights();
    const b = classifier({ seed: 9 });
    b.setWeights(wa);
    b.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
    expect(flat(b.getWeights())).toEqual(flat(wa));
    await b.fit(blobs.x, blobs.y, { epochs: 1 });
    const trained = flat(b.getWeights());
    b.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
    expect(flat(b.getWeights())).toEqual(trained);
  });

  test('the same seed reproduces a run bit for bit; another seed does not', async () => {
    const run = async (seed: number) => {
      const m = classifier({ seed });
      m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
      const h = await m.fit(blobs.x, blobs.y, { epochs: 3, batchSize: 16, shuffle: true, validationSplit: 0.1 });
      return { h: h.history, w: flat(m.getWeights()) };
    };
    const r1 = await run(11), r2 = await run(11), r3 = await run(12);
    expect(r2).toEqual(r1);
    expect(r3.w).not.toEqual(r1.w);
  });

  test('the default seed is fixed and documented (DEFAULT_SEED)', () => {
    const mk = (seed?: number) => {
      const m = gg.sequential({ seed, layers: [gg.layers.dense({ inputShape: [5], units: 3 })] });
      m.compile({ optimizer: 'sgd', loss: 'mse' });
      return flat(m.getWeights());
    };
    expect(mk()).toEqual(mk(gg.DEFAULT_SEED));
    expect(mk()).not.toEqual(mk(gg.DEFAULT_SEED + 1));
  });

  test('Keras snake_case and TF.js camelCase names give the same model and training', async () => {
    const run = async (names: { act: string; init: string; loss: string; opt: string }) => {
      const m = gg.sequential({ seed: 5, layers: [
        gg.layers.dense({ inputShape: [5], units: 8, activation: names.act, kernelInitializer: names.init }),
        gg.layers.dense({ units: 3, activation: 'softmax' }),
      ] });
      m.compile({ optimizer: names.opt, loss: names.loss });
      return (await m.fit(blobs.x, blobs.y, { epochs: 2 })).history.loss;
    };
    const snake = await run({ act: 'leaky_relu', init: 'he_normal', loss: 'sparse_categorical_crossentropy', opt: 'rmsprop' });
    const camel = await run({ act: 'leakyRelu', init: 'heNormal', loss: 'sparseCategoricalCrossentropy', opt: 'RMSprop' });
    expect(camel).toEqual(snake);
  });

  test('summary prints a Keras-like table with parameter counts and returns it', () => {
    const m = classifier();
    const lines: string[] = [];
    const s = m.summary({ printFn: (l) => lines.push(l) });
    expect(lines.join('\n')).toBe(s);
    // dense: 5·12 + 12 = 72; dense_1: 12·3 + 3 = 39; total 111.
    expect(s).toMatch(/dense \(Dense, relu\)\s+\(None, 12\)\s+72/);
    expect(s).toMatch(/dense_1 \(Dense, softmax\)\s+\(None, 3\)\s+39/);
    expect(s).toMatch(/Total params: 111 /);
    expect(m.countParams()).toBe(111);
  });
});

describe('the seed example', () => {
  test('the MNIST model reads like Keras and summarises to Keras\'s parameter counts', () => {
    const model = gg.sequential({ seed: 42, layers: [
      gg.layers.dense({ inputShape: [784], units: 128, activation: 'relu', kernelInitializer: 'glorotUniform' }),
      gg.layers.dense({ units: 128, activation: 'relu' }),
      gg.layers.dense({ units: 10, activation: 'softmax' }),
    ] });
    model.compile({ optimizer: gg.optimizers.adam({ learningRate: 1e-3 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const s = model.summary({ printFn: () => {} });
    // Keras: 784·128 + 128 = 100,480; 128·128 + 128 = 16,512; 128·10 + 10 = 1,290; total 118,282.
    expect(s).toMatch(/dense \(Dense, relu\)\s+\(None, 128\)\s+100480/);
    expect(s).toMatch(/dense_1 \(Dense, relu\)\s+\(None, 128\)\s+16512/);
    expect(s).toMatch(/dense_2 \(Dense, softmax\)\s+\(None, 10\)\s+1290/);
    expect(s).toMatch(/Total params: 118,282 \(462\.04 KB\)/);
    expect(model.getWeights().map((w) => w.shape)).toEqual([[784, 128], [128], [128, 128], [128], [128, 10], [10]]);
    // Glorot-uniform kernels lie within ±sqrt(6 / (fan_in + fan_out)); biases start at zero.
    const [k0, b0] = model.getWeights();
    const limit = Math.sqrt(6 / (784 + 128));
    expect(Math.max(...k0.data.map(Math.abs))).toBeLessThanOrEqual(limit);
    expect(Math.max(...k0.data.map(Math.abs))).toBeGreaterThan(limit * 0.99);
    expect(b0.data.every((v) => v === 0)).toBe(true);
  });

  test('nested-array and Float64Array inputs train like the Float32Array they hold', async () => {
    const x32 = blobs.x.subarray(0, 60 * 5), y = Array.from(blobs.y.subarray(0, 60));
    const nested = Array.from({ length: 60 }, (_, r) => Array.from(x32.subarray(r * 5, r * 5 + 5)));
    const runs = [];
    for (const x of [x32, nested, Float64Array.from(x32)]) {
      const m = classifier();
      m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
      runs.push((await m.fit(x as gg.TensorLike, y, { epochs: 2, batchSize: 8 })).history.loss);
    }
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[2]).toEqual(runs[0]);
  });
});

describe('every optimizer and loss trains a small problem', () => {
  const cases: [string, () => gg.Optimizer][] = [
    ['sgd', () => gg.optimizers.sgd({ learningRate: 0.1 })],
    ['sgd momentum', () => gg.optimizers.sgd({ learningRate: 0.05, momentum: 0.9 })],
    ['sgd nesterov', () => gg.optimizers.sgd({ learningRate: 0.05, momentum: 0.9, nesterov: true })],
    ['rmsprop', () => gg.optimizers.rmsprop({ learningRate: 0.01 })],
    ['adagrad', () => gg.optimizers.adagrad({ learningRate: 0.1 })],
    ['adam', () => gg.optimizers.adam({ learningRate: 0.01 })],
    ['adamw', () => gg.optimizers.adamw({ learningRate: 0.01, weightDecay: 0.01 })],
    ['sgd weightDecay', () => gg.optimizers.sgd({ learningRate: 0.1, weightDecay: 0.01 })],
    ['adam clipNorm', () => gg.optimizers.adam({ learningRate: 0.01, clipNorm: 0.5 })],
    ['sgd clipValue', () => gg.optimizers.sgd({ learningRate: 0.1, clipValue: 0.1 })],
    ['adam globalClipNorm', () => gg.optimizers.adam({ learningRate: 0.01, globalClipNorm: 1 })],
  ];
  test.each(cases)('%s: loss at least halves in 8 epochs', async (_name, make) => {
    const m = classifier();
    m.compile({ optimizer: make(), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const h = await m.fit(blobs.x, blobs.y, { epochs: 8, batchSize: 16 });
    expect(h.history.loss[7]).toBeLessThan(h.history.loss[0] * 0.5);
    expect(h.history.accuracy[7]).toBeGreaterThan(0.85);
  });

  test('optimizer factories fill in Keras 3 defaults', () => {
    expect(gg.optimizers.sgd().getConfig()).toMatchObject({ kind: 'sgd', learningRate: 0.01, momentum: 0, nesterov: false });
    expect(gg.optimizers.rmsprop().getConfig()).toMatchObject({ learningRate: 0.001, rho: 0.9, momentum: 0, epsilon: 1e-7 });
    expect(gg.optimizers.adagrad().getConfig()).toMatchObject({ learningRate: 0.001, initialAccumulatorValue: 0.1, epsilon: 1e-7 });
    expect(gg.optimizers.adam().getConfig()).toMatchObject({ learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, weightDecay: 0 });
    expect(gg.optimizers.adamw().getConfig()).toMatchObject({ learningRate: 0.001, weightDecay: 0.004 });
    expect(gg.optimizers.adamw({ weightDecay: 0 }).getConfig()).toMatchObject({ weightDecay: 0 });
    expect(gg.optimizers.rmsprop({ weightDecay: 0.1 }).getConfig()).toMatchObject({ weightDecay: 0.1 });
    expect(gg.optimizers.adam({ clipNorm: 1 }).getConfig()).toMatchObject({ clipNorm: 1, clipValue: 0, globalClipNorm: 0 });
  });

  test('weightDecay shrinks weights: with zero gradients (lr > 0, inputs 0, mse at target) θ ← θ(1 − λ·lr) per step', async () => {
    // x = 0 and a zero-initialised bias with target 0 give zero gradients, so only the decay acts.
    const m = gg.sequential({ seed: 1, layers: [gg.layers.dense({ inputShape: [2], units: 1 })] });
    m.compile({ optimizer: gg.optimizers.sgd({ learningRate: 0.5, weightDecay: 0.2 }), loss: 'mse' });
    const k0 = Array.from(m.getWeights()[0].data);
    await m.fit(new Float32Array(2 * 4), new Float32Array(4), { epochs: 3, batchSize: 4 });
    // 3 steps of θ ← θ − θ·0.2·0.5: θ·0.9³, each step rounded to f32: 1e-6 relative.
    m.getWeights()[0].data.forEach((v, i) => expect(v).toBeCloseTo(k0[i] * 0.9 ** 3, 6));
  });

  test('categoricalCrossentropy with one-hot targets', async () => {
    const m = classifier();
    m.compile({ optimizer: gg.optimizers.adam({ learningRate: 0.01 }), loss: 'categorical_crossentropy', metrics: ['accuracy'] });
    const h = await m.fit(blobs.x, gg.data.oneHot(blobs.y, 3), { epochs: 8, batchSize: 16 });
    expect(h.history.loss[7]).toBeLessThan(h.history.loss[0] * 0.5);
    expect(h.history.accuracy[7]).toBeGreaterThan(0.85);
  });

  test('sparse CE fromLogits with a linear last layer matches softmax + sparse CE', async () => {
    const mk = (logits: boolean) => {
      const m = gg.sequential({ seed: 2, layers: [
        gg.layers.dense({ inputShape: [5], units: 8, activation: 'tanh' }),
        gg.layers.dense({ units: 3, activation: logits ? 'linear' : 'softmax' }),
      ] });
      m.compile({ optimizer: 'adam', loss: logits ? gg.losses.sparseCategoricalCrossentropy({ fromLogits: true }) : 'sparseCategoricalCrossentropy' });
      return m;
    };
    const a = await mk(true).fit(blobs.x, blobs.y, { epochs: 3 });
    const b = await mk(false).fit(blobs.x, blobs.y, { epochs: 3 });
    // The same function computed two ways (log-sum-exp on logits vs fused softmax): f32 storage
    // rounding after each step is the only difference, 1e-5 relative over 3 epochs.
    a.history.loss.forEach((v, i) => expect(v).toBeCloseTo(b.history.loss[i], 4));
    expect(a.history.loss[2]).toBeLessThan(a.history.loss[0]);
  });

  test('binaryCrossentropy with a sigmoid unit learns XOR', async () => {
    const d = gg.data.synthetic.xor({ samples: 200, seed: 3 });
    const m = gg.sequential({ seed: 4, layers: [
      gg.layers.dense({ inputShape: [2], units: 16, activation: 'tanh' }),
      gg.layers.dense({ units: 1, activation: 'sigmoid' }),
    ] });
    m.compile({ optimizer: gg.optimizers.adam({ learningRate: 0.03 }), loss: 'binaryCrossentropy', metrics: ['accuracy'] });
    const h = await m.fit(d.x, d.targets01, { epochs: 40, batchSize: 20 });
    expect(h.history.loss[39]).toBeLessThan(h.history.loss[0] * 0.5);
    expect(m.evaluate(d.x, d.targets01).accuracy).toBeGreaterThan(0.9);
  });

  test('meanSquaredError regression recovers a linear map', async () => {
    const d = gg.data.synthetic.regression({ samples: 200, features: 3, outputs: 2, noise: 0.05, seed: 5 });
    const m = gg.sequential({ seed: 6, layers: [gg.layers.dense({ inputShape: [3], units: 2 })] });
    m.compile({ optimizer: gg.optimizers.sgd({ learningRate: 0.1 }), loss: 'mse' });
    const h = await m.fit(d.x, { data: d.y, shape: [200, 2] }, { epochs: 30, batchSize: 20 });
    expect(h.history.loss[29]).toBeLessThan(0.01);
    // Kernel ≈ true weights: noise 0.05 over 200 samples leaves errors ~0.05/√200 ≈ 0.004; 0.05 bound.
    const [k, b] = m.getWeights();
    k.data.forEach((v, i) => expect(Math.abs(v - d.weights[i])).toBeLessThan(0.05));
    b.data.forEach((v, i) => expect(Math.abs(v - d.bias[i])).toBeLessThan(0.05));
  });
});

describe('backends', () => {
  test('wasm and reference backends train the same model to the same numbers', async () => {
    const wasm = await gg.createWasmBackend();
    const ref = new gg.ReferenceBackend();
    const run = async (backend: gg.Backend) => {
      const m = classifier({ backend, hidden: 13 });
      m.compile({ optimizer: gg.optimizers.adam({ learningRate: 0.01 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
      const h = await m.fit(blobs.x, blobs.y, { epochs: 3, batchSize: 17, validationSplit: 0.1 });
      return { h: h.history, w: flat(m.getWeights()) };
    };
    const a = await run(wasm), b = await run(ref);
    // Same seeds and initial weights (the generator is bit-exact across backends); the kernel
    // accumulates in f32 where the reference uses f64, so after 3 epochs of Adam values agree
    // to about 1e-4 (Adam's normalised steps do not amplify the rounding differences).
    a.h.loss.forEach((v, i) => expect(Math.abs(v - b.h.loss[i])).toBeLessThan(1e-4));
    a.w.forEach((v, i) => expect(Math.abs(v - b.w[i])).toBeLessThan(1e-3));
  });

  test('gg.ready switches the default backend; sequential({ backend }) overrides it', async () => {
    const wasm = await gg.ready();
    expect(wasm.name).toMatch(/^wasm/);
    const m1 = classifier();
    m1.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
    expect(m1.summary({ printFn: () => {} })).toMatch(/backend: wasm/);
    const m2 = classifier({ backend: new gg.ReferenceBackend() });
    m2.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
    expect(m2.summary({ printFn: () => {} })).toMatch(/backend: reference/);
    await gg.ready({ backend: 'reference' });
  });
});

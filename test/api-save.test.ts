// Saving and loading: model.toJSON()/save() and gg.loadModel() round-trip architecture, compile
// settings and weights bit for bit, on either backend; bad files give DataErrors.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import * as gg from '../ts/index.js';
import { f32ToBase64 } from '../ts/model/base64.js';

const d = gg.data.synthetic.blobs({ samples: 90, features: 3, classes: 3, seed: 4 });

function trained(): Promise<gg.Sequential> {
  const m = gg.sequential({ seed: 8, name: 'blobby', layers: [
    gg.layers.dense({ inputShape: [3], units: 7, activation: gg.activations.leakyRelu({ negativeSlope: 0.1 }), kernelInitializer: 'heNormal' }),
    gg.layers.dense({ units: 5, activation: 'tanh', useBias: false, kernelInitializer: gg.initializers.randomUniform({ maxval: 0.3 }) }),
    gg.layers.dense({ units: 3, activation: 'linear' }),
  ] });
  m.compile({ optimizer: gg.optimizers.sgd({ learningRate: 0.05, momentum: 0.9, nesterov: true, clipNorm: 2 }),
    loss: gg.losses.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
  return m.fit(d.x, d.y, { epochs: 3, batchSize: 10 }).then(() => m);
}

const flat = (m: gg.Sequential) => m.getWeights().flatMap((w) => Array.from(w.data));

beforeAll(async () => { await gg.ready({ backend: 'reference' }); });

describe('save / load', () => {
  test('toJSON → loadModel keeps layers, compile settings, weights (bit for bit) and predictions', async () => {
    const m = await trained();
    const json = JSON.parse(JSON.stringify(m.toJSON()));
    const back = await gg.loadModel(json);
    expect(back.name).toBe('blobby');
    expect(back.seed).toBe(8);
    expect(back.iterations).toBe(m.iterations);
    expect(back.layers.map((l) => l.getConfig())).toEqual(m.layers.map((l) => l.getConfig()));
    expect(back.loss).toBe('sparse_categorical_crossentropy');
    expect(back.spec.fromLogits).toBe(true);
    expect(back.metrics).toEqual(['accuracy']);
    expect(back.optimizer!.getConfig()).toEqual(m.optimizer!.getConfig());
    expect(flat(back)).toEqual(flat(m));
    expect(Array.from(back.predict(d.x))).toEqual(Array.from(m.predict(d.x)));
    expect(back.evaluate(d.x, d.y)).toEqual(m.evaluate(d.x, d.y));
  });

  test('save(path) and loadModel(path) in Node; loading onto the wasm backend predicts the same to f32 rounding', async () => {
    const m = await trained();
    const path = join(mkdtempSync(join(tmpdir(), 'gg-save-')), 'model.json');
    await m.save(path);
    expect(JSON.parse(readFileSync(path, 'utf8')).format).toBe('gradguard-sequential');
    const wasm = await gg.createWasmBackend();
    const back = await gg.loadModel(path, { backend: wasm });
    expect(flat(back)).toEqual(flat(m));
    const a = back.predict(d.x), b = m.predict(d.x);
    // Kernel (f32 accumulation) vs reference (f64) on 3 small layers: 1e-5 absolute on logits of size ~10.
    a.forEach((v, i) => expect(Math.abs(v - b[i])).toBeLessThan(1e-5));
    // The loaded model keeps training.
    const h = await back.fit(d.x, d.y, { epochs: 2, batchSize: 10 });
    expect(Number.isFinite(h.history.loss[1])).toBe(true);
  });

  test('an uncompiled model saves its layers; weights given by setWeights survive', async () => {
    const m = await trained();
    const fresh = gg.sequential({ seed: 1, layers: m.layers.map((l) => gg.layerFromConfig(l.className, l.getConfig())) });
    fresh.setWeights(m.getWeights());
    const json = fresh.toJSON();
    expect(json.compile).toBeNull();
    const back = await gg.loadModel(JSON.stringify(json));
    expect(back.isCompiled).toBe(false);
    back.compile({ optimizer: 'adam', loss: gg.losses.sparseCategoricalCrossentropy({ fromLogits: true }) });
    expect(flat(back)).toEqual(flat(m));
  });

  test('bad files are DataErrors that say what is wrong', async () => {
    const m = await trained();
    const j = m.toJSON();
    await expect(gg.loadModel({ ...j, format: 'keras' } as never)).rejects.toThrow(/not a gradguard model \(expected format 'gradguard-sequential', got "keras"\)/);
    await expect(gg.loadModel({ ...j, version: 9 })).rejects.toThrow(/model format version 9 is not supported/);
    await expect(gg.loadModel('{ not json')).rejects.toThrow(gg.DataError);
    // 21 floats = 84 bytes = 112 base64 characters; 8 characters fewer = 78 bytes, 16 fewer = 72 bytes = 18 floats.
    const w = structuredClone(j); w.weights![0].data = j.weights![0].data.slice(8);
    await expect(gg.loadModel(w)).rejects.toThrow(/^loadModel: weights\[0\] \(dense\/kernel\): weight data has 78 bytes, not a multiple of 4$/);
    w.weights![0].data = j.weights![0].data.slice(16);
    await expect(gg.loadModel(w)).rejects.toThrow(/^setWeights: weights\[0\] \(dense\/kernel\) has 18 values but the model expects 21 \(shape \[3, 7\]\)$/);
    await expect(gg.loadModel('/nonexistent/model.json')).rejects.toThrow(/loadModel: cannot read the model file from \/nonexistent\/model.json/);
    const path = join(mkdtempSync(join(tmpdir(), 'gg-save-')), 'bad.json');
    writeFileSync(path, JSON.stringify({ ...j, layers: [{ className: 'Conv2D', config: {} }] }));
    await expect(gg.loadModel(path)).rejects.toThrow(/unknown layer class 'Conv2D'; known: Dense/);
  });
});

// ---------------------------------------------------------------------------------------------
// The optimizer's state (slots and step counter) is saved, so training resumes exactly.

// 37 samples in batches of 7: 5 full batches and a partial one of 2 (odd sizes on purpose).
const r = gg.data.synthetic.blobs({ samples: 37, features: 5, classes: 3, seed: 11 });
const STEPS_PER_EPOCH = 6;

/** 5 → 11 (relu) → batchnorm (moving statistics: parameters without slots) → 3 logits. */
function resumable(backend: gg.Backend, optimizer: () => gg.Optimizer): gg.Sequential {
  const m = gg.sequential({ seed: 3, backend, layers: [
    gg.layers.dense({ inputShape: [5], units: 11, activation: 'relu' }),
    gg.layers.batchNormalization(),
    gg.layers.dense({ units: 3 }),
  ] });
  m.compile({ optimizer: optimizer(), loss: gg.losses.sparseCategoricalCrossentropy({ fromLogits: true }) });
  return m;
}
// shuffle: false: the shuffle generator's position is not saved (a loaded model reshuffles from its seed).
const train = (m: gg.Sequential, epochs: number) => m.fit(r.x, r.y, { epochs, batchSize: 7, shuffle: false });
/** The weights' bit patterns, so NaNs and ±0 compare exactly. */
const bits = (m: gg.Sequential) => m.getWeights().flatMap((w) => Array.from(new Uint32Array(w.data.slice().buffer)));
const roundTrip = (j: gg.ModelJSON): gg.ModelJSON => JSON.parse(JSON.stringify(j));

describe('optimizer state in saved models', () => {
  let simd: gg.Backend;
  beforeAll(async () => { simd = await gg.createWasmBackend({ variant: 'simd' }); });

  const cases: [string, () => gg.Optimizer][] = [
    ['adam', () => gg.optimizers.adam({ learningRate: 0.01 })],
    ['sgd + momentum', () => gg.optimizers.sgd({ learningRate: 0.05, momentum: 0.9 })],
  ];
  for (const [label, opt] of cases) {
    test(`${label} on wasm simd: train 2 epochs, save, load, train 3 = train 5, bit for bit`, async () => {
      const straight = resumable(simd, opt);
      await train(straight, 5);

      const first = resumable(simd, opt);
      await train(first, 2);
      const json = roundTrip(first.toJSON());
      expect(json.version).toBe(2);
      expect(json.optimizerState!.step).toBe(2 * STEPS_PER_EPOCH);
      const resumed = await gg.loadModel(json, { backend: simd });
      expect(resumed.iterations).toBe(2 * STEPS_PER_EPOCH);
      expect(resumed.backendModel.getOptimizerState().step).toBe(2 * STEPS_PER_EPOCH);
      await train(resumed, 3);
      expect(resumed.backendModel.getOptimizerState().step).toBe(5 * STEPS_PER_EPOCH);
      expect(bits(resumed)).toEqual(bits(straight));

      // Control: without the state the optimizer restarts, and the weights differ; so the
      // equality above is the state's doing, not an accident of the setup.
      const fresh = await gg.loadModel(json, { backend: simd, includeOptimizer: false });
      expect(fresh.backendModel.getOptimizerState().step).toBe(0);
      await train(fresh, 3);
      expect(bits(fresh)).not.toEqual(bits(straight));
      const lean = roundTrip(first.toJSON({ includeOptimizer: false }));
      expect(lean.optimizerState).toBeNull();
      const fromLean = await gg.loadModel(lean, { backend: simd });
      await train(fromLean, 3);
      expect(bits(fromLean)).toEqual(bits(fresh));
    });
  }

  test('the state is portable: saved on wasm, resumed on the reference backend, for every optimizer kind', async () => {
    const kinds: [string, () => gg.Optimizer][] = [
      ['sgd', () => gg.optimizers.sgd({ learningRate: 0.05, momentum: 0.8, nesterov: true })],
      ['rmsprop', () => gg.optimizers.rmsprop({ learningRate: 0.01, momentum: 0.5 })],
      ['adagrad', () => gg.optimizers.adagrad({ learningRate: 0.1 })],
      ['adam', () => gg.optimizers.adam({ learningRate: 0.01 })],
      ['adamw', () => gg.optimizers.adamw({ learningRate: 0.01 })],
    ];
    const ref = new gg.ReferenceBackend();
    const flatW = (m: gg.Sequential) => m.getWeights().flatMap((w) => Array.from(w.data));
    for (const [kind, opt] of kinds) {
      const wasmRun = resumable(simd, opt);
      await train(wasmRun, 2);
      const json = roundTrip(wasmRun.toJSON());
      expect(json.optimizerState!.kind).toBe(kind);
      // The same state read back from the reference backend's model is the same file content.
      const onRef = await gg.loadModel(json, { backend: ref });
      expect(onRef.getOptimizerState()).toEqual(json.optimizerState);
      const refFresh = await gg.loadModel(json, { backend: ref, includeOptimizer: false });
      await train(wasmRun, 1);
      await train(onRef, 1);
      await train(refFresh, 1);
      const a = flatW(wasmRun), b = flatW(onRef), c = flatW(refFresh);
      const maxDiff = (u: number[], v: number[]) => u.reduce((mx, x, i) => Math.max(mx, Math.abs(x - v[i])), 0);
      // One epoch (6 steps) of f32 kernel vs f64 reference from equal weights and state: the
      // measured gap is below 1e-5 on weights of size ~1; 1e-4 leaves room. Restoring the slots
      // into the wrong halves (or not at all) moves the weights by > 1e-3 (the control).
      expect(maxDiff(a, b), kind).toBeLessThan(1e-4);
      expect(maxDiff(a, c), kind).toBeGreaterThan(1e-3);
    }
  });

  test('version-1 files (no optimizer state) still load, with a fresh optimizer', async () => {
    const m = resumable(simd, () => gg.optimizers.adam({ learningRate: 0.01 }));
    await train(m, 1);
    const { optimizerState, ...rest } = roundTrip(m.toJSON());
    expect(optimizerState).not.toBeNull();
    const v1 = await gg.loadModel({ ...rest, version: 1 }, { backend: simd });
    expect(v1.backendModel.getOptimizerState().step).toBe(0);
    // A version-1 file is not read for an optimizerState even if one is there.
    const v1With = await gg.loadModel({ ...rest, version: 1, optimizerState }, { backend: simd });
    expect(v1With.backendModel.getOptimizerState().step).toBe(0);
    expect(bits(v1)).toEqual(bits(m));
  });

  test('includeOptimizer: false makes a smaller file; save() takes it; options are checked', async () => {
    const m = resumable(simd, () => gg.optimizers.adam());
    await train(m, 1);
    const dir = mkdtempSync(join(tmpdir(), 'gg-save-'));
    await m.save(join(dir, 'full.json'));
    await m.save(join(dir, 'lean.json'), { includeOptimizer: false });
    const full = readFileSync(join(dir, 'full.json'), 'utf8'), lean = readFileSync(join(dir, 'lean.json'), 'utf8');
    expect(JSON.parse(lean).optimizerState).toBeNull();
    expect(JSON.parse(full).optimizerState.slots.map((s: gg.SavedOptimizerState['slots'][number]) => s.name)).toEqual(['momentum', 'velocity']);
    expect(lean.length).toBeLessThan(full.length);
    // JSON.stringify(model) calls toJSON('') : the key is not an options object.
    expect(JSON.parse(JSON.stringify(m)).optimizerState).toEqual(JSON.parse(full).optimizerState);
    expect(() => m.toJSON({ includeOptimiser: true } as never)).toThrow(/toJSON: unknown option 'includeOptimiser' \(did you mean 'includeOptimizer'\?\)/);
    await expect(m.save(join(dir, 'x.json'), { includeOptimizer: 'no' } as never)).rejects.toThrow(/save: includeOptimizer must be true or false, got "no"/);
    await expect(gg.loadModel(full, { includeOptimizer: 1 } as never)).rejects.toThrow(gg.OptionError);
  });

  /** A trained model and its twin; after a rejected call the first must still train exactly like the twin. */
  async function victimAndTwin(): Promise<[gg.Sequential, gg.Sequential]> {
    const a = resumable(simd, () => gg.optimizers.adam({ learningRate: 0.01 }));
    const b = resumable(simd, () => gg.optimizers.adam({ learningRate: 0.01 }));
    await train(a, 1); await train(b, 1);
    return [a, b];
  }
  async function expectUnharmed(a: gg.Sequential, b: gg.Sequential): Promise<void> {
    expect(a.backendModel.getOptimizerState()).toEqual(b.backendModel.getOptimizerState());
    await train(a, 1); await train(b, 1);
    expect(bits(a)).toEqual(bits(b));
  }

  test('a state of the wrong length is a ShapeError naming both counts; the model is unharmed', async () => {
    const [a, b] = await victimAndTwin();
    // Trainable: dense 5·11 + 11, batchnorm γ and β 2·11, dense 11·3 + 3 = 124 (the moving
    // statistics have no slots); the other model has 12 hidden units: 135.
    const other = gg.sequential({ seed: 3, backend: simd, layers: [
      gg.layers.dense({ inputShape: [5], units: 12, activation: 'relu' }), gg.layers.batchNormalization(), gg.layers.dense({ units: 3 }),
    ] });
    other.compile({ optimizer: gg.optimizers.adam(), loss: 'sparseCategoricalCrossentropy' });
    expect(a.backendModel.trainableCount).toBe(11 * 5 + 11 + 11 + 11 + 11 * 3 + 3);
    expect(other.backendModel.trainableCount).toBe(12 * 5 + 12 + 12 + 12 + 12 * 3 + 3);
    const wrong = other.getOptimizerState();
    expect(() => a.setOptimizerState(wrong)).toThrow(gg.ShapeError);
    expect(() => a.setOptimizerState(wrong)).toThrow(/^setOptimizerState: optimizer state slots\[0\] \(momentum\) has 135 values but the model has 124 trainable parameters$/);
    // Only the second slot wrong: the first is checked and decoded too, but nothing is written.
    const half = a.getOptimizerState();
    half.slots[1] = wrong.slots[1];
    expect(() => a.setOptimizerState(half)).toThrow(/slots\[1\] \(velocity\) has 135 values but the model has 124/);
    await expectUnharmed(a, b);
    // From a file: loadModel rejects it with the same error.
    const json = roundTrip(b.toJSON());
    json.optimizerState!.slots[0].data = wrong.slots[0].data;
    await expect(gg.loadModel(json, { backend: simd })).rejects.toThrow(/^setOptimizerState: optimizer state slots\[0\] \(momentum\) has 135 values but the model has 124 trainable parameters$/);
  });

  test('a state of another optimizer kind is an OptionError naming both kinds; the model is unharmed', async () => {
    const [a, b] = await victimAndTwin();
    const sgd = resumable(simd, () => gg.optimizers.sgd({ momentum: 0.9 }));
    await train(sgd, 1);
    expect(() => a.setOptimizerState(sgd.getOptimizerState())).toThrow(gg.OptionError);
    expect(() => a.setOptimizerState(sgd.getOptimizerState())).toThrow(/^setOptimizerState: the saved optimizer state is for "sgd" but the model is compiled with 'adam'/);
    await expectUnharmed(a, b);
    // In a file whose compile settings say adam but whose state says sgd.
    const json = roundTrip(b.toJSON());
    json.optimizerState = sgd.getOptimizerState();
    await expect(gg.loadModel(json, { backend: simd })).rejects.toThrow(/the saved optimizer state is for "sgd" but the model is compiled with 'adam'/);
    // ... which still loads when the state is left out.
    const ok = await gg.loadModel(json, { backend: simd, includeOptimizer: false });
    expect(ok.backendModel.getOptimizerState().step).toBe(0);
  });

  test('other malformed states are typed errors and leave the model unharmed', async () => {
    const [a, b] = await victimAndTwin();
    const good = a.getOptimizerState();
    const nan = structuredClone(good);
    const v = new Float32Array(a.backendModel.trainableCount); v[7] = NaN;
    nan.slots[1].data = f32ToBase64(v);
    expect(() => a.setOptimizerState(nan)).toThrow(gg.NonFiniteError);
    expect(() => a.setOptimizerState(nan)).toThrow(/slots\[1\] \(velocity\) has NaN at index 7/);
    expect(() => a.setOptimizerState({ ...good, step: -1 })).toThrow(/optimizer state step must be an integer in \[0, 2\^32\), got -1/);
    expect(() => a.setOptimizerState({ ...good, step: 2 ** 32 })).toThrow(gg.DataError);
    expect(() => a.setOptimizerState({ ...good, kind: 'lion' } as never)).toThrow(/optimizer state kind must be one of sgd, rmsprop, adagrad, adam, adamw, got "lion"/);
    expect(() => a.setOptimizerState({ ...good, slots: good.slots.slice(0, 1) })).toThrow(/a 'adam' optimizer state has 2 slot\(s\) \(momentum, velocity\), got an array of length 1/);
    expect(() => a.setOptimizerState({ ...good, slots: [good.slots[1], good.slots[0]] })).toThrow(/slots\[0\] must be the 'momentum' slot of 'adam', got "velocity"/);
    expect(() => a.setOptimizerState(null as never)).toThrow(gg.DataError);
    await expectUnharmed(a, b);
    const uncompiled = roundTrip(b.toJSON());
    uncompiled.compile = null;
    await expect(gg.loadModel(uncompiled, { backend: simd })).rejects.toThrow(/has an optimizer state but no compile settings/);
  });
});

// Saving and loading: model.toJSON()/save() and gg.loadModel() round-trip architecture, compile
// settings and weights bit for bit, on either backend; bad files give DataErrors.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import * as gg from '../ts/index.js';

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

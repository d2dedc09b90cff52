// fit({ health }) on the reference backend: observe / warn / repair, history.health, the
// compile-time and input checks, and bounded repair.
//
// Built to fail here: inputs scaled ×255 (unnormalized), sigmoid + sparse CE (mismatch), SGD at
// learning rate 1e4 on inputs ×50 (non-finite within a few steps).
// Healthy here: a 5→7→3 relu/softmax MLP with Adam 0.01 on three Gaussian blobs.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createReferenceBackend } from '../ts/reference/index.js';
import { sequential } from '../ts/model/sequential.js';
import { layers } from '../ts/model/layers.js';
import { optimizers } from '../ts/model/optimizers.js';
import { OptionError } from '../ts/errors.js';
import { compileDiagnoses, DEFAULT_HEALTH_EVERY, type Diagnosis } from '../ts/health/index.js';
import { blobs } from './helpers/blobs.js';

function model(last: 'softmax' | 'sigmoid' = 'softmax', seed = 3) {
  return sequential({
    seed, backend: createReferenceBackend(),
    layers: [layers.dense({ inputShape: [5], units: 7, activation: 'relu' }), layers.dense({ units: 3, activation: last })],
  });
}

afterEach(() => { vi.restoreAllMocks(); });

describe('fit({ health })', () => {
  it("observe: statistics every 16 steps in history.health, nothing printed, a healthy run stays quiet", async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const m = model();
    m.compile({ optimizer: optimizers.adam({ learningRate: 0.01 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const { x, y } = blobs(300, 1);
    const stats: number[] = [];
    const h = await m.fit(x, y, { epochs: 4, batchSize: 10, health: { policy: 'observe', onStats: (s) => stats.push(s) } });
    expect(DEFAULT_HEALTH_EVERY).toBe(16);
    // 30 steps per epoch × 4 = 120 steps; collected at 0, 16, …, 112
    expect(h.health!.samples.map((s) => s.step)).toEqual(Array.from({ length: 8 }, (_, i) => 16 * i));
    expect(stats).toEqual(h.health!.samples.map((s) => s.step));
    expect(h.health!.diagnoses.map((d) => d.kind)).toEqual([]);
    expect(warn).not.toHaveBeenCalled();
    expect(h.history.accuracy!.at(-1)!).toBeGreaterThan(0.9);
  });

  it('print: false records the same diagnoses without printing them; a non-boolean is a typed error', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const m = model('sigmoid');
    m.compile({ optimizer: optimizers.adam({ learningRate: 0.01 }), loss: 'sparseCategoricalCrossentropy' });
    const { x, y } = blobs(60, 2, 255);
    const h = await m.fit(x, y, { epochs: 2, batchSize: 10, health: { policy: 'warn', every: 1, print: false } });
    expect(h.health!.diagnoses.map((d) => d.kind).slice(0, 2)).toEqual(['loss_activation_mismatch', 'unnormalized_inputs']);
    expect(warn).not.toHaveBeenCalled();
    await expect(m.fit(x, y, { epochs: 1, health: { print: 'no' as never } })).rejects.toThrow(/health: print must be true or false, got "no"/);
  });

  it('warn: prints each diagnosis once with its explanation (unnormalized inputs, loss/activation mismatch)', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const m = model('sigmoid');
    m.compile({ optimizer: optimizers.adam({ learningRate: 0.01 }), loss: 'sparseCategoricalCrossentropy' });
    expect(compileDiagnoses(m).map((d) => [d.kind, d.severity])).toEqual([['loss_activation_mismatch', 'warning']]);
    const { x, y } = blobs(60, 2, 255);
    const seen: Diagnosis[] = [];
    const h = await m.fit(x, y, { epochs: 2, batchSize: 10, health: { policy: 'warn', every: 1, onDiagnosis: (d) => seen.push(d) } });
    const kinds = h.health!.diagnoses.map((d) => d.kind);
    expect(kinds.slice(0, 2)).toEqual(['loss_activation_mismatch', 'unnormalized_inputs']);
    expect(seen.map((d) => d.kind)).toEqual(kinds);
    const printed = warn.mock.calls.map((c) => String(c[0]));
    expect(printed.filter((p) => p.includes('unnormalized inputs'))).toHaveLength(1);
    expect(printed.find((p) => p.includes('loss activation mismatch'))).toMatch(/sparse_categorical_crossentropy expects a probability distribution/);
    // a second fit reports the compile finding again (it is still true) but keeps its own record
    const h2 = await m.fit(x.map((v) => v / 255), y, { epochs: 1, batchSize: 10, health: 'observe' });
    expect(h2.health!.diagnoses.map((d) => d.kind)).toEqual(['loss_activation_mismatch']);
  });

  it('repair: an absurd learning rate is rolled back, lowered and clipped, and training recovers', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const m = model();
    m.compile({ optimizer: optimizers.sgd({ learningRate: 1e4 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const { x, y } = blobs(300, 3, 1);
    const h = await m.fit(x, y, { epochs: 6, batchSize: 10, health: { policy: 'repair', every: 1, maxRepairs: 6 } });
    const acts = h.health!.actions;
    expect(acts.length).toBeGreaterThan(0);
    // Rollbacks for the blow-ups; a restart may follow for what they left (measured: dying_relu
    // in the hidden layer after three rollbacks → leaky ReLU, 100 % accuracy).
    expect(acts[0]!.kind).toBe('rollback');
    expect(acts.every((a) => a.kind === 'rollback' || a.kind === 'restart')).toBe(true);
    expect(acts[0]!.before.learningRate).toBe(1e4);
    expect(acts[0]!.after.learningRate).toBeCloseTo(1e3, 9);
    expect(acts[0]!.after.globalClipNorm).toBe(1);
    expect(acts.at(-1)!.after.loss).toBeDefined();
    expect(Number.isFinite(acts.at(-1)!.after.loss!)).toBe(true);
    // every epoch's mean loss is finite (non-finite batches were handled, not averaged in)
    expect(h.history.loss!.every(Number.isFinite)).toBe(true);
    expect(m.getWeights().every((t) => t.data.every(Number.isFinite))).toBe(true);
    const acc = m.evaluate(x, y).accuracy!;
    expect(acc).toBeGreaterThan(0.8);
  });

  it('repair gives up after maxRepairs with the last good weights and a clear note', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const m = model();
    m.compile({ optimizer: optimizers.sgd({ learningRate: 1e6 }), loss: 'sparseCategoricalCrossentropy' });
    const { x, y } = blobs(100, 4, 50);
    const h = await m.fit(x, y, { epochs: 3, batchSize: 10, health: { policy: 'repair', every: 1, maxRepairs: 0 } });
    expect(h.health!.actions.map((a) => a.kind)).toEqual(['gave_up']);
    expect(h.health!.actions[0]!.note).toMatch(/stopped training with the last good weights/);
    expect(m.getWeights().every((t) => t.data.every(Number.isFinite))).toBe(true);
    expect(h.epoch.length).toBe(1);
  });

  it('rejects bad health options with typed errors', async () => {
    const m = model();
    m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
    const { x, y } = blobs(10, 5);
    await expect(m.fit(x, y, { health: 'fix' as never })).rejects.toThrow(OptionError);
    await expect(m.fit(x, y, { health: 'fix' as never })).rejects.toThrow(/policy must be 'observe', 'warn' or 'repair', got "fix"/);
    await expect(m.fit(x, y, { health: { every: 0 } })).rejects.toThrow(/every must be an integer ≥ 1, got 0/);
    await expect(m.fit(x, y, { health: { polcy: 'warn' } as never })).rejects.toThrow(/unknown option 'polcy' \(did you mean 'policy'\?\)/);
    // the model still trains afterwards
    const h = await m.fit(x, y, { epochs: 1, health: 'observe' });
    expect(Number.isFinite(h.history.loss![0]!)).toBe(true);
  });
});

// fit({ health: { policy: 'repair' } }) repairing by restart (issue 3, item 4: "for the others it
// applies the ranked remedy, restarting from a fresh initialization when the remedy needs it, as
// AUTOTRAINER does ... gives up with a clear report after a bounded number of attempts").
// Real MNIST on the wasm backend, small subsets: 4,000 training / 2,000 test images, 2 epochs,
// batch 32, statistics every 8 steps (the doctor's setting).
//
// Built to fail: a deep sigmoid stack (8 × 64 sigmoid, SGD 0.05: vanishing gradients) and ReLU
// layers whose biases start at −2 (dying ReLU / dead units from the first step). Healthy: the seed
// model (relu, relu, softmax; Adam 1e-3), which must take no action. Bounded: maxRepairs 0 gives up
// at once with a note naming the remedies to try.
// Also: SGD at 1e-3 (chance accuracy after an epoch: loss plateau → learning rate ×10).
// Measured when written (seed 42), test accuracy unrepaired → repaired: vanishing 10.3 % → 82.6 %
// (restart at step 112 with ReLU + He); dead ReLU 11.7 % → 85.4 % (restart at step 0 with He + zero
// biases); SGD 1e-3 → 72.9 % (restart at step 124 with learning rate 0.01); healthy 89.7 %, no
// action. The bars leave room for small-data noise (chance is 10 %: repaired runs must be far above
// it, the unrepaired ones near it).
import { beforeAll, describe, expect, it, vi } from 'vitest';
import * as gg from '../ts/index.js';
import type { HealthOptions, RepairAction } from '../ts/health/index.js';
import '../ts/health/index.js';

let data: Awaited<ReturnType<typeof gg.data.loadMnist>>;
beforeAll(async () => {
  await gg.ready({ backend: 'wasm' });
  data = await gg.data.loadMnist({ trainSize: 4000, testSize: 2000 });
});

async function run(layers: gg.DenseOptions[], optimizer: gg.Optimizer, health: HealthOptions, epochs = 2) {
  const m = gg.sequential({ seed: 42, layers: layers.map((l) => gg.layers.dense(l)) });
  m.compile({ optimizer, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  try {
    const h = await m.fit({ data: data.train.x, shape: data.train.shape }, data.train.y, { epochs, batchSize: 32, health: { every: 8, ...health } });
    const printed = warn.mock.calls.map((c) => String(c[0]));
    const acc = m.evaluate({ data: data.test.x, shape: data.test.shape }, data.test.y).accuracy!;
    return { h, acc, printed, activations: m.layers.map((l) => (l as gg.Dense).activation.name), model: m };
  } finally {
    warn.mockRestore();
  }
}

const sigmoidStack = (): gg.DenseOptions[] => [
  { inputShape: [784], units: 64, activation: 'sigmoid' },
  ...Array.from({ length: 7 }, () => ({ units: 64, activation: 'sigmoid' })),
  { units: 10, activation: 'softmax' },
];
const deadRelu = (): gg.DenseOptions[] => [
  { inputShape: [784], units: 128, activation: 'relu', biasInitializer: gg.initializers.constant({ value: -2 }) },
  { units: 128, activation: 'relu', biasInitializer: gg.initializers.constant({ value: -2 }) },
  { units: 10, activation: 'softmax' },
];
const restarts = (a: RepairAction[]) => a.filter((x) => x.kind === 'restart');

describe("fit({ health: { policy: 'repair' } }) restarts with the ranked remedy", () => {
  it('a deep sigmoid stack (vanishing gradients) is restarted with ReLU + He and trains', async () => {
    const before = await run(sigmoidStack(), gg.optimizers.sgd({ learningRate: 0.05 }), { policy: 'observe' });
    const after = await run(sigmoidStack(), gg.optimizers.sgd({ learningRate: 0.05 }), { policy: 'repair' });
    const names = after.model.layers.map((l) => l.name);
    before.model.dispose(); after.model.dispose();
    expect(before.h.health!.diagnoses.map((d) => d.kind)).toContain('vanishing_gradients');
    expect(before.acc).toBeLessThan(0.3);
    const acts = after.h.health!.actions;
    const r = restarts(acts);
    expect(r.length).toBeGreaterThanOrEqual(1);
    expect(r[0]!.diagnosis).toBe('vanishing_gradients');
    expect(r[0]!.change).toBe('hidden activation → relu; kernel initializer → he_normal');
    expect(r[0]!.seed).toBe(43);
    // before: the aborted run's epoch so far, at chance; after: the restarted run's first epoch.
    expect(r[0]!.before.accuracy!).toBeLessThan(0.2);
    expect(r[0]!.after.accuracy!).toBeGreaterThan(r[0]!.before.accuracy! + 0.2);
    expect(r[0]!.after.loss!).toBeLessThan(r[0]!.before.loss);
    expect(Number(r[0]!.evidence!.ratio)).toBeLessThan(1e-3);
    // The model itself changed (hidden layers relu, names kept) and the history is the new run's.
    expect(after.activations).toEqual([...Array(8).fill('relu'), 'softmax']);
    expect(names).toEqual(['dense', ...Array.from({ length: 8 }, (_, i) => `dense_${i + 1}`)]);
    expect(after.h.epoch).toEqual([0, 1]);
    expect(after.h.history.accuracy![0]).toBe(r[0]!.after.accuracy);
    // Each action printed once.
    expect(after.printed.filter((l) => l.startsWith('[gradguard repair]')).length).toBe(acts.length);
    expect(after.acc).toBeGreaterThan(0.75);
  }, 300_000);

  it('ReLU layers with biases at −2 (dead units) are restarted and train', async () => {
    const before = await run(deadRelu(), gg.optimizers.sgd({ learningRate: 0.05 }), { policy: 'observe' });
    const after = await run(deadRelu(), gg.optimizers.sgd({ learningRate: 0.05 }), { policy: 'repair' });
    const biases = after.model.getWeights().filter((w) => w.name.endsWith('/bias'));
    before.model.dispose(); after.model.dispose();
    expect(before.h.health!.diagnoses.map((d) => d.kind)).toEqual(expect.arrayContaining(['poor_initialization', 'dying_relu']));
    expect(before.acc).toBeLessThan(0.3);
    const r = restarts(after.h.health!.actions);
    expect(r.length).toBeGreaterThanOrEqual(1);
    // The first-step check (every unit dead) fires before the dying-ReLU rule's warm-up ends; its
    // top remedy for ReLU layers is He initialization with zero biases.
    expect(r[0]!.diagnosis).toBe('poor_initialization');
    expect(r[0]!.step).toBe(0);
    expect(r[0]!.change).toBe('kernel initializer → he_normal, zero biases');
    expect(Number(r[0]!.evidence!.deadFraction)).toBe(1);
    // Trained biases, started at 0, are now small instead of −2.
    for (const b of biases) expect(Math.min(...b.data)).toBeGreaterThan(-1);
    expect(after.acc).toBeGreaterThan(0.75);
  }, 300_000);

  it('the healthy seed model takes no action', async () => {
    const r = await run([
      { inputShape: [784], units: 128, activation: 'relu' }, { units: 128, activation: 'relu' }, { units: 10, activation: 'softmax' },
    ], gg.optimizers.adam({ learningRate: 1e-3 }), { policy: 'repair' });
    r.model.dispose();
    expect(r.h.health!.diagnoses).toEqual([]);
    expect(r.h.health!.actions).toEqual([]);
    expect(r.printed).toEqual([]);
    expect(r.acc).toBeGreaterThan(0.85);
  }, 300_000);

  it('maxRepairs: 0 gives up at the first diagnosis with a note naming the remedies to try', async () => {
    const r = await run(sigmoidStack(), gg.optimizers.sgd({ learningRate: 0.05 }), { policy: 'repair', maxRepairs: 0 });
    r.model.dispose();
    const acts = r.h.health!.actions;
    expect(acts.map((a) => [a.kind, a.diagnosis])).toEqual([['gave_up', 'vanishing_gradients']]);
    expect(acts[0]!.note).toContain('maxRepairs 0');
    expect(acts[0]!.note).toContain('tried: nothing');
    expect(acts[0]!.note).toContain('Next remedies to try: replace sigmoid/tanh hidden activations by ReLU-family ones (layer.activation = relu)');
    // Training stopped in the first epoch, the model unchanged (still sigmoid).
    expect(r.h.epoch).toEqual([0]);
    expect(r.activations[0]).toBe('sigmoid');
    expect(r.printed.filter((l) => l.startsWith('[gradguard repair] giving up')).length).toBe(1);
  }, 300_000);

  it('model._reinitialize: same seed reproduces compile\'s weights bit for bit, layers swapped keep names, optimizer state reset', async () => {
    const m = gg.sequential({ seed: 7, layers: [gg.layers.dense({ inputShape: [5], units: 3, activation: 'sigmoid' }), gg.layers.dense({ units: 2, activation: 'softmax' })] });
    m.compile({ optimizer: gg.optimizers.adam({ learningRate: 0.01 }), loss: 'sparseCategoricalCrossentropy' });
    const w0 = m.getWeights().map((t) => Array.from(t.data));
    await m.fit(new Float32Array(5 * 7).map((_, i) => (i % 5) / 5), new Int32Array(7).map((_, i) => i % 2), { epochs: 1, batchSize: 7 });
    expect(m.backendModel.getOptimizerState().step).toBe(1);
    m._reinitialize({ seed: 7 });
    expect(m.getWeights().map((t) => Array.from(t.data))).toEqual(w0);
    expect(m.backendModel.getOptimizerState().step).toBe(0);
    m._reinitialize({ seed: 8, layers: [gg.layers.dense({ inputShape: [5], units: 3, activation: 'relu', kernelInitializer: 'heNormal' }), m.layers[1]!] });
    expect(m.layers.map((l) => [l.name, (l as gg.Dense).activation.name])).toEqual([['dense', 'relu'], ['dense_1', 'softmax']]);
    expect(m.getWeights()[0]!.data).not.toEqual(new Float32Array(w0[0]!));
    expect(() => m._reinitialize({ seed: 8, layers: [gg.layers.dense({ inputShape: [5], units: 4 }), m.layers[1]!] })).toThrow(/layer 0 would output 4 values instead of 3/);
    m.dispose();
  });

  it('restarts: false only reports (the doctor restarts itself); a bad value is a typed error', async () => {
    const r = await run(sigmoidStack(), gg.optimizers.sgd({ learningRate: 0.05 }), { policy: 'repair', restarts: false });
    r.model.dispose();
    expect(r.h.health!.diagnoses.map((d) => d.kind)).toContain('vanishing_gradients');
    expect(r.h.health!.actions).toEqual([]);
    expect(r.activations[0]).toBe('sigmoid');
    const m = gg.sequential({ layers: [gg.layers.dense({ inputShape: [784], units: 10, activation: 'softmax' })] });
    m.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
    await expect(m.fit({ data: data.train.x, shape: data.train.shape }, data.train.y, { health: { restarts: 'yes' as never } }))
      .rejects.toThrow(/fit: health: restarts must be true or false, got "yes"/);
    m.dispose();
  }, 300_000);

  it('restart notes give the learning rate to 6 significant digits (0.0003 × 10 reads 0.003)', async () => {
    const r = await run([
      { inputShape: [784], units: 128, activation: 'relu' }, { units: 10, activation: 'softmax' },
    ], gg.optimizers.sgd({ learningRate: 3e-4 }), { policy: 'repair' });
    r.model.dispose();
    const re = restarts(r.h.health!.actions);
    expect(re.length).toBeGreaterThanOrEqual(1);
    expect(re[0]!.change).toBe('learning rate 0.0003 → 0.003');
  }, 300_000);

  it('a learning rate far too low (SGD 1e-3: chance accuracy after an epoch) is raised tenfold per restart, capped', async () => {
    const r = await run([
      { inputShape: [784], units: 128, activation: 'relu' }, { units: 128, activation: 'relu' }, { units: 10, activation: 'softmax' },
    ], gg.optimizers.sgd({ learningRate: 1e-3 }), { policy: 'repair' });
    const lr = r.model.optimizer!.learningRate;
    r.model.dispose();
    const re = restarts(r.h.health!.actions);
    expect(re.length).toBeGreaterThanOrEqual(1);
    expect(re[0]!.diagnosis).toBe('loss_plateau');
    expect(re[0]!.change).toBe('learning rate 0.001 → 0.01');
    expect(re[0]!.before.accuracy!).toBeLessThan(0.2);
    expect(lr).toBeLessThanOrEqual(0.1); // 100 × the starting rate at most
    expect(r.acc).toBeGreaterThan(0.6);
  }, 300_000);
});

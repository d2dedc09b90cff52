// What a repair restart (fit({ health: { policy: 'repair' } }) re-initialising the model and
// training again from the first epoch) means for the rest of fit:
//   1. stateful callbacks (earlyStopping, reduceLROnPlateau, healthCallback) start afresh through
//      the onRestart hook: a restarted run is a new run;
//   2. the HTML report's timeline shows only the final run's diagnoses; earlier runs' are listed
//      apart ("before restart n");
// and, next to it, fit's NaN path without `health`: the model goes back to the epoch's start with
// its optimizer state (Keras never resets the optimizer), instead of resetting the moments.
//
// Callback tests drive the restart through the same seam the repair loop uses (model._reinitialize
// + model._restartRequested, ts/model/sequential.ts), from a scripted callback placed before the
// callback under test: it writes a scripted 'metric' into the epoch logs (shared by every
// callback of the hook) and asks for a restart at a chosen epoch end, so the counters' paths are
// exact and do not depend on training noise.
import { describe, expect, it, vi } from 'vitest';
import * as gg from '../ts/index.js';
import { createReferenceBackend } from '../ts/reference/index.js';
import { earlyStopping, type Callback, type Logs } from '../ts/model/callbacks.js';
import { healthCallback, reduceLROnPlateau, renderHealthReport, reportSeries, splitRuns } from '../ts/health/index.js';
import { blobs } from './helpers/blobs.js';

const data = blobs(60, 1);

function smallModel(lr = 0.1, backend: gg.Backend = createReferenceBackend()) {
  const m = gg.sequential({ seed: 5, backend, layers: [
    gg.layers.dense({ inputShape: [5], units: 4, activation: 'relu' }), gg.layers.dense({ units: 3, activation: 'softmax' })] });
  m.compile({ optimizer: gg.optimizers.sgd({ learningRate: lr }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return m;
}

/** Writes script[k] as logs.metric at the k-th epoch end (over all runs) and asks for a restart
 * (fresh weights, seed 99) at the epoch ends listed in `restartAfter` (indices into script). */
function scripted(m: gg.Sequential, script: number[], restartAfter: number[], extra: (k: number) => void = () => {}) {
  let k = 0;
  const seen: Array<{ epoch: number; lr: number }> = [];
  const weights: Float32Array[][] = [];
  const cb: Callback = {
    onEpochBegin(epoch) { seen.push({ epoch, lr: m.optimizer!.learningRate }); },
    onEpochEnd(_e: number, logs: Logs) {
      logs.metric = script[k]!;
      weights.push(m.getWeights().map((t) => t.data.slice()));
      extra(k);
      if (restartAfter.includes(k)) { m._reinitialize({ seed: 99 }); m._restartRequested = true; }
      k++;
    },
  };
  return { cb, seen, weights, count: () => k };
}

describe('stateful callbacks start afresh after a restart (onRestart)', () => {
  it('earlyStopping: the abandoned run\'s best value and wait count do not stop the new run', async () => {
    const m = smallModel();
    // Run A: 1.0 (best), 2.0 (wait 1) → restart. Run B: 1.5, 1.4, 1.3. Carried over, B's 1.5 would
    // be wait 2 = patience against A's best 1.0 and stop B after its first epoch.
    const s = scripted(m, [1.0, 2.0, 1.5, 1.4, 1.3], [1]);
    const es = earlyStopping({ monitor: 'metric', mode: 'min', patience: 2 });
    const h = await m.fit(data.x, data.y, { epochs: 3, batchSize: 20, callbacks: [s.cb, es] });
    expect(h.epoch).toEqual([0, 1, 2]);
    expect(es.stoppedEpoch).toBe(-1);
    expect(s.count()).toBe(5);
    m.dispose();
  });

  it('earlyStopping: a stop it asked for at the epoch end where the restart was asked for is withdrawn', async () => {
    const m = smallModel();
    // Run A (patience 1): 1.0, 2.0 → earlyStopping stops at A's epoch 1, the epoch whose end also
    // asks for the restart. Run B must still train its 3 epochs (0.9, 0.8, 0.7 keep improving).
    const s = scripted(m, [1.0, 2.0, 0.9, 0.8, 0.7], [1]);
    const es = earlyStopping({ monitor: 'metric', mode: 'min', patience: 1 });
    const h = await m.fit(data.x, data.y, { epochs: 3, batchSize: 20, callbacks: [s.cb, es] });
    expect(h.epoch).toEqual([0, 1, 2]);
    expect(es.stoppedEpoch).toBe(-1);
    m.dispose();
  });

  it('earlyStopping with restoreBestWeights never restores the abandoned model\'s weights', async () => {
    const m = smallModel();
    // mode max. Run A: 0.9 (best, its weights saved) → restart. Run B (patience 1): 0.5 (best of
    // B), 0.4 → stop; the weights restored must be B's after its first epoch (script index 1).
    const s = scripted(m, [0.9, 0.5, 0.4, 0.3], [0]);
    const es = earlyStopping({ monitor: 'metric', mode: 'max', patience: 1, restoreBestWeights: true });
    const h = await m.fit(data.x, data.y, { epochs: 3, batchSize: 20, callbacks: [s.cb, es] });
    expect(h.epoch).toEqual([0, 1]);
    expect(es.stoppedEpoch).toBe(1);
    expect(m.getWeights().map((t) => Array.from(t.data))).toEqual(s.weights[1]!.map((w) => Array.from(w)));
    expect(s.weights[1]![0]).not.toEqual(s.weights[0]![0]);
    m.dispose();
  });

  it('reduceLROnPlateau: the wait count starts afresh', async () => {
    const m = smallModel(0.1);
    // Run A: 1.0, 2.0 (wait 1) → restart. Run B: 1.5, 1.4, 1.3. Carried over, B's 1.5 would be
    // wait 2 = patience and halve the rate.
    const s = scripted(m, [1.0, 2.0, 1.5, 1.4, 1.3], [1]);
    const rl = reduceLROnPlateau({ monitor: 'metric', mode: 'min', patience: 2, factor: 0.5, minDelta: 0 });
    await m.fit(data.x, data.y, { epochs: 3, batchSize: 20, callbacks: [s.cb, rl] });
    expect(rl.reductions).toEqual([]);
    expect(m.optimizer!.learningRate).toBe(0.1);
    m.dispose();
  });

  it('reduceLROnPlateau: its reductions on the abandoned run are undone; a rate chosen for the restart is kept', async () => {
    // Run A: 1.0, 2.0, 2.0 → halved at A's epoch 2, then restart at that epoch's end: run B starts
    // at the rate run A started with.
    let m = smallModel(0.1);
    let s = scripted(m, [1.0, 2.0, 2.0, 0.9, 0.8, 0.7], [2]);
    let rl = reduceLROnPlateau({ monitor: 'metric', mode: 'min', patience: 2, factor: 0.5, minDelta: 0 });
    await m.fit(data.x, data.y, { epochs: 3, batchSize: 20, callbacks: [s.cb, rl] });
    expect(rl.reductions).toEqual([{ epoch: 2, from: 0.1, to: 0.05 }]);
    expect(s.seen.map((e) => e.lr)).toEqual([0.1, 0.1, 0.1, 0.1, 0.1, 0.1]);
    m.dispose();
    // Halved at A's epoch 2; at A's epoch 3 the restart sets its own rate (0.3, as a learning-rate
    // remedy does) before asking for it: that rate is kept.
    m = smallModel(0.1);
    s = scripted(m, [1.0, 2.0, 2.0, 0.5, 0.9, 0.8, 0.7, 0.6], [3], (k) => { if (k === 3) m.optimizer!.learningRate = 0.3; });
    rl = reduceLROnPlateau({ monitor: 'metric', mode: 'min', patience: 2, factor: 0.5, minDelta: 0 });
    await m.fit(data.x, data.y, { epochs: 4, batchSize: 20, callbacks: [s.cb, rl] });
    expect(s.seen.map((e) => e.lr)).toEqual([0.1, 0.1, 0.1, 0.05, 0.3, 0.3, 0.3, 0.3]);
    m.dispose();
  });

  it('healthCallback: a fresh monitor for the new run, the abandoned one kept in earlierRuns', async () => {
    const m = smallModel();
    const s = scripted(m, [1, 1, 1, 1], [0]);
    const hc = healthCallback();
    await m.fit(data.x, data.y, { epochs: 3, batchSize: 20, callbacks: [s.cb, hc] });
    expect(hc.earlierRuns.length).toBe(1);
    expect(hc.earlierRuns[0]).not.toBe(hc.monitor);
    // Statistics every step (a callback has onGradientStats): 3 steps per epoch; run A had 1
    // epoch, run B 3, and steps count from fit's start again in B.
    expect(hc.earlierRuns[0]!.samples.map((q) => q.step)).toEqual([0, 1, 2]);
    expect(hc.monitor.samples.map((q) => q.step)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    m.dispose();
  });

  it('without a restart onRestart is never called; with the repair loop, once per restart action', async () => {
    let calls: number[] = [];
    const spy: Callback = { onRestart(n) { calls.push(n); } };
    const m = smallModel();
    await m.fit(data.x, data.y, { epochs: 2, batchSize: 20, callbacks: [spy] });
    expect(calls).toEqual([]);
    m.dispose();
    calls = [];
    const r = await deadReluRepair([spy]);
    const restarts = r.h.health!.actions.filter((a) => a.kind === 'restart').length;
    expect(restarts).toBeGreaterThanOrEqual(1);
    expect(calls).toEqual(Array.from({ length: restarts }, (_, i) => i + 1));
  });
});

/** ReLU layers whose biases start at −2 on the blobs: every unit dead at the first step
 * (poor_initialization, deadFraction 1), so repair restarts (He + zero biases) and trains. */
async function deadReluRepair(callbacks: Callback[] = []) {
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  const m = gg.sequential({ seed: 3, backend: createReferenceBackend(), layers: [
    gg.layers.dense({ inputShape: [5], units: 16, activation: 'relu', biasInitializer: gg.initializers.constant({ value: -2 }) }),
    gg.layers.dense({ units: 16, activation: 'relu', biasInitializer: gg.initializers.constant({ value: -2 }) }),
    gg.layers.dense({ units: 3, activation: 'softmax' })] });
  m.compile({ optimizer: gg.optimizers.sgd({ learningRate: 0.05 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  try {
    const big = blobs(300, 2);
    const h = await m.fit(big.x, big.y, { epochs: 3, batchSize: 10, callbacks, health: { policy: 'repair', every: 1 } });
    return { h, m };
  } finally {
    warn.mockRestore();
    m.dispose();
  }
}

describe('the health report after a restart (report data, not pixels)', () => {
  it('the timeline marks only the final run\'s diagnoses; earlier runs are listed by the restart that ended them', async () => {
    const { h } = await deadReluRepair();
    const rec = h.health!;
    const restarts = rec.actions.filter((a) => a.kind === 'restart');
    expect(restarts.length).toBeGreaterThanOrEqual(1);
    // Every diagnosis but the data/loss checks is tagged with its run; the first run's include
    // the dead units at step 0 that caused the restart.
    for (const d of rec.diagnoses) expect(d.run === undefined || (d.run >= 0 && d.run <= restarts.length)).toBe(true);
    const first = rec.diagnoses.filter((d) => d.run === 0);
    expect(first.some((d) => d.kind === 'poor_initialization' && d.step === 0)).toBe(true);

    const split = splitRuns(rec);
    expect(split.finalRun).toBe(restarts.length);
    expect(split.final).toEqual(rec.diagnoses.filter((d) => d.run === undefined || d.run === restarts.length));
    expect(split.earlier.map((e) => e.restart)).toEqual(restarts.map((_, i) => i + 1));
    expect(split.earlier[0]!.diagnoses).toEqual(first);
    expect(split.earlier[0]!.action).toBe(restarts[0]);

    // The markers drawn on the timeline are exactly the final run's (step ≥ 0) diagnoses.
    const series = reportSeries(rec);
    expect(series.markers).toEqual(split.final.filter((d) => d.step >= 0).map((d) => ({ step: d.step, kind: d.kind, severity: d.severity })));
    // Here the restarted run (He, zero biases) is healthy: nothing of the first run's is drawn.
    expect(split.final.filter((d) => d.step >= 0)).toEqual([]);
    expect(series.markers).toEqual([]);
    // The plotted statistics are the final run's (one sample per step, every: 1, from step 0).
    expect(series.steps[0]).toBe(0);
    expect(series.steps.length).toBe(rec.samples.length);

    // The page lists the earlier run under "Before restart 1" with the restart's note.
    const html = await renderHealthReport(rec, { history: h, uplot: { js: '', css: '' } });
    expect(html).toContain('Earlier runs, abandoned at a restart');
    expect(html).toContain(`Before restart 1: ${restarts[0]!.diagnosis.replace(/_/g, ' ')} at step ${restarts[0]!.step}`);
    expect(html).toContain(`Diagnoses (final run, after restart ${restarts.length})`);
  });

  it('without restarts nothing changes: every diagnosis is on the timeline and no earlier-runs section', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const m = gg.sequential({ seed: 3, backend: createReferenceBackend(), layers: [
      gg.layers.dense({ inputShape: [5], units: 16, activation: 'relu', biasInitializer: gg.initializers.constant({ value: -2 }) }),
      gg.layers.dense({ units: 3, activation: 'softmax' })] });
    m.compile({ optimizer: gg.optimizers.sgd({ learningRate: 0.05 }), loss: 'sparseCategoricalCrossentropy' });
    const h = await m.fit(data.x, data.y, { epochs: 2, batchSize: 10, health: { policy: 'observe', every: 1 } });
    warn.mockRestore();
    m.dispose();
    const rec = h.health!;
    expect(rec.diagnoses.length).toBeGreaterThan(0);
    expect(splitRuns(rec)).toEqual({ finalRun: 0, final: rec.diagnoses, earlier: [] });
    expect(reportSeries(rec).markers.length).toBe(rec.diagnoses.filter((d) => d.step >= 0).length);
    const html = await renderHealthReport(rec, { uplot: { js: '', css: '' } });
    expect(html).not.toContain('Earlier runs');
  });
});

describe('fit() without health: a NaN loss never resets the optimizer state', () => {
  // The wasm kernel computes in f32, where Adam at lr 1e30 overflows within a few steps (the
  // reference's f64 would take far longer).
  it('the weights, the optimizer\'s moments and step counter, and iterations go back to the epoch\'s start', async () => {
    const m = smallModel(0.1, await gg.createWasmBackend());
    m.compile({ optimizer: gg.optimizers.adam({ learningRate: 0.01 }), loss: 'sparseCategoricalCrossentropy' });
    await m.fit(data.x, data.y, { epochs: 2, batchSize: 20 });
    const w = m.getWeights().map((t) => Array.from(t.data));
    const st = m.backendModel.getOptimizerState();
    expect(st.step).toBe(6);
    expect(st.slots.some((v) => v !== 0)).toBe(true);
    const it0 = m.iterations;
    m.optimizer!.learningRate = 1e30; // no reset: the rate reaches the backend as is
    // A healthy first epoch at lr 0 would be nicer, but one epoch of 3 steps at 1e30 is enough to
    // overflow; the epoch whose loss turned NaN is the first of this fit.
    const err = await m.fit(data.x, data.y, { epochs: 2, batchSize: 20 }).catch((e) => e);
    expect(err).toBeInstanceOf(gg.NonFiniteError);
    expect(err.message).toMatch(/^fit: the loss became (NaN|-?Infinity) at epoch 0, batch \d \(step \d+\); the weights were restored to the start of epoch 0, with the optimizer's state \(moments, step counter\) as it was then/);
    expect(m.getWeights().map((t) => Array.from(t.data))).toEqual(w);
    const after = m.backendModel.getOptimizerState();
    expect(after.step).toBe(st.step);
    expect(Array.from(after.slots)).toEqual(Array.from(st.slots));
    expect(m.iterations).toBe(it0);
    // Training continues the same Adam run at a sane rate: its step counter goes on from 6.
    m.optimizer!.learningRate = 0.01;
    await m.fit(data.x, data.y, { epochs: 1, batchSize: 20 });
    expect(m.backendModel.getOptimizerState().step).toBe(9);
    m.dispose();
  });

  it('with terminateOnNaN (Keras): training stops after the batch, no throw, optimizer state not reset', async () => {
    const m = smallModel(0.1, await gg.createWasmBackend());
    m.compile({ optimizer: gg.optimizers.adam({ learningRate: 1e30 }), loss: 'sparseCategoricalCrossentropy' });
    const h = await m.fit(data.x, data.y, { epochs: 3, batchSize: 20, callbacks: [gg.callbacks.terminateOnNaN()] });
    expect(h.epoch.length).toBeLessThanOrEqual(1);
    // Every step taken is still counted by the optimizer (Keras leaves its state alone).
    expect(m.backendModel.getOptimizerState().step).toBe(m.iterations);
    expect(m.iterations).toBeGreaterThan(0);
    m.dispose();
  });
});

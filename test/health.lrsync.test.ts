// The learning rate the health monitor quotes (remedies such as "raise the learning rate tenfold
// (optimizer.learningRate = …)", and the update-ratio rules' evidence.learningRate) is the rate in
// force when the diagnosis is built, not the one fit began with: a user callback, a schedule or
// reduceLROnPlateau may change it mid-run.
//
// The case: a 5→7 relu→3 softmax MLP on three Gaussian blobs (120 rows, batch 10: 12 steps per
// epoch), SGD at 0.05, statistics every step, warm-up 12 steps (= epoch 0). After epoch 0 the rate
// is cut to 1e-6, so the update-to-weight ratio drops near 1e-6 (< updateRatioLow 1e-5) and
// learning_rate_too_low fires during epoch 1 — at the cut rate, whose remedy is 1e-5. Quoting the
// initial rate would say 0.5: raising the rate 10 000-fold from what is running.
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as gg from '../ts/index.js';
import { createReferenceBackend } from '../ts/reference/index.js';
import type { Callback } from '../ts/model/callbacks.js';
import { healthCallback, reduceLROnPlateau, renderHealthReport, type Diagnosis } from '../ts/health/index.js';
import { blobs } from './helpers/blobs.js';

const LR0 = 0.05;
const CUT = 1e-6;
const data = blobs(120, 1);
const thresholds = { warmupSteps: 12 };

function model(optimizer = gg.optimizers.sgd({ learningRate: LR0 })) {
  const m = gg.sequential({ seed: 3, backend: createReferenceBackend(), layers: [
    gg.layers.dense({ inputShape: [5], units: 7, activation: 'relu' }), gg.layers.dense({ units: 3, activation: 'softmax' })] });
  m.compile({ optimizer, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return m;
}

/** A user callback that cuts the rate to CUT at every epoch 0's end (after a restart too). */
const cutAfterEpoch0 = (m: gg.Sequential): Callback => ({
  onEpochEnd(epoch) { if (epoch === 0) m.optimizer!.learningRate = CUT; },
});

/** The value of d's learning-rate remedy (the first one; every rule that has one quotes the rate). */
const lrRemedy = (d: Diagnosis) => d.remedies.find((r) => r.setting === 'optimizer.learningRate')?.value;

afterEach(() => { vi.restoreAllMocks(); });

describe('the monitor quotes the learning rate in force, not the initial one', () => {
  it.each(['observe', 'warn', 'repair'] as const)('fit({ health: %s }) after a callback lowered the rate', async (policy) => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const m = model();
    // The rate in force when each diagnosis was built (onDiagnosis runs synchronously inside it).
    const atFire: Array<{ d: Diagnosis; lr: number }> = [];
    const h = await m.fit(data.x, data.y, {
      epochs: 3, batchSize: 10, callbacks: [cutAfterEpoch0(m)],
      health: { policy, every: 1, thresholds, onDiagnosis: (d) => atFire.push({ d, lr: m.optimizer!.learningRate }) },
    });
    const low = atFire.filter((a) => a.d.kind === 'learning_rate_too_low');
    expect(low.length).toBeGreaterThan(0);
    // The first one fires after the cut (epoch ≥ 1) at the cut rate.
    expect(low[0]!.d.epoch).toBeGreaterThanOrEqual(1);
    expect(low[0]!.lr).toBe(CUT);
    for (const { d, lr } of low) {
      expect(d.evidence.learningRate).toBe(lr);
      // lr × 10 in f64 both ways: exact equality is the contract (remediesFor computes lr * 10).
      expect(lrRemedy(d)).toBe(lr * 10);
    }
    expect(h.health!.diagnoses).toEqual(expect.arrayContaining(low.map((a) => a.d)));
    if (policy === 'warn') {
      // The printed advice quotes the same number (formatDiagnosis: "try: … (setting = value)").
      const printed = warn.mock.calls.map((c) => String(c[0])).find((s) => s.includes('learning rate too low'))!;
      expect(printed).toContain(`optimizer.learningRate = ${CUT * 10}`);
    }
    if (policy === 'repair') {
      // The restart applies the remedy's rate: ten times the cut rate, not ten times LR0.
      const restart = h.health!.actions.find((a) => a.kind === 'restart' && a.diagnosis === 'learning_rate_too_low');
      expect(restart?.before.learningRate).toBe(CUT);
      expect(restart?.after.learningRate).toBe(CUT * 10);
    }
    // The HTML report lists the remedy as the diagnosis carries it.
    const html = await renderHealthReport(h.health!, { history: h, uplot: { js: '', css: '' } });
    expect(html).toContain(String(CUT * 10));
    m.dispose();
  });

  it('reduceLROnPlateau and a schedule: the rate they set is the one quoted', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    // reduceLROnPlateau in mode 'max' on a falling loss sees no improvement after epoch 1 and
    // (patience 1) multiplies the rate by 2e-5 at epoch 1's end: 0.05 → 1e-6.
    const m1 = model();
    const plateau = reduceLROnPlateau({ monitor: 'loss', mode: 'max', patience: 1, factor: 2e-5 });
    const seen1: Array<{ d: Diagnosis; lr: number }> = [];
    await m1.fit(data.x, data.y, {
      epochs: 4, batchSize: 10, callbacks: [plateau],
      health: { policy: 'observe', every: 1, thresholds, onDiagnosis: (d) => seen1.push({ d, lr: m1.optimizer!.learningRate }) },
    });
    expect(plateau.reductions.length).toBeGreaterThan(0);
    const low1 = seen1.find((a) => a.d.kind === 'learning_rate_too_low')!;
    expect(low1.lr).toBe(plateau.reductions[0]!.to);
    expect(lrRemedy(low1.d)).toBe(low1.lr * 10);
    m1.dispose();

    // A schedule: 0.05 for steps ≤ 11 (epoch 0), 1e-6 after. fit began at 0.05.
    const m2 = model(gg.optimizers.sgd({ learningRate: gg.schedules.piecewiseConstantDecay({ boundaries: [11], values: [LR0, CUT] }) }));
    const h2 = await m2.fit(data.x, data.y, { epochs: 3, batchSize: 10, health: { policy: 'observe', every: 1, thresholds } });
    const low2 = h2.health!.diagnoses.find((d) => d.kind === 'learning_rate_too_low')!;
    expect(low2.evidence.learningRate).toBe(CUT);
    expect(lrRemedy(low2)).toBe(CUT * 10);
    m2.dispose();
  });

  it('healthCallback quotes the rate in force too', async () => {
    const m = model();
    const hc = healthCallback({ thresholds });
    // Statistics every step reach callbacks with onGradientStats (fit's statsEvery).
    await m.fit(data.x, data.y, { epochs: 3, batchSize: 10, callbacks: [cutAfterEpoch0(m), hc] });
    const low = hc.monitor.diagnoses.find((d) => d.kind === 'learning_rate_too_low');
    expect(low).toBeDefined();
    expect(low!.evidence.learningRate).toBe(CUT);
    expect(lrRemedy(low!)).toBe(CUT * 10);
    m.dispose();
  });

  it('a plain monitor: a function is read per diagnosis; setLearningRate fixes the value', () => {
    let lr = 0.5;
    const m = new gg.health.HealthMonitor({ learningRate: () => lr });
    expect(m.learningRate).toBe(0.5);
    lr = 2e-3;
    expect(m.learningRate).toBe(2e-3);
    m.setLearningRate(7e-4);
    lr = 1;
    expect(m.learningRate).toBe(7e-4);
    expect(new gg.health.HealthMonitor().learningRate).toBeUndefined();
  });
});

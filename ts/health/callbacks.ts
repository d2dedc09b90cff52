// Health-related callbacks. ts/model/callbacks.ts (the trainer's owner) already provides
// earlyStopping, terminateOnNaN and learningRateScheduler; this file adds reduceLROnPlateau and
// healthCallback, built on the same Callback interface.

import type { LayerStats, ModelSpec, StepStats } from '../backend/types.js';
import { OptionError, checkNumber, checkOptions, describe } from '../errors.js';
import type { Callback, CallbackModel, Logs } from '../model/callbacks.js';
import type { Diagnosis } from './diagnoses.js';
import { HealthMonitor } from './monitor.js';
import type { HealthThresholds } from './thresholds.js';

type Mode = 'min' | 'max' | 'auto';

export interface ReduceLROnPlateauOptions {
  monitor?: string; factor?: number; patience?: number; mode?: Mode; minDelta?: number;
  cooldown?: number; minLr?: number; verbose?: 0 | 1;
}

/**
 * Keras ReduceLROnPlateau (keras/src/callbacks/reduce_lr_on_plateau.py), same defaults:
 * monitor 'val_loss', factor 0.1, patience 10, minDelta 1e-4, cooldown 0, minLr 0.
 * At each epoch end: in cooldown, count it down and reset wait; if `monitor` improved by more
 * than minDelta, remember it; otherwise (outside cooldown) wait += 1 and, when wait ≥ patience
 * and lr > minLr, set lr = max(lr·factor, minLr), start the cooldown and reset wait.
 * Adds 'learning_rate' to the epoch logs (as Keras does).
 */
export function reduceLROnPlateau(opts: ReduceLROnPlateauOptions = {}): Callback & { readonly reductions: Array<{ epoch: number; from: number; to: number }> } {
  const w = 'callbacks.reduceLROnPlateau';
  checkOptions(w, opts, ['monitor', 'factor', 'patience', 'mode', 'minDelta', 'cooldown', 'minLr', 'verbose']);
  const monitor = opts.monitor ?? 'val_loss';
  if (typeof monitor !== 'string') throw new OptionError(`${w}: monitor must be a log name such as 'val_loss', got ${describe(monitor)}`);
  const factor = checkNumber(w, 'factor', opts.factor ?? 0.1, { min: 0, max: 1, maxExclusive: true });
  const patience = checkNumber(w, 'patience', opts.patience ?? 10, { integer: true, min: 0 });
  const minDelta = checkNumber(w, 'minDelta', opts.minDelta ?? 1e-4, { min: 0 });
  const cooldown = checkNumber(w, 'cooldown', opts.cooldown ?? 0, { integer: true, min: 0 });
  const minLr = checkNumber(w, 'minLr', opts.minLr ?? 0, { min: 0 });
  const mode = opts.mode ?? 'auto';
  if (!['min', 'max', 'auto'].includes(mode)) throw new OptionError(`${w}: mode must be 'min', 'max' or 'auto', got ${describe(mode)}`);
  const maximize = mode === 'max' || (mode === 'auto' && monitor.includes('acc'));
  const improved = (a: number, b: number) => (maximize ? a > b + minDelta : a < b - minDelta);
  let model: CallbackModel;
  let best = 0; let wait = 0; let cooldownCounter = 0;
  // This run's reductions: the rate before the first one, and the rate last set (to tell whether
  // anything else has changed the rate since).
  let lrBeforeReductions: number | null = null; let lrSet: number | null = null;
  const reset = () => { best = maximize ? -Infinity : Infinity; wait = 0; cooldownCounter = 0; lrBeforeReductions = null; lrSet = null; };
  const reductions: Array<{ epoch: number; from: number; to: number }> = [];
  return {
    reductions,
    setModel(m) { model = m; },
    onTrainBegin() { reset(); },
    // A restart (health repair) begins a new run: best/wait/cooldown start afresh, and the
    // reductions made on the abandoned run are undone, so the new run starts at the rate the
    // abandoned one started with. Only when the rate is still the one this callback set: a rate
    // the restart itself chose (a learning-rate remedy, a rollback's lower rate) is kept.
    // `reductions` keeps the abandoned run's entries (what happened).
    onRestart() {
      const opt = model?.optimizer;
      if (opt && lrBeforeReductions !== null && opt.learningRate === lrSet) opt.learningRate = lrBeforeReductions;
      reset();
    },
    onEpochEnd(epoch: number, logs: Logs) {
      const opt = model.optimizer;
      if (!opt) return;
      logs.learning_rate = opt.learningRate;
      const current = logs[monitor];
      if (current === undefined) {
        throw new OptionError(`${w}: monitor '${monitor}' is not in the logs (available: ${Object.keys(logs).join(', ')})`);
      }
      const inCooldown = cooldownCounter > 0;
      if (inCooldown) { cooldownCounter--; wait = 0; }
      if (improved(current, best)) {
        best = current; wait = 0;
      } else if (!inCooldown) {
        wait++;
        if (wait >= patience) {
          const old = opt.learningRate;
          if (old > minLr) {
            const lr = Math.max(old * factor, minLr);
            opt.learningRate = lr;
            if (lrBeforeReductions === null) lrBeforeReductions = old;
            lrSet = opt.learningRate;
            reductions.push({ epoch, from: old, to: lr });
            if (opts.verbose) console.log(`Epoch ${epoch + 1}: ReduceLROnPlateau reducing learning rate to ${lr}.`);
            cooldownCounter = cooldown; wait = 0;
          }
        }
      }
    },
  };
}

/** A layer's statistics with its position and name. */
export type NamedLayerStats = LayerStats & { index: number; name: string };

export interface HealthHooks {
  /** Every collected step's statistics, per layer with names. */
  onStats?(step: number, layers: NamedLayerStats[], stats: StepStats): void;
  /** Each diagnosis once, as it fires. */
  onDiagnosis?(d: Diagnosis): void;
  thresholds?: Partial<HealthThresholds>;
  /** Layer names (default: the model's layer names when it has them, else dense_<i>). */
  layerNames?: string[];
}

/**
 * A callback that receives the trainer's gradient statistics (fit collects them every step when a
 * callback has onGradientStats, or every `statsEvery` steps) and runs a HealthMonitor over them.
 * `callback.monitor` holds the diagnoses and samples afterwards. After a restart (health repair)
 * `monitor` is a fresh one for the new run (new weights, new warm-up) and the abandoned runs'
 * monitors are in `earlierRuns`, oldest first.
 */
export function healthCallback(hooks: HealthHooks = {}): Callback & { readonly monitor: HealthMonitor; readonly earlierRuns: readonly HealthMonitor[] } {
  const w = 'callbacks.healthCallback';
  checkOptions(w, hooks, ['onStats', 'onDiagnosis', 'thresholds', 'layerNames']);
  for (const k of ['onStats', 'onDiagnosis'] as const) {
    if (hooks[k] !== undefined && typeof hooks[k] !== 'function') throw new OptionError(`${w}: ${k} must be a function, got ${describe(hooks[k])}`);
  }
  let monitor = new HealthMonitor({ thresholds: hooks.thresholds, onDiagnosis: hooks.onDiagnosis, layerNames: hooks.layerNames });
  let names: string[] = hooks.layerNames ?? [];
  let epoch = 0;
  const earlierRuns: HealthMonitor[] = [];
  // The Sequential model exposes spec and layers; a bare CallbackModel may not.
  type Seen = CallbackModel & { spec?: ModelSpec; layers?: ReadonlyArray<{ name?: string }>; optimizer?: { learningRate: number; kind?: string } };
  let model: Seen | undefined;
  const freshMonitor = (mm: Seen) => {
    let spec: ModelSpec | undefined;
    try { spec = mm.spec; } catch { spec = undefined; }
    names = hooks.layerNames ?? (mm.layers?.map((l, i) => l.name ?? `dense_${i}`) ?? []);
    monitor = new HealthMonitor({
      spec, layerNames: names, thresholds: hooks.thresholds, onDiagnosis: hooks.onDiagnosis,
      // Read when a diagnosis is built, so a rate changed since (a schedule, another callback) is quoted.
      learningRate: () => mm.optimizer?.learningRate, optimizer: mm.optimizer?.kind,
    });
  };
  const self = {
    get monitor() { return monitor; },
    earlierRuns,
    setModel(m: CallbackModel) { model = m as Seen; freshMonitor(model); },
    // The restarted model has new weights (and possibly new activations: the spec is read again);
    // the abandoned run's windows and fired-once set must not carry over.
    onRestart() {
      earlierRuns.push(monitor);
      if (model) freshMonitor(model);
      else monitor = new HealthMonitor({ thresholds: hooks.thresholds, onDiagnosis: hooks.onDiagnosis, layerNames: hooks.layerNames });
    },
    onEpochBegin(e: number) { epoch = e; },
    onGradientStats(step: number, stats: StepStats) {
      monitor.observeStep(step, stats, epoch);
      hooks.onStats?.(step, stats.layers.map((ls, i) => ({ ...ls, index: i, name: names[i] ?? `dense_${i}` })), stats);
    },
    onEpochEnd(e: number, logs: Logs) { monitor.observeEpoch(e, logs); },
  };
  return self;
}

// Callbacks, Keras style. A callback is any object with some of the hooks below (each may return
// a Promise, which fit awaits); gg.callbacks.* builds common ones.
//
// Order within fit():
//   onTrainBegin
//   for each epoch: onEpochBegin(e) → for each batch: onBatchBegin(b) → step → [onGradientStats]
//                   → onBatchEnd(b) … → validation → onEpochEnd(e, logs)
//   onTrainEnd
// A restart (fit({ health: { policy: 'repair' } }) re-initialising the model and training again
// from the first epoch, ts/health/fit.ts) calls onRestart(n, {}) between the abandoned run's last
// hook and the new run's onEpochBegin: a callback that keeps state across epochs (best loss,
// wait counters, saved weights) resets it there, since the restarted run is a new run. Runs
// without restarts never call it.
// Setting `model.stopTraining = true` in any hook ends training after the current batch.
// Changing `model.optimizer.learningRate` takes effect from the next step.

import type { StepStats } from '../backend/types.js';
import { OptionError, checkNumber, checkOptions, describe } from '../errors.js';

/** Logs passed to hooks: 'loss', 'accuracy', and at epoch end 'val_loss', 'val_accuracy'. */
export type Logs = Record<string, number>;

/** What callbacks see of the model (kept structural so callbacks do not import the model). */
export interface CallbackModel {
  stopTraining: boolean;
  readonly optimizer: { learningRate: number } | undefined;
  getWeights(): { data: Float32Array }[];
  setWeights(w: { data: Float32Array }[]): void;
}

export interface Callback {
  /** Called once per fit() before onTrainBegin. */
  setModel?(model: CallbackModel): void;
  onTrainBegin?(logs: Logs): void | Promise<void>;
  onTrainEnd?(logs: Logs): void | Promise<void>;
  onEpochBegin?(epoch: number, logs: Logs): void | Promise<void>;
  /** logs hold the epoch's running means ('loss', 'accuracy') and validation results. */
  onEpochEnd?(epoch: number, logs: Logs): void | Promise<void>;
  onBatchBegin?(batch: number, logs: Logs): void | Promise<void>;
  /** logs: 'batch', 'size', and running means over the epoch so far ('loss', 'accuracy'). */
  onBatchEnd?(batch: number, logs: Logs): void | Promise<void>;
  /**
   * Per-layer gradient-health statistics of a step (issue 3). Collected every
   * `fit({ statsEvery })` steps; when a callback defines this hook and statsEvery is not given,
   * every step.
   */
  onGradientStats?(step: number, stats: StepStats): void | Promise<void>;
  /**
   * fit restarted training from a fresh initialization (the health repair policy): `restart` is
   * 1 for the first restart of this fit, 2 for the next… The abandoned run's epochs are dropped
   * from the History and the next hook is onEpochBegin(initialEpoch). A restart asked for
   * mid-epoch ends that epoch without onEpochEnd; one asked for at an epoch's end comes after
   * every callback's onEpochEnd of that epoch. A callback that set model.stopTraining in reaction
   * to the abandoned run should withdraw it here. Not called otherwise.
   */
  onRestart?(restart: number, logs: Logs): void | Promise<void>;
}

const HOOKS = ['setModel', 'onTrainBegin', 'onTrainEnd', 'onEpochBegin', 'onEpochEnd', 'onBatchBegin', 'onBatchEnd', 'onGradientStats', 'onRestart'] as const;

/** Validates fit's `callbacks` option: one callback or an array of them. */
export function toCallbackList(where: string, v: unknown): Callback[] {
  if (v === undefined || v === null) return [];
  const list = Array.isArray(v) ? v : [v];
  list.forEach((cb, i) => {
    if (cb === null || typeof cb !== 'object') {
      throw new OptionError(`${where}: callbacks[${i}] must be an object with hooks such as onEpochEnd, got ${describe(cb)}`);
    }
    for (const h of HOOKS) {
      const f = (cb as Record<string, unknown>)[h];
      if (f !== undefined && typeof f !== 'function') {
        throw new OptionError(`${where}: callbacks[${i}].${h} must be a function, got ${describe(f)}`);
      }
    }
    if (!HOOKS.some((h) => typeof (cb as Record<string, unknown>)[h] === 'function')) {
      throw new OptionError(`${where}: callbacks[${i}] has none of the hooks ${HOOKS.join(', ')}`);
    }
  });
  return list as Callback[];
}

const isThenable = (r: unknown): r is Promise<void> =>
  r !== null && typeof r === 'object' && typeof (r as Promise<void>).then === 'function';

/** Runs one hook on every callback in order; awaits only hooks that returned a Promise. */
export async function runHook<K extends Exclude<(typeof HOOKS)[number], 'setModel'>>(
  cbs: readonly Callback[], hook: K, ...args: Parameters<NonNullable<Callback[K]>>
): Promise<void> {
  for (const cb of cbs) {
    const f = cb[hook] as ((...a: unknown[]) => unknown) | undefined;
    if (f) {
      const r = f.apply(cb, args);
      if (isThenable(r)) await r;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Built-in callbacks

type Mode = 'min' | 'max' | 'auto';
function better(mode: Mode, monitor: string): (a: number, b: number, minDelta: number) => boolean {
  const m = mode === 'auto' ? (/acc/.test(monitor) ? 'max' : 'min') : mode;
  return m === 'min' ? (a, b, d) => a < b - d : (a, b, d) => a > b + d;
}

export interface EarlyStoppingOptions {
  monitor?: string; minDelta?: number; patience?: number; mode?: Mode; baseline?: number;
  restoreBestWeights?: boolean;
}

/**
 * Stops training when `monitor` (default 'val_loss') has not improved by more than minDelta
 * for `patience` epochs (Keras EarlyStopping; restoreBestWeights restores the best epoch's weights).
 */
export function earlyStopping(opts: EarlyStoppingOptions = {}): Callback & { stoppedEpoch: number } {
  const w = 'callbacks.earlyStopping';
  checkOptions(w, opts, ['monitor', 'minDelta', 'patience', 'mode', 'baseline', 'restoreBestWeights']);
  const monitor = opts.monitor ?? 'val_loss';
  const minDelta = Math.abs(checkNumber(w, 'minDelta', opts.minDelta ?? 0));
  const patience = checkNumber(w, 'patience', opts.patience ?? 0, { integer: true, min: 0 });
  const mode = opts.mode ?? 'auto';
  if (!['min', 'max', 'auto'].includes(mode)) throw new OptionError(`${w}: mode must be 'min', 'max' or 'auto', got ${describe(mode)}`);
  const isBetter = better(mode, monitor);
  let model: CallbackModel;
  let best = Infinity, wait = 0, bestWeights: Float32Array[] | null = null;
  const reset = () => {
    wait = 0; bestWeights = null; self.stoppedEpoch = -1;
    best = opts.baseline ?? (isBetter(1, 0, 0) ? -Infinity : Infinity);
  };
  const self = {
    stoppedEpoch: -1,
    setModel(m: CallbackModel) { model = m; },
    onTrainBegin() { reset(); },
    // A restarted run starts afresh: the abandoned run's best value must not stop the new one,
    // and its best weights (of a model that no longer exists) must never be restored. A stop this
    // callback asked for on the abandoned run (at the epoch end where the restart was asked for
    // too) is withdrawn, else the new run would end before its first epoch.
    onRestart() {
      if (self.stoppedEpoch >= 0) model.stopTraining = false;
      reset();
    },
    onEpochEnd(epoch: number, logs: Logs) {
      const v = logs[monitor];
      if (v === undefined) {
        throw new OptionError(`${w}: monitor '${monitor}' is not in the logs (available: ${Object.keys(logs).join(', ')})`);
      }
      if (isBetter(v, best, minDelta)) {
        best = v; wait = 0;
        if (opts.restoreBestWeights) bestWeights = model.getWeights().map((t) => t.data.slice());
      } else if (++wait >= patience) {
        // Keras counts the epochs without improvement and stops when the count reaches patience.
        self.stoppedEpoch = epoch;
        model.stopTraining = true;
      }
    },
    onTrainEnd() {
      if (opts.restoreBestWeights && bestWeights && self.stoppedEpoch >= 0) {
        model.setWeights(bestWeights.map((data) => ({ data })));
      }
    },
  };
  return self;
}

/** Stops training at the first non-finite batch loss (Keras TerminateOnNaN). */
export function terminateOnNaN(): Callback {
  let model: CallbackModel;
  return {
    setModel(m) { model = m; },
    onBatchEnd(_b, logs) { if (!Number.isFinite(logs.loss)) model.stopTraining = true; },
  };
}

/** Sets the learning rate at the start of each epoch from schedule(epoch, currentLr). */
export function learningRateScheduler(schedule: (epoch: number, lr: number) => number): Callback {
  if (typeof schedule !== 'function') {
    throw new OptionError(`callbacks.learningRateScheduler: expected a function (epoch, lr) => lr, got ${describe(schedule)}`);
  }
  let model: CallbackModel;
  return {
    setModel(m) { model = m; },
    onEpochBegin(epoch) {
      const opt = model.optimizer;
      if (opt) opt.learningRate = schedule(epoch, opt.learningRate);
    },
  };
}

/** A callback from plain functions (TensorFlow.js's CustomCallback): gg.callbacks.lambda({ onEpochEnd }). */
export function lambda(hooks: Callback): Callback {
  toCallbackList('callbacks.lambda', [hooks]);
  return hooks;
}

export const callbacks = { earlyStopping, terminateOnNaN, learningRateScheduler, lambda };

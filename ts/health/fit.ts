// The `health` option of fit(): runs a HealthMonitor over the kernel's statistics while training,
// and (policy 'repair') acts on the diagnoses that training can recover from without a restart.
//
//   await model.fit(x, y, { epochs: 5, health: 'warn' });
//   await model.fit(x, y, { health: { policy: 'repair', every: 16, onDiagnosis: (d) => … } });
//   history.health.diagnoses / .samples / .actions
//
// Registered on import through the trainer's extension seams (registerFitOption and
// registerCompileHook in ts/model/sequential.ts), so ts/model does not depend on ts/health.
//
// Repair (bounded, every action recorded with before/after numbers):
//   non_finite, exploding_gradients, loss_diverging, learning_rate_too_high →
//     restore the last good weights (a copy taken at each healthy statistics sample),
//     multiply the learning rate by lrFactor (unless a schedule drives it), turn on global-norm
//     clipping (clipNorm) if no clipping is on. The snapshot holds the optimizer's state too
//     (moments and step counter, BackendModel.getOptimizerState): re-sending the optimizer config
//     resets it, so the saved state is written back afterwards and the run resumes exactly where
//     the good step left it, only with the new learning rate / clipping.
//   after maxRepairs attempts: stop training (model.stopTraining) with a 'gave_up' action.
//   Other diagnoses (dead/saturated units, vanishing, plateau, ...) need a change of architecture
//   or initialization: they are reported with ranked remedies, not applied.

import type { ModelSpec, OptimizerStateSnapshot, StepStats } from '../backend/types.js';
import { OptionError, checkNumber, checkOptions, describe } from '../errors.js';
import type { Callback, Logs } from '../model/callbacks.js';
import type { History } from '../model/history.js';
import { registerCompileHook, registerFitOption, type Sequential, type StepInfo } from '../model/sequential.js';
import { checkLossActivation, formatDiagnosis, type Diagnosis, type DiagnosisKind } from './diagnoses.js';
import { HealthMonitor, type StatsSample } from './monitor.js';
import type { HealthThresholds } from './thresholds.js';

export type HealthPolicy = 'observe' | 'warn' | 'repair';

export interface HealthOptions {
  /** observe: record only; warn: also print each diagnosis once (console.warn); repair: also act. Default 'warn'. */
  policy?: HealthPolicy;
  /** Collect statistics every this many steps (default 16; 1 = every step). */
  every?: number;
  onDiagnosis?: (d: Diagnosis) => void;
  onStats?: (step: number, stats: StepStats) => void;
  thresholds?: Partial<HealthThresholds>;
  /** Check the training inputs' scale before the first step (default true). */
  checkInputs?: boolean;
  /** repair: attempts before giving up (default 3). */
  maxRepairs?: number;
  /** repair: learning-rate multiplier per attempt (default 0.1). */
  lrFactor?: number;
  /** repair: global gradient-norm clipping to turn on (default 1). */
  clipNorm?: number;
}

export interface RepairAction {
  kind: 'rollback' | 'gave_up';
  /** The diagnosis acted on. */
  diagnosis: DiagnosisKind;
  step: number;
  epoch: number;
  /** Step whose weights were restored. */
  restoredStep: number;
  before: { learningRate: number; globalClipNorm: number; loss: number };
  after: { learningRate: number; globalClipNorm: number; loss?: number };
  note: string;
}

export interface HealthRecord {
  policy: HealthPolicy;
  every: number;
  diagnoses: Diagnosis[];
  samples: StatsSample[];
  actions: RepairAction[];
  layerNames: string[];
}

declare module '../model/history.js' {
  interface History {
    /** Set when fit ran with the `health` option. */
    health?: HealthRecord;
  }
}

declare module '../model/sequential.js' {
  interface FitOptions {
    /** Gradient-health monitoring (ts/health): a policy name, true (= 'warn') or options. */
    health?: HealthPolicy | boolean | HealthOptions;
  }
}

const REPAIRABLE: ReadonlySet<DiagnosisKind> = new Set<DiagnosisKind>([
  'non_finite', 'exploding_gradients', 'loss_diverging', 'learning_rate_too_high',
]);

export const DEFAULT_HEALTH_EVERY = 16;

// Compile-time pairing check: kept per model, reported by the next fit that runs with `health`.
const compileFindings = new WeakMap<Sequential, Diagnosis[]>();
/** The loss/activation mismatches found when `model` was last compiled. */
export function compileDiagnoses(model: Sequential): Diagnosis[] {
  return compileFindings.get(model) ?? [];
}

function parseOptions(value: unknown): Required<Omit<HealthOptions, 'onDiagnosis' | 'onStats' | 'thresholds'>> & HealthOptions {
  const w = 'fit: health';
  let o: HealthOptions;
  if (value === true) o = {};
  else if (typeof value === 'string') o = { policy: value as HealthPolicy };
  else if (value !== null && typeof value === 'object' && !Array.isArray(value)) o = value as HealthOptions;
  else throw new OptionError(`${w} must be 'observe', 'warn', 'repair', true or an options object, got ${describe(value)}`);
  checkOptions(w, o, ['policy', 'every', 'onDiagnosis', 'onStats', 'thresholds', 'checkInputs', 'maxRepairs', 'lrFactor', 'clipNorm']);
  const policy = o.policy ?? 'warn';
  if (!['observe', 'warn', 'repair'].includes(policy)) {
    throw new OptionError(`${w}: policy must be 'observe', 'warn' or 'repair', got ${describe(policy)}`);
  }
  for (const k of ['onDiagnosis', 'onStats'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'function') throw new OptionError(`${w}: ${k} must be a function, got ${describe(o[k])}`);
  }
  if (o.checkInputs !== undefined && typeof o.checkInputs !== 'boolean') throw new OptionError(`${w}: checkInputs must be true or false, got ${describe(o.checkInputs)}`);
  return {
    ...o, policy,
    every: checkNumber(w, 'every', o.every ?? DEFAULT_HEALTH_EVERY, { integer: true, min: 1 }),
    checkInputs: o.checkInputs ?? true,
    maxRepairs: checkNumber(w, 'maxRepairs', o.maxRepairs ?? 3, { integer: true, min: 0 }),
    lrFactor: checkNumber(w, 'lrFactor', o.lrFactor ?? 0.1, { min: 0, max: 1, minExclusive: true, maxExclusive: true }),
    clipNorm: checkNumber(w, 'clipNorm', o.clipNorm ?? 1, { min: 0, minExclusive: true }),
  };
}

function healthPlugin(model: Sequential, value: unknown) {
  const o = parseOptions(value);
  const spec: ModelSpec = model.spec;
  const opt = model.optimizer!;
  const bm = model.backendModel;
  const layerNames = model.layers.map((l, i) => l.name ?? `dense_${i}`);
  const record: HealthRecord = { policy: o.policy, every: o.every, diagnoses: [], samples: [], actions: [], layerNames };
  const onDiagnosis = (d: Diagnosis) => {
    if (o.policy !== 'observe') console.warn(formatDiagnosis(d));
    o.onDiagnosis?.(d);
  };
  const monitor = new HealthMonitor({
    spec, layerNames, thresholds: o.thresholds,
    learningRate: opt.learningRate, optimizer: opt.kind, onDiagnosis,
  });
  // The monitor's arrays are the record's: one copy of the data, visible while training runs.
  record.diagnoses = monitor.diagnoses;
  record.samples = monitor.samples;

  // Repair state: the last weights seen healthy, and the action awaiting its "after" loss.
  type Snapshot = { params: Float32Array; opt: OptimizerStateSnapshot; step: number };
  const snap = (step: number): Snapshot => ({ params: bm.getParams(), opt: bm.getOptimizerState(), step });
  let good: Snapshot | null = null;
  let candidate: Snapshot | null = null;
  let pendingAfter: RepairAction | null = null;
  let repairs = 0;
  let epoch = 0;

  const repair = (d: Diagnosis, info: StepInfo): boolean => {
    if (!good) return false;
    const cfg = opt.getConfig();
    const before = { learningRate: opt.learningRate, globalClipNorm: cfg.globalClipNorm, loss: info.loss };
    if (repairs >= o.maxRepairs) {
      record.actions.push({
        kind: 'gave_up', diagnosis: d.kind, step: info.step, epoch: info.epoch, restoredStep: good.step,
        before, after: { learningRate: opt.learningRate, globalClipNorm: cfg.globalClipNorm },
        note: `${d.kind.replace(/_/g, ' ')} persisted after ${repairs} repair attempt(s); stopped training with the last good weights (step ${good.step}). Try the remedies: ${d.remedies.slice(0, 3).map((r) => `${r.setting} = ${String(r.value)}`).join('; ')}`,
      });
      bm.setParams(good.params);
      bm.setOptimizerState(good.opt);
      model.stopTraining = true;
      if (o.policy !== 'observe') console.warn(`[gradguard repair] giving up: ${record.actions.at(-1)!.note}`);
      return true;
    }
    repairs++;
    bm.setParams(good.params);
    const notes: string[] = [`restored the weights of step ${good.step}`];
    if (opt.schedule) notes.push('learning rate left to its schedule');
    else { opt.learningRate = opt.learningRate * o.lrFactor; notes.push(`learning rate ${before.learningRate} → ${opt.learningRate}`); }
    const clipping = cfg.clipValue > 0 || cfg.clipNorm > 0 || cfg.globalClipNorm > 0;
    if (!clipping) { opt._setGlobalClipNorm(o.clipNorm); notes.push(`global-norm clipping at ${o.clipNorm}`); }
    bm.setOptimizer(opt.getConfig()); // resets the optimizer's state: write the good one back
    bm.setOptimizerState(good.opt);
    candidate = null;
    notes.push(`optimizer state (moments, step ${good.opt.step}) restored`);
    const action: RepairAction = {
      kind: 'rollback', diagnosis: d.kind, step: info.step, epoch: info.epoch, restoredStep: good.step, before,
      after: { learningRate: opt.learningRate, globalClipNorm: opt.getConfig().globalClipNorm }, note: notes.join('; '),
    };
    record.actions.push(action);
    pendingAfter = action;
    if (o.policy !== 'observe') console.warn(`[gradguard repair] ${d.kind.replace(/_/g, ' ')} at step ${info.step}: ${action.note}`);
    monitor.setLearningRate(opt.learningRate);
    for (const k of ['non_finite', 'exploding_gradients', 'loss_diverging', 'learning_rate_too_high'] as const) monitor.rearm(k);
    return true;
  };

  const callback: Callback = {
    onTrainBegin() {
      if (o.policy === 'repair') good = snap(model.iterations);
    },
    onEpochBegin(e: number) { epoch = e; },
    onEpochEnd(e: number, logs: Logs) { monitor.observeEpoch(e, logs); },
  };

  return {
    callback,
    wantsStats: (step: number) => step % o.every === 0,
    begin(ctx: { x: Float32Array; rows: number; cols: number; history: History }) {
      ctx.history.health = record;
      for (const d of compileFindings.get(model) ?? []) if (!monitor.diagnoses.includes(d)) { monitor.diagnoses.push(d); onDiagnosis(d); }
      if (o.checkInputs) monitor.checkInputs(ctx.x);
      // Initial weight scale from the real weights (kernel RMS per layer), before any update.
      const params = bm.getParams();
      monitor.checkInitialWeights(bm.layout.map((lay) => {
        let ss = 0;
        for (let i = lay.wOffset; i < lay.wOffset + lay.wLength; i++) ss += params[i]! * params[i]!;
        return Math.sqrt(ss / Math.max(1, lay.wLength));
      }));
    },
    afterStep(info: StepInfo): void | 'handled' {
      if (pendingAfter && Number.isFinite(info.loss)) { pendingAfter.after.loss = info.loss; pendingAfter = null; }
      const fired = info.stats
        ? monitor.observeStep(info.step, info.stats, epoch)
        : monitor.observeLoss(info.step, info.loss, epoch);
      if (info.stats) o.onStats?.(info.step, info.stats);
      if (o.policy !== 'repair') return;
      const act = fired.find((d) => REPAIRABLE.has(d.kind));
      if (act) return repair(act, info) && !Number.isFinite(info.loss) ? 'handled' : undefined;
      // Rollback points. A sample's statistics describe the weights *before* its update (the
      // forward pass and loss ran on them), so a good sample promotes the snapshot taken at the
      // previous sample (weights after that step); then this step's result becomes the candidate.
      if (info.stats) {
        if (fired.length === 0 && monitor.isGoodSample(info.stats)) {
          if (candidate) good = candidate;
          candidate = snap(info.step + 1);
        } else {
          candidate = null;
        }
      }
      if (!Number.isFinite(info.loss)) return 'handled';
    },
  };
}

let installed = false;
/** Registers fit's `health` option and the compile-time check (idempotent; done on import). */
export function installHealth(): void {
  if (installed) return;
  installed = true;
  registerFitOption('health', (model, value) => healthPlugin(model, value));
  registerCompileHook((model, spec) => { compileFindings.set(model, checkLossActivation(spec, model.layers.map((l, i) => l.name ?? `dense_${i}`))); });
}
installHealth();

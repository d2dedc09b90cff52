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
//   vanishing_gradients, dying_relu, saturated_units, poor_initialization, learning_rate_too_low,
//   loss_plateau → restart (AUTOTRAINER's retrain): the diagnosis's first ranked remedy that
//     gradguard can apply itself and that changes something (remedies.ts: hidden activation,
//     kernel initializer, learning rate; not BatchNormalization, constraints, schedules, input
//     scaling) is applied to the model's layers, the backend model is rebuilt and initialised
//     afresh with seed + attempt (model._reinitialize; optimizer state reset), and fit runs again
//     from its first epoch (model._restartRequested). Switching sigmoid/tanh to a ReLU-family
//     activation also switches a Glorot kernel initializer to He (He et al. 2015); a new kernel
//     initializer comes with zero biases (both papers' prescription). History: the epochs logged
//     are the final run's; the aborted runs' losses are in the restart actions' `before`, the
//     statistics samples are the final run's, the diagnoses of every run are kept, each tagged
//     with its run (Diagnosis.run; the HTML report draws only the final run's on its timeline
//     and lists the others under "before restart n").
//   after maxRepairs attempts (rollbacks and restarts together) or when no applicable remedy is
//   left: stop training (model.stopTraining) with a 'gave_up' action naming what was tried and
//   the remedies to try next.

import type { ModelSpec, OptimizerStateSnapshot, StepStats } from '../backend/types.js';
import { OptionError, checkNumber, checkOptions, describe } from '../errors.js';
import type { Callback, Logs } from '../model/callbacks.js';
import type { History } from '../model/history.js';
import { registerCompileHook, registerFitOption, type Sequential, type StepInfo } from '../model/sequential.js';
import { Dense, type Layer } from '../model/layers.js';
import { checkLossActivation, formatDiagnosis, type Diagnosis, type DiagnosisKind, type Remedy } from './diagnoses.js';
import { HealthMonitor, type StatsSample } from './monitor.js';
import { layerEdits, remedyChange } from './remedies.js';
import type { HealthThresholds } from './thresholds.js';

/** A learning rate for a note: 6 significant digits, so that 0.0003 × 10 reads 0.003, not
 *  0.0029999999999999996 (the rate applied is the computed one). */
const rate = (x: number): string => String(+x.toPrecision(6));

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
  /** repair: also restart from a fresh initialization for the diagnoses that need it (default
   * true). false: only roll back (gradguard doctor restarts itself, to show both steps apart). */
  restarts?: boolean;
  /** repair: learning-rate multiplier per attempt (default 0.1). */
  lrFactor?: number;
  /** repair: global gradient-norm clipping to turn on (default 1). */
  clipNorm?: number;
  /** warn and repair: print each diagnosis and repair action to console.warn as it happens
   * (default true). false: only record them (history.health), e.g. for a caller that prints
   * them itself, as `gradguard train` does after its epoch lines. */
  print?: boolean;
}

export interface RepairAction {
  /** rollback: to the last good weights; restart: a remedy applied and training begun again from
   * a fresh initialization; gave_up: training stopped (attempts used up or no remedy left). */
  kind: 'rollback' | 'restart' | 'gave_up';
  /** The diagnosis acted on. */
  diagnosis: DiagnosisKind;
  step: number;
  epoch: number;
  /** Step whose weights were restored (rollback, gave_up after a rollback-kind diagnosis); −1 for a restart. */
  restoredStep: number;
  /** Before acting: loss (and accuracy) are the current epoch's means so far (a restart asked
   * for at an epoch's end: that epoch's), or the step's loss for a rollback. */
  before: { learningRate: number; globalClipNorm: number; loss: number; accuracy?: number };
  /** After: a rollback's next finite step loss; a restart's first epoch of the new run. */
  after: { learningRate: number; globalClipNorm: number; loss?: number; accuracy?: number };
  /** restart: the change applied, e.g. 'hidden activation → relu; kernel initializer → he_normal'. */
  change?: string;
  /** restart: the seed of the fresh initialization (model seed + attempt). */
  seed?: number;
  /** The diagnosis's evidence when it was acted on. */
  evidence?: Record<string, number | string>;
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
/** Repaired by a restart, in the order acted on when several fire together: the specific causes
 * (dead, saturated units; vanishing gradients; bad initial weights) before the symptoms. */
export const RESTART_ORDER: readonly DiagnosisKind[] = [
  'dying_relu', 'saturated_units', 'vanishing_gradients', 'poor_initialization', 'learning_rate_too_low', 'loss_plateau',
];
/** Checks of the data and the loss, made once before the first run: a restart changes neither,
 * so these belong to every run and are not tagged with one. */
const RUN_INDEPENDENT: ReadonlySet<DiagnosisKind> = new Set<DiagnosisKind>(['unnormalized_inputs', 'loss_activation_mismatch']);
/** A restart never raises the learning rate above this, nor above 100× the rate fit began with. */
const MAX_RESTART_LR = 1;
const remedyText = (r: Remedy) => `${r.action} (${r.setting} = ${String(r.value)})`;

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
  checkOptions(w, o, ['policy', 'every', 'onDiagnosis', 'onStats', 'thresholds', 'checkInputs', 'maxRepairs', 'restarts', 'lrFactor', 'clipNorm', 'print']);
  const policy = o.policy ?? 'warn';
  if (!['observe', 'warn', 'repair'].includes(policy)) {
    throw new OptionError(`${w}: policy must be 'observe', 'warn' or 'repair', got ${describe(policy)}`);
  }
  for (const k of ['onDiagnosis', 'onStats'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'function') throw new OptionError(`${w}: ${k} must be a function, got ${describe(o[k])}`);
  }
  if (o.restarts !== undefined && typeof o.restarts !== 'boolean') throw new OptionError(`${w}: restarts must be true or false, got ${describe(o.restarts)}`);
  if (o.checkInputs !== undefined && typeof o.checkInputs !== 'boolean') throw new OptionError(`${w}: checkInputs must be true or false, got ${describe(o.checkInputs)}`);
  if (o.print !== undefined && typeof o.print !== 'boolean') throw new OptionError(`${w}: print must be true or false, got ${describe(o.print)}`);
  return {
    ...o, policy,
    every: checkNumber(w, 'every', o.every ?? DEFAULT_HEALTH_EVERY, { integer: true, min: 1 }),
    checkInputs: o.checkInputs ?? true,
    restarts: o.restarts ?? true,
    print: o.print ?? true,
    maxRepairs: checkNumber(w, 'maxRepairs', o.maxRepairs ?? 3, { integer: true, min: 0 }),
    lrFactor: checkNumber(w, 'lrFactor', o.lrFactor ?? 0.1, { min: 0, max: 1, minExclusive: true, maxExclusive: true }),
    clipNorm: checkNumber(w, 'clipNorm', o.clipNorm ?? 1, { min: 0, minExclusive: true }),
  };
}

function healthPlugin(model: Sequential, value: unknown) {
  const o = parseOptions(value);
  const opt = model.optimizer!;
  // The backend model and spec change when a restart rebuilds the model: read them afresh.
  let bm = model.backendModel;
  const layerNames = model.layers.map((l, i) => l.name ?? `dense_${i}`);
  const record: HealthRecord = { policy: o.policy, every: o.every, diagnoses: [], samples: [], actions: [], layerNames };
  /** The current run: 0, then n after the n-th restart (tags each diagnosis, see Diagnosis.run). */
  let run = 0;
  const printing = o.policy !== 'observe' && o.print;
  const onDiagnosis = (d: Diagnosis) => {
    if (!RUN_INDEPENDENT.has(d.kind)) d.run = run;
    record.diagnoses.push(d);
    if (printing) console.warn(formatDiagnosis(d));
    o.onDiagnosis?.(d);
  };
  const printAction = (a: RepairAction) => {
    if (printing) console.warn(`[gradguard repair] ${a.kind === 'gave_up' ? 'giving up' : `${a.diagnosis.replace(/_/g, ' ')} at step ${a.step}`}: ${a.note}`);
  };
  // One monitor per run: a restart starts a fresh one (new weights, new warm-up); the record
  // keeps every run's diagnoses (pushed by onDiagnosis) and the current run's samples.
  let monitor!: HealthMonitor;
  const startMonitor = (): Diagnosis[] => {
    monitor = new HealthMonitor({
      spec: model.spec, layerNames, thresholds: o.thresholds,
      // Read when a diagnosis is built: the rate a callback, schedule or rollback set last.
      learningRate: () => opt.learningRate, optimizer: opt.kind, onDiagnosis,
    });
    record.samples = monitor.samples;
    // Initial weight scale from the real weights (kernel RMS per layer), before any update.
    const params = bm.getParams();
    return monitor.checkInitialWeights(bm.layout.map((lay) => {
      let ss = 0;
      for (let i = lay.wOffset; i < lay.wOffset + lay.wLength; i++) ss += params[i]! * params[i]!;
      return Math.sqrt(ss / Math.max(1, lay.wLength));
    }));
  };

  // Repair state: the last weights seen healthy, and the action awaiting its "after" numbers.
  type Snapshot = { params: Float32Array; opt: OptimizerStateSnapshot; step: number };
  const snap = (step: number): Snapshot => ({ params: bm.getParams(), opt: bm.getOptimizerState(), step });
  let good: Snapshot | null = null;
  let candidate: Snapshot | null = null;
  let pendingAfter: RepairAction | null = null;
  let pendingRestart: RepairAction | null = null;
  /** Diagnoses from the initial-weights check, acted on at the next epoch's start. */
  let queued: Diagnosis[] = [];
  let repairs = 0;
  let gaveUp = false;
  let epoch = 0;
  let startIterations = 0;
  let lr0 = opt.learningRate;
  // The current epoch's running means (the "before" of a restart asked for mid-epoch).
  let epLoss = 0, epCorrect = 0, epSeen = 0;
  const tried = new Set<string>();
  const clipNow = () => opt.getConfig().globalClipNorm;

  const giveUp = (d: Diagnosis, step: number, ep: number, before: RepairAction['before'], why: string, restoredStep: number) => {
    gaveUp = true;
    const done = record.actions.filter((a) => a.kind !== 'gave_up').map((a) => (a.kind === 'restart' ? `restart (${a.change})` : `rollback at step ${a.step}`));
    const next = d.remedies.filter((r) => !tried.has(`${r.setting}=${String(r.value)}`)).slice(0, 3).map(remedyText);
    const action: RepairAction = {
      kind: 'gave_up', diagnosis: d.kind, step, epoch: ep, restoredStep, before,
      after: { learningRate: opt.learningRate, globalClipNorm: clipNow() }, evidence: { ...d.evidence },
      note: `${d.kind.replace(/_/g, ' ')}: ${why}; tried: ${done.length ? done.join(', ') : 'nothing'}. Next remedies to try: ${next.length ? next.join('; ') : 'none ranked'}`,
    };
    record.actions.push(action);
    model.stopTraining = true;
    printAction(action);
  };

  const repair = (d: Diagnosis, info: StepInfo): boolean => {
    if (!good) return false;
    const cfg = opt.getConfig();
    const before = { learningRate: opt.learningRate, globalClipNorm: cfg.globalClipNorm, loss: info.loss };
    if (repairs >= o.maxRepairs) {
      bm.setParams(good.params);
      bm.setOptimizerState(good.opt);
      giveUp(d, info.step, info.epoch, before, `persisted after ${repairs} repair attempt(s) (maxRepairs ${o.maxRepairs}); stopped training with the last good weights (step ${good.step})`, good.step);
      return true;
    }
    repairs++;
    bm.setParams(good.params);
    const notes: string[] = [`restored the weights of step ${good.step}`];
    if (opt.schedule) notes.push('learning rate left to its schedule');
    else { opt.learningRate = opt.learningRate * o.lrFactor; notes.push(`learning rate ${rate(before.learningRate)} → ${rate(opt.learningRate)}`); }
    const clipping = cfg.clipValue > 0 || cfg.clipNorm > 0 || cfg.globalClipNorm > 0;
    if (!clipping) { opt._setGlobalClipNorm(o.clipNorm); notes.push(`global-norm clipping at ${o.clipNorm}`); }
    bm.setOptimizer(opt.getConfig()); // resets the optimizer's state: write the good one back
    bm.setOptimizerState(good.opt);
    candidate = null;
    notes.push(`optimizer state (moments, step ${good.opt.step}) restored`);
    const action: RepairAction = {
      kind: 'rollback', diagnosis: d.kind, step: info.step, epoch: info.epoch, restoredStep: good.step, before,
      after: { learningRate: opt.learningRate, globalClipNorm: opt.getConfig().globalClipNorm }, evidence: { ...d.evidence }, note: notes.join('; '),
    };
    record.actions.push(action);
    pendingAfter = action;
    printAction(action);
    for (const k of ['non_finite', 'exploding_gradients', 'loss_diverging', 'learning_rate_too_high'] as const) monitor.rearm(k);
    return true;
  };

  /** The first of d's ranked remedies that gradguard can apply and that changes something. */
  const planRestart = (d: Diagnosis): { layers: Layer[]; learningRate?: number; what: string[]; key: string } | null => {
    const layers = model.layers;
    for (const r of d.remedies) {
      const key = `${r.setting}=${String(r.value)}`;
      const ch = remedyChange(r);
      if (!ch || tried.has(key)) continue;
      // The layer changes and their companions (Glorot → He with a ReLU switch, zero biases with a
      // new initializer): one rule with gradguard doctor's (remedies.ts, layerEdits).
      const { edits, what } = layerEdits(layers.map((l) => (l instanceof Dense
        ? { activation: l.activation.name, kernelInitializer: l.kernelInitializer.kind, useBias: l.useBias, biasInitializer: l.biasInitializer.kind }
        : null)), ch);
      if (edits.some((e) => e !== null)) {
        const next = layers.map((l, i) => (edits[i] ? new Dense({ ...(l as Dense).getConfig(), ...edits[i] } as unknown as ConstructorParameters<typeof Dense>[0]) : l));
        return { layers: next, what, key };
      }
      if (ch.learningRate !== undefined && !opt.schedule) {
        const cap = Math.min(MAX_RESTART_LR, 100 * lr0);
        const lr = Math.min(ch.learningRate, cap);
        if (lr !== opt.learningRate && !(ch.learningRate > opt.learningRate && lr <= opt.learningRate)) {
          return { layers: [...layers], learningRate: lr, what: [`learning rate ${rate(opt.learningRate)} → ${rate(lr)}${lr < ch.learningRate ? ` (capped at ${rate(cap)})` : ''}`], key };
        }
      }
      tried.add(key); // not applicable to this model: don't look at it again
    }
    return null;
  };

  /** Restart from a fresh initialization with d's remedy; asks fit to run again from its first epoch. */
  const restart = (d: Diagnosis, step: number, ep: number, before: RepairAction['before']): void => {
    if (gaveUp || model._restartRequested) return;
    const plan = planRestart(d);
    if (repairs >= o.maxRepairs || !plan) {
      // Keep the weights trained so far unless they are broken (a blow-up in the same step).
      let restored = -1;
      if (good && !bm.getParams().every(Number.isFinite)) {
        bm.setParams(good.params);
        bm.setOptimizerState(good.opt);
        restored = good.step;
      }
      const why = plan ? `persisted after ${repairs} repair attempt(s) (maxRepairs ${o.maxRepairs})` : 'no remedy left that gradguard can apply by itself';
      giveUp(d, step, ep, before, `${why}; ${restored >= 0 ? `the weights were non-finite: stopped training with the last good weights (step ${restored})` : `stopped training with the current weights (step ${step})`}`, restored);
      return;
    }
    repairs++;
    run++;
    tried.add(plan.key);
    const seed = (model.seed + repairs) >>> 0;
    if (plan.learningRate !== undefined) opt.learningRate = plan.learningRate;
    model._reinitialize({ layers: plan.layers, seed }); // also resets the optimizer state
    model._restartRequested = true;
    bm = model.backendModel;
    const change = plan.what.join('; ');
    const action: RepairAction = {
      kind: 'restart', diagnosis: d.kind, step, epoch: ep, restoredStep: -1, before,
      after: { learningRate: opt.learningRate, globalClipNorm: clipNow() }, change, seed, evidence: { ...d.evidence },
      note: `${change}; restarted training from its first epoch on a fresh initialization (seed ${seed}, optimizer state reset), attempt ${repairs} of ${o.maxRepairs}`,
    };
    record.actions.push(action);
    printAction(action);
    pendingRestart = action;
    pendingAfter = null;
    candidate = null;
    good = { params: bm.getParams(), opt: bm.getOptimizerState(), step: startIterations };
    queued = startMonitor();
    epLoss = 0; epCorrect = 0; epSeen = 0;
  };
  // Poor initialization judged from the first step's activation scale (evidence actStd) while
  // the inputs are unnormalized is the inputs' doing: a new initialization would not change it,
  // and scaling the data is the user's remedy (unnormalized_inputs says so). Not restarted.
  const inputsToBlame = (d: Diagnosis) => blamedOnInputs(d, record.diagnoses);
  const firstRestartable = (ds: readonly Diagnosis[]): Diagnosis | undefined => {
    if (!o.restarts) return undefined;
    for (const k of RESTART_ORDER) { const d = ds.find((x) => x.kind === k && !inputsToBlame(x)); if (d) return d; }
    return undefined;
  };
  const soFar = (): RepairAction['before'] => {
    const b: RepairAction['before'] = { learningRate: opt.learningRate, globalClipNorm: clipNow(), loss: epSeen ? epLoss / epSeen : NaN };
    if (model.metrics.includes('accuracy')) b.accuracy = epSeen ? epCorrect / epSeen : NaN;
    return b;
  };

  const callback: Callback = {
    onTrainBegin() {
      if (o.policy === 'repair') good = snap(model.iterations);
    },
    onEpochBegin(e: number) {
      epoch = e;
      epLoss = 0; epCorrect = 0; epSeen = 0;
      // Bad initial weights seen before any step: restart before training on them.
      const d = o.policy === 'repair' ? firstRestartable(queued) : undefined;
      queued = [];
      if (d) restart(d, model.iterations, e, soFar());
    },
    onEpochEnd(e: number, logs: Logs) {
      if (pendingRestart) {
        pendingRestart.after.loss = logs.loss;
        if (logs.accuracy !== undefined) pendingRestart.after.accuracy = logs.accuracy;
        pendingRestart = null;
      }
      const fired = monitor.observeEpoch(e, logs);
      const d = o.policy === 'repair' ? firstRestartable(fired) : undefined;
      if (d) {
        const before: RepairAction['before'] = { learningRate: opt.learningRate, globalClipNorm: clipNow(), loss: logs.loss ?? NaN };
        if (logs.accuracy !== undefined) before.accuracy = logs.accuracy;
        restart(d, model.iterations - 1, e, before);
      }
    },
  };

  return {
    callback,
    wantsStats: (step: number) => step % o.every === 0,
    begin(ctx: { x: Float32Array; rows: number; cols: number; history: History }) {
      ctx.history.health = record;
      startIterations = model.iterations;
      lr0 = opt.learningRate;
      for (const d of compileFindings.get(model) ?? []) if (!record.diagnoses.includes(d)) onDiagnosis(d);
      queued = startMonitor();
      if (o.checkInputs) monitor.checkInputs(ctx.x);
    },
    afterStep(info: StepInfo): void | 'handled' {
      if (pendingAfter && Number.isFinite(info.loss)) { pendingAfter.after.loss = info.loss; pendingAfter = null; }
      const fired = info.stats
        ? monitor.observeStep(info.step, info.stats, epoch)
        : monitor.observeLoss(info.step, info.loss, epoch);
      if (info.stats) o.onStats?.(info.step, info.stats);
      if (Number.isFinite(info.loss)) { epLoss += info.loss * info.batchSize; epCorrect += info.correct; epSeen += info.batchSize; }
      if (o.policy !== 'repair' || gaveUp) return;
      const act = fired.find((d) => REPAIRABLE.has(d.kind));
      if (act) return repair(act, info) && !Number.isFinite(info.loss) ? 'handled' : undefined;
      const re = firstRestartable(fired);
      if (re) { restart(re, info.step, info.epoch, soFar()); return Number.isFinite(info.loss) ? undefined : 'handled'; }
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

/** Poor initialization judged from the activation scale (evidence actStd) while the inputs are
 * unnormalized (`all`: the run's diagnoses): the inputs' doing, which a restart does not fix. */
export function blamedOnInputs(d: Diagnosis, all: readonly Diagnosis[]): boolean {
  return d.kind === 'poor_initialization' && 'actStd' in d.evidence && all.some((x) => x.kind === 'unnormalized_inputs');
}

/** The diagnosis of a finished run that repair would have restarted on first: the first in firing
 * order (History.health.diagnoses) of a kind repaired by restart (gradguard doctor uses it). */
export function firstRestartCause(all: readonly Diagnosis[]): Diagnosis | undefined {
  return all.find((d) => RESTART_ORDER.includes(d.kind) && !blamedOnInputs(d, all));
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

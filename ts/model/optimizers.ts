// Optimizer factories with Keras 3's defaults:
//   gg.optimizers.adam({ learningRate: 1e-3 }), gg.optimizers.sgd({ learningRate: 0.1, momentum: 0.9, nesterov: true })
//
// An Optimizer holds a fully resolved OptimizerConfig (ts/backend/types.ts). compile() binds it
// to the model's backend; after that, setting `learningRate` (from a callback or a schedule)
// reaches the backend at once through setLearningRate, without resetting optimizer state.

import type { OptimizerConfig, OptimizerName } from '../backend/types.js';
import { OptionError, checkBoolean, checkNumber, checkOptions, describe } from '../errors.js';
import { resolveOptimizerName } from './names.js';

/**
 * A learning-rate schedule: the learning rate for optimizer step `step` (0-based, counted over
 * the model's whole training life). The trainer applies it before every step.
 */
export interface LearningRateSchedule {
  valueAt(step: number): number;
}

export interface ClipOptions {
  /** Clip every gradient element to [−clipValue, clipValue] (Keras clipvalue). */
  clipValue?: number;
  /** Rescale each gradient tensor whose L2 norm exceeds clipNorm (Keras clipnorm). */
  clipNorm?: number;
  /** Rescale all gradients together when their global L2 norm exceeds this (Keras global_clipnorm). */
  globalClipNorm?: number;
}
export interface BaseOptimizerOptions extends ClipOptions {
  learningRate?: number | LearningRateSchedule;
  /**
   * Decoupled weight decay applied before each update, θ ← θ − θ·weightDecay·lr (Keras 3's
   * `weight_decay` on every optimizer). Default 0, except adamw (0.004).
   */
  weightDecay?: number;
}
export interface SgdOptions extends BaseOptimizerOptions { momentum?: number; nesterov?: boolean }
export interface RmspropOptions extends BaseOptimizerOptions { rho?: number; momentum?: number; epsilon?: number }
export interface AdagradOptions extends BaseOptimizerOptions { initialAccumulatorValue?: number; epsilon?: number }
export interface AdamOptions extends BaseOptimizerOptions { beta1?: number; beta2?: number; epsilon?: number }
export type AdamwOptions = AdamOptions;

/** Anything the optimizer binds to: the model's backend (or a test double). */
export interface LearningRateSink { setLearningRate(lr: number): void }

const isSchedule = (v: unknown): v is LearningRateSchedule =>
  v !== null && typeof v === 'object' && typeof (v as LearningRateSchedule).valueAt === 'function';

export class Optimizer {
  readonly kind: OptimizerName;
  private readonly cfg: OptimizerConfig;
  /** The schedule driving the learning rate, if one was given. */
  readonly schedule: LearningRateSchedule | undefined;
  private sink: LearningRateSink | null = null;

  constructor(cfg: OptimizerConfig, schedule?: LearningRateSchedule) {
    this.kind = cfg.kind;
    this.cfg = { ...cfg };
    this.schedule = schedule;
  }

  /** The current learning rate. Setting it takes effect from the next training step. */
  get learningRate(): number { return this.cfg.learningRate; }
  set learningRate(lr: number) {
    checkNumber(`optimizer(${this.kind})`, 'learningRate', lr, { min: 0 });
    this.cfg.learningRate = lr;
    this.sink?.setLearningRate(lr);
  }

  /** A copy of the resolved configuration (what the backend receives). */
  getConfig(): OptimizerConfig { return { ...this.cfg }; }

  /** A fresh, unbound optimizer with the same configuration. */
  clone(): Optimizer { return new Optimizer(this.cfg, this.schedule); }

  /** @internal Called by compile(): from now on learning-rate changes go to `sink`. */
  _bind(sink: LearningRateSink | null): void { this.sink = sink; }
  /** @internal */
  _isBound(): boolean { return this.sink !== null; }

  /** @internal Health repair: switch to global-norm clipping (the others off, as they are mutually
   * exclusive). The caller re-sends getConfig() to the backend, which resets the optimizer state. */
  _setGlobalClipNorm(v: number): void { this.cfg.clipValue = 0; this.cfg.clipNorm = 0; this.cfg.globalClipNorm = v; }

  /** @internal Called by the trainer before optimizer step `step` when a schedule is set. */
  _applySchedule(step: number): void {
    if (!this.schedule) return;
    const lr = this.schedule.valueAt(step);
    if (!Number.isFinite(lr) || lr < 0) {
      throw new OptionError(`learning-rate schedule returned ${describe(lr)} at step ${step}; expected a finite number ≥ 0`);
    }
    if (lr !== this.cfg.learningRate) this.learningRate = lr;
  }
}

const CLIP_KEYS = ['clipValue', 'clipNorm', 'globalClipNorm'] as const;

function base(kind: OptimizerName, w: string, o: BaseOptimizerOptions, defaultLr: number): { cfg: OptimizerConfig; schedule?: LearningRateSchedule } {
  let lr = defaultLr;
  let schedule: LearningRateSchedule | undefined;
  if (isSchedule(o.learningRate)) {
    schedule = o.learningRate;
    lr = checkNumber(w, 'learningRate schedule value at step 0', schedule.valueAt(0), { min: 0 });
  } else if (o.learningRate !== undefined) {
    lr = checkNumber(w, 'learningRate', o.learningRate, { min: 0 });
  }
  const given = CLIP_KEYS.filter((k) => o[k] !== undefined && o[k] !== null);
  if (given.length > 1) {
    throw new OptionError(`${w}: clipValue, clipNorm and globalClipNorm are mutually exclusive (as in Keras), got ${given.join(' and ')}`);
  }
  const clip = (k: (typeof CLIP_KEYS)[number]): number =>
    o[k] === undefined || o[k] === null ? 0 : checkNumber(w, k, o[k], { min: 0, minExclusive: true });
  return {
    cfg: {
      kind, learningRate: lr, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, momentum: 0, nesterov: false,
      weightDecay: o.weightDecay === undefined ? 0 : checkNumber(w, 'weightDecay', o.weightDecay, { min: 0 }),
      rho: 0.9, initialAccumulatorValue: 0.1,
      clipValue: clip('clipValue'), clipNorm: clip('clipNorm'), globalClipNorm: clip('globalClipNorm'),
    },
    schedule,
  };
}
const BASE_KEYS = ['learningRate', 'weightDecay', ...CLIP_KEYS] as const;

/** The Keras 3 defaults of each optimizer, in one place. */
export const OPTIMIZER_DEFAULTS = {
  sgd: { learningRate: 0.01, momentum: 0, nesterov: false },
  rmsprop: { learningRate: 0.001, rho: 0.9, momentum: 0, epsilon: 1e-7 },
  adagrad: { learningRate: 0.001, initialAccumulatorValue: 0.1, epsilon: 1e-7 },
  adam: { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
  adamw: { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, weightDecay: 0.004 },
} as const;

/** Stochastic / mini-batch gradient descent, with optional (Nesterov) momentum. */
function sgd(opts: SgdOptions = {}): Optimizer {
  const w = 'optimizers.sgd';
  checkOptions(w, opts, [...BASE_KEYS, 'momentum', 'nesterov']);
  const d = OPTIMIZER_DEFAULTS.sgd;
  const { cfg, schedule } = base('sgd', w, opts, d.learningRate);
  cfg.momentum = checkNumber(w, 'momentum', opts.momentum ?? d.momentum, { min: 0, max: 1, maxExclusive: true });
  cfg.nesterov = checkBoolean(w, 'nesterov', opts.nesterov ?? d.nesterov);
  return new Optimizer(cfg, schedule);
}

function rmsprop(opts: RmspropOptions = {}): Optimizer {
  const w = 'optimizers.rmsprop';
  checkOptions(w, opts, [...BASE_KEYS, 'rho', 'momentum', 'epsilon']);
  const d = OPTIMIZER_DEFAULTS.rmsprop;
  const { cfg, schedule } = base('rmsprop', w, opts, d.learningRate);
  cfg.rho = checkNumber(w, 'rho', opts.rho ?? d.rho, { min: 0, max: 1, maxExclusive: true });
  cfg.momentum = checkNumber(w, 'momentum', opts.momentum ?? d.momentum, { min: 0, max: 1, maxExclusive: true });
  cfg.epsilon = checkNumber(w, 'epsilon', opts.epsilon ?? d.epsilon, { min: 0, minExclusive: true });
  return new Optimizer(cfg, schedule);
}

function adagrad(opts: AdagradOptions = {}): Optimizer {
  const w = 'optimizers.adagrad';
  checkOptions(w, opts, [...BASE_KEYS, 'initialAccumulatorValue', 'epsilon']);
  const d = OPTIMIZER_DEFAULTS.adagrad;
  const { cfg, schedule } = base('adagrad', w, opts, d.learningRate);
  cfg.initialAccumulatorValue = checkNumber(w, 'initialAccumulatorValue', opts.initialAccumulatorValue ?? d.initialAccumulatorValue, { min: 0 });
  cfg.epsilon = checkNumber(w, 'epsilon', opts.epsilon ?? d.epsilon, { min: 0, minExclusive: true });
  return new Optimizer(cfg, schedule);
}

function adamLike(kind: 'adam' | 'adamw', w: string, opts: AdamwOptions, keys: readonly string[]): Optimizer {
  checkOptions(w, opts, keys);
  const d = OPTIMIZER_DEFAULTS[kind];
  const { cfg, schedule } = base(kind, w, opts, d.learningRate);
  cfg.beta1 = checkNumber(w, 'beta1', opts.beta1 ?? d.beta1, { min: 0, max: 1, maxExclusive: true });
  cfg.beta2 = checkNumber(w, 'beta2', opts.beta2 ?? d.beta2, { min: 0, max: 1, maxExclusive: true });
  cfg.epsilon = checkNumber(w, 'epsilon', opts.epsilon ?? d.epsilon, { min: 0, minExclusive: true });
  if (kind === 'adamw' && opts.weightDecay === undefined) cfg.weightDecay = OPTIMIZER_DEFAULTS.adamw.weightDecay;
  return new Optimizer(cfg, schedule);
}
const ADAM_KEYS = [...BASE_KEYS, 'beta1', 'beta2', 'epsilon'] as const;
const adam = (opts: AdamOptions = {}): Optimizer => adamLike('adam', 'optimizers.adam', opts, ADAM_KEYS);
/** Adam with decoupled weight decay (Loshchilov & Hutter), Keras 3 default weightDecay 0.004. */
const adamw = (opts: AdamwOptions = {}): Optimizer => adamLike('adamw', 'optimizers.adamw', opts, ADAM_KEYS);

export const optimizers = { sgd, rmsprop, adagrad, adam, adamw };

/** compile()'s `optimizer`: a name ('adam', 'SGD', 'rmsprop') with Keras defaults, or a factory result. */
export function toOptimizer(where: string, v: unknown): Optimizer {
  if (v instanceof Optimizer) return v._isBound() ? v.clone() : v;
  const name = resolveOptimizerName(where, v);
  return optimizers[name]();
}

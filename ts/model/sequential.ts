// The Sequential model, Keras / TensorFlow.js shaped:
//
//   const model = gg.sequential({ seed: 42, layers: [gg.layers.dense({ inputShape: [784], units: 128, activation: 'relu' }), …] });
//   model.compile({ optimizer: gg.optimizers.adam({ learningRate: 1e-3 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
//   const history = await model.fit(x, y, { epochs: 5, batchSize: 32, validationSplit: 0.1 });
//   const { loss, accuracy } = model.evaluate(xTest, yTest);
//   const probs = model.predict(xTest);        // Float32Array (samples, outputs)
//
// Contract: every public method validates all of its arguments before touching the backend, so
// a call that throws leaves the model as it was. The only exception is a loss that turns
// non-finite during fit: see fit() for what is restored then.

import type { Backend, BackendModel, LayerSpec, LossName, ModelSpec, StepStats, Targets } from '../backend/types.js';
import {
  BackendError, DataError, DisposedError, GradguardError, NonFiniteError, NotCompiledError, OptionError, ShapeError,
  checkBoolean, checkNumber, checkOptions, describe,
} from '../errors.js';
import { Rng, tensorSeed } from '../reference/rng.js';
import { checkFinite, nonFiniteInput, toMatrix, toTargets, type Matrix, type TensorLike } from '../data/tensor.js';
import { type Callback, type Logs, runHook, toCallbackList } from './callbacks.js';
import { History } from './history.js';
import { type BuiltLayer, type Layer, type ParamTensor } from './layers.js';
import { camel, resolveLoss } from './names.js';
import { Optimizer, toOptimizer } from './optimizers.js';
import { getDefaultBackend, isBackend } from './runtime.js';
import { f32ToBase64 } from './base64.js';
import type { ModelJSON } from './serialize.js';
import { decodeOptimizerState, encodeOptimizerState, type SaveOptions, type SavedOptimizerState } from './optstate.js';

/** Seed used when the user gives none, so that runs are reproducible by default. */
export const DEFAULT_SEED = 42;

// ---------------------------------------------------------------------------------------------
// Losses as objects (for fromLogits), Keras's `SparseCategoricalCrossentropy(from_logits=True)`.

export interface LossSpec { readonly name: LossName; readonly fromLogits: boolean }
const lossFactory = (name: LossName) => (opts: { fromLogits?: boolean } = {}): LossSpec => {
  const w = `losses.${camel(name)}`;
  checkOptions(w, opts, ['fromLogits']);
  return { name, fromLogits: opts.fromLogits === undefined ? false : checkBoolean(w, 'fromLogits', opts.fromLogits) };
};
export const losses = {
  sparseCategoricalCrossentropy: lossFactory('sparse_categorical_crossentropy'),
  categoricalCrossentropy: lossFactory('categorical_crossentropy'),
  binaryCrossentropy: lossFactory('binary_crossentropy'),
  meanSquaredError: lossFactory('mean_squared_error'),
};

// ---------------------------------------------------------------------------------------------
// Options

export interface SequentialOptions {
  layers?: Layer[];
  /** Seeds parameter initialisation (tensor i gets tensorSeed(seed, i)) and shuffling. Default 42. */
  seed?: number;
  /** Backend for this model; default: the one loaded by gg.ready(). */
  backend?: Backend;
  name?: string;
}

export interface CompileOptions {
  optimizer?: string | Optimizer;
  loss: string | LossSpec;
  metrics?: string[] | string;
}

/** A weight tensor: Keras order is [kernel₀, bias₀, kernel₁, bias₁, …]. */
export interface WeightTensor { name: string; shape: number[]; data: Float32Array }

export interface FitOptions {
  epochs?: number;
  batchSize?: number;
  shuffle?: boolean;
  /** Fraction of the samples, taken from the end before shuffling (as Keras does), used for validation. */
  validationSplit?: number;
  validationData?: [TensorLike, TensorLike] | { x: TensorLike; y: TensorLike };
  /** Batch size for validation (default: batchSize). */
  validationBatchSize?: number;
  callbacks?: Callback | Callback[];
  /** 0 silent (default); 1 or 2: one line per epoch on console.log. */
  verbose?: 0 | 1 | 2;
  /** Epoch index to start counting from (resuming a run). */
  initialEpoch?: number;
  /** Yield to the event loop every this many batches (and between epochs) so timers and UIs run. Default 50. */
  yieldEvery?: number;
  /** Collect gradient-health statistics every N steps (0 = never). Default: 1 when a callback has onGradientStats, else 0. */
  statsEvery?: number;
  // Options of registered fit extensions (e.g. `health`) are added to this interface by module
  // augmentation in their own files, so TypeScript still flags misspelt option names.
}
const FIT_OPTIONS = [
  'epochs', 'batchSize', 'shuffle', 'validationSplit', 'validationData', 'validationBatchSize', 'callbacks',
  'verbose', 'initialEpoch', 'yieldEvery', 'statsEvery',
];

export interface EvaluateOptions { batchSize?: number; verbose?: 0 | 1 }
export interface PredictOptions { batchSize?: number }
export interface EvaluateResult { loss: number; accuracy?: number }

// ---------------------------------------------------------------------------------------------
// Extension seam for issue 3 (the health monitor) and others: a fit option name plus a factory
// turning its value into per-fit hooks. The trainer asks `wantsStats` before each step and hands
// every step's result to `afterStep`.

export interface StepInfo {
  epoch: number;
  /** Batch index within the epoch. */
  batch: number;
  /** Optimizer steps done before this one over the model's life (model.iterations − 1). */
  step: number;
  batchSize: number;
  /** The batch's mean loss as the backend returned it (may be NaN). */
  loss: number;
  correct: number;
  /** Statistics of this step, or null when not collected. */
  stats: StepStats | null;
}

export interface FitPlugin {
  /** Ordinary callback hooks, run before the user's callbacks. */
  callback?: Callback;
  /** Whether optimizer step `step` should collect gradient statistics. */
  wantsStats?(step: number): boolean;
  /**
   * Sees every step's result. Return 'handled' when a non-finite loss has been dealt with (e.g.
   * rolled back); the batch is then left out of the epoch's means and fit does not throw.
   */
  afterStep?(info: StepInfo): void | 'handled';
  /** Sees the training inputs (x is (rows, cols), validation rows excluded) and the History fit
   * will return, before the first step (the health monitor checks input scaling and records into it). */
  begin?(ctx: { x: Float32Array; rows: number; cols: number; history: History }): void;
}
export type FitPluginFactory = (model: Sequential, value: unknown, options: FitOptions) => FitPlugin;
const fitExtensions = new Map<string, FitPluginFactory>();

/** Registers `fit({ [name]: value })`. The factory validates `value` and throws OptionError if bad. */
export function registerFitOption(name: string, factory: FitPluginFactory): void {
  fitExtensions.set(name, factory);
}

/** Hooks run at the end of compile() (after validation, before the backend model is created). */
export type CompileHook = (model: Sequential, spec: ModelSpec) => void;
const compileHooks: CompileHook[] = [];
export function registerCompileHook(hook: CompileHook): void { compileHooks.push(hook); }

// ---------------------------------------------------------------------------------------------

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => {
  const si = (globalThis as { setImmediate?: (f: () => void) => void }).setImmediate;
  if (si) si(resolve);
  else setTimeout(resolve, 0);
});

const now = (): number => (globalThis.performance ?? Date).now();

interface Compiled {
  backendModel: BackendModel;
  spec: ModelSpec;
  loss: LossName;
  fromLogits: boolean;
  metrics: string[];
  optimizer: Optimizer;
  tensors: ParamTensor[];
  backend: Backend;
}

export class Sequential {
  readonly name: string;
  readonly seed: number;
  private readonly layerList: Layer[] = [];
  private readonly backendOverride: Backend | undefined;
  private compiled: Compiled | null = null;
  private disposed = false;
  private pendingWeights: Float32Array | null = null;
  private readonly shuffleRng: Rng;
  private training = false;
  /** Set true from a callback to end fit() after the current batch (EarlyStopping). */
  stopTraining = false;
  /** Optimizer steps taken over the model's life (drives learning-rate schedules). */
  iterations = 0;
  /**
   * @internal Set by a fit extension after `_reinitialize()` (the health monitor's repair policy):
   * fit ends the current epoch at once, forgets the epochs logged so far (they describe weights
   * that no longer exist), sets `iterations` back to its value when fit began, and runs again
   * from `initialEpoch`.
   */
  _restartRequested = false;

  constructor(opts: SequentialOptions = {}) {
    const w = 'sequential';
    checkOptions(w, opts, ['layers', 'seed', 'backend', 'name']);
    this.seed = opts.seed === undefined ? DEFAULT_SEED : checkNumber(w, 'seed', opts.seed, { integer: true, min: 0, max: 0xffffffff });
    if (opts.backend !== undefined && !isBackend(opts.backend)) {
      throw new OptionError(`${w}: backend must be a Backend instance (from gg.ready() or new gg.ReferenceBackend()), got ${describe(opts.backend)}`);
    }
    this.backendOverride = opts.backend;
    if (opts.name !== undefined && typeof opts.name !== 'string') throw new OptionError(`${w}: name must be a string, got ${describe(opts.name)}`);
    this.name = opts.name ?? 'sequential';
    // The shuffle stream is separate from the initialisers' tensor seeds (a fixed tweak of the
    // seed), so changing the number of layers does not change the order batches are drawn in.
    this.shuffleRng = new Rng((this.seed ^ 0x5eed5eed) >>> 0);
    if (opts.layers !== undefined) {
      if (!Array.isArray(opts.layers)) throw new OptionError(`${w}: layers must be an array of layers, got ${describe(opts.layers)}`);
      for (const l of opts.layers) this.add(l);
    }
  }

  // ----- structure ---------------------------------------------------------------------------

  /** Appends a layer (before compile). */
  add(layer: Layer): void {
    this.assertLive('add');
    if (this.compiled) throw new OptionError(`add: the model is already compiled; add layers before compile()`);
    if (!layer || typeof layer !== 'object' || typeof (layer as Layer).build !== 'function') {
      throw new OptionError(`add: expected a layer such as gg.layers.dense({...}), got ${describe(layer)}`);
    }
    if (this.layerList.length > 0 && layer.inputSize !== undefined) {
      const prev = this.resolveSizes().at(-1)!;
      if (layer.inputSize !== prev) {
        throw new ShapeError(`add: layer ${this.layerList.length} declares inputShape [${layer.inputSize}] but the previous layer outputs ${prev} values`);
      }
    }
    if (this.layerList.length === 0 && layer.inputSize === undefined) {
      throw new ShapeError(`add: the first layer needs an input size, e.g. gg.layers.dense({ inputShape: [784], units: … })`);
    }
    // Keras-style unique names: dense, dense_1, dense_2, …
    // Keras's default names: 'dense', 'batch_normalization' (snake case of the class name).
    const base = layer.className.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
    if (layer.name === undefined) {
      const n = this.layerList.filter((l) => l.className === layer.className).length;
      let name = n === 0 ? base : `${base}_${n}`;
      while (this.layerList.some((l) => l.name === name)) name += '_';
      layer.name = name;
    } else if (this.layerList.some((l) => l.name === layer.name)) {
      throw new OptionError(`add: a layer named '${layer.name}' already exists; layer names must be unique`);
    }
    if (this.layerList.includes(layer)) throw new OptionError(`add: this layer object is already in the model`);
    this.layerList.push(layer);
  }

  get layers(): readonly Layer[] { return this.layerList; }

  /** Sizes along the stack: [input, out₀, out₁, …]. */
  private resolveSizes(): number[] {
    const sizes = [this.layerList[0].inputSize!];
    for (const l of this.layerList) sizes.push(l.outputSize(sizes.at(-1)!));
    return sizes;
  }

  get inputSize(): number {
    if (this.layerList.length === 0) throw new ShapeError('the model has no layers');
    return this.layerList[0].inputSize!;
  }
  get outputSize(): number {
    if (this.layerList.length === 0) throw new ShapeError('the model has no layers');
    return this.resolveSizes().at(-1)!;
  }

  private buildLayers(): BuiltLayer[] {
    const sizes = this.resolveSizes();
    return this.layerList.map((l, i) => l.build(sizes[i]));
  }

  /** Total number of parameters. */
  countParams(): number {
    return this.buildLayers().reduce((a, b) => a + b.params.reduce((s, p) => s + p.shape.reduce((x, y) => x * y, 1), 0), 0);
  }

  // ----- compile -----------------------------------------------------------------------------

  /**
   * Chooses optimizer, loss and metrics, creates the backend model and initialises the weights
   * (tensor i with seed tensorSeed(seed, i)). Compiling again keeps the current weights (as
   * Keras does) and resets the optimizer state.
   */
  compile(opts: CompileOptions): void {
    const w = 'compile';
    this.assertLive(w);
    if (this.training) throw new OptionError(`${w}: cannot compile while fit() is running`);
    if (opts === undefined) throw new OptionError(`${w}: expected options { optimizer, loss, metrics }, got undefined`);
    checkOptions(w, opts, ['optimizer', 'loss', 'metrics']);
    if (this.layerList.length === 0) throw new ShapeError(`${w}: the model has no layers; add some first`);
    if (opts.loss === undefined) throw new OptionError(`${w}: the option 'loss' is required (e.g. 'sparseCategoricalCrossentropy')`);
    let loss: LossName, fromLogits = false;
    if (opts.loss !== null && typeof opts.loss === 'object') {
      const l = opts.loss as Partial<LossSpec>;
      loss = resolveLoss(w, l.name);
      fromLogits = l.fromLogits === undefined ? false : checkBoolean(w, 'loss.fromLogits', l.fromLogits);
    } else {
      loss = resolveLoss(w, opts.loss);
    }
    const optimizer = toOptimizer(w, opts.optimizer ?? 'rmsprop'); // Keras's compile default
    const metricsIn = opts.metrics === undefined ? [] : Array.isArray(opts.metrics) ? opts.metrics : [opts.metrics];
    const metrics: string[] = [];
    for (const m of metricsIn) {
      if (typeof m !== 'string' || !['accuracy', 'acc'].includes(m.toLowerCase())) {
        throw new OptionError(`${w}: unknown metric ${describe(m)}; supported: 'accuracy' (alias 'acc')`);
      }
      if (!metrics.includes('accuracy')) metrics.push('accuracy');
    }
    const built = this.buildLayers();
    const spec: ModelSpec = { layers: built.map((b) => b.spec as LayerSpec), loss, fromLogits };
    if (fromLogits) {
      const last = spec.layers.at(-1)!.activation;
      if (last !== 'linear') {
        throw new OptionError(`${w}: fromLogits: true needs a linear last layer (the loss applies ${loss === 'binary_crossentropy' ? 'sigmoid' : 'softmax'} itself), but the last layer's activation is '${last}'`);
      }
    }
    if (loss === 'binary_crossentropy' && spec.layers.at(-1)!.activation === 'softmax' && this.outputSize === 1) {
      throw new OptionError(`${w}: a softmax over 1 unit always outputs 1, so binaryCrossentropy cannot learn; use activation 'sigmoid' on the last layer`);
    }
    for (const hook of compileHooks) hook(this, spec);

    const backend = this.backendOverride ?? getDefaultBackend(w);
    // Everything is validated; from here on the old state is replaced.
    let keep: Float32Array | null = this.pendingWeights;
    if (this.compiled) {
      keep = this.compiled.backendModel.getParams();
      this.compiled.optimizer._bind(null);
      this.compiled.backendModel.dispose();
      this.compiled = null;
    }
    const tensors = built.flatMap((b) => b.params);
    const bm = this.createBackendModel(w, backend, spec, tensors);
    const offsets = regionOffsets(tensors);
    if (keep === null) {
      tensors.forEach((p, t) => bm.initTensor(offsets[t], tensorSize(p), p.init.kind, p.fanIn, p.fanOut, p.init.value, tensorSeed(this.seed, t)));
    }
    if (keep !== null) bm.setParams(keep);
    bm.setOptimizer(optimizer.getConfig());
    optimizer._bind(bm);
    this.pendingWeights = null;
    this.compiled = { backendModel: bm, spec, loss, fromLogits, metrics, optimizer, tensors, backend };
  }

  /** Creates the backend model for `spec` and checks its parameter layout against `tensors`. */
  private createBackendModel(w: string, backend: Backend, spec: ModelSpec, tensors: ParamTensor[]): BackendModel {
    let bm: BackendModel;
    try {
      bm = backend.createModel(spec);
    } catch (e) {
      throw new BackendError(`${w}: the ${backend.name} backend could not create the model: ${(e as Error)?.message ?? String(e)}`);
    }
    // `tensors` is in Keras order (W₀, b₀, W₁, b₁ …; batchnorm γ, β, moving_mean,
    // moving_variance), which fixes the seeds: tensor t gets tensorSeed(seed, t). regionOffsets
    // places them as the backend does; check it against the backend's own layout.
    const offsets = regionOffsets(tensors);
    const fromLayout: [number, number][] = [];
    bm.layout.forEach((lay) => {
      for (const [off, len] of [[lay.wOffset, lay.wLength], [lay.bOffset, lay.bLength]] as const) if (len > 0) fromLayout.push([off, len]);
      const f = lay.movingLength / 2;
      if (f > 0) fromLayout.push([lay.movingOffset, f], [lay.movingOffset + f, f]);
    });
    const bad = fromLayout.length !== tensors.length ? tensors.length
      : tensors.findIndex((p, t) => fromLayout[t][0] !== offsets[t] || fromLayout[t][1] !== tensorSize(p));
    if (bad >= 0) {
      bm.dispose();
      throw new BackendError(`${w}: the backend's parameter layout does not match the layers (tensor ${bad})`);
    }
    return bm;
  }

  /**
   * @internal Restart support for the health monitor's repair policy (AUTOTRAINER-style retrain):
   * replaces the layers by `layers` (same count and sizes; each takes the name of the layer it
   * replaces, so weights and reports keep their names), builds a new backend model, initialises
   * every tensor t afresh with tensorSeed(seed, t), and resets the optimizer's state (moments and
   * step counter) with its current config. The loss, metrics and Optimizer object are kept. The
   * old backend model is disposed only once the new one exists, so a throw leaves the model as it was.
   */
  _reinitialize(opts: { layers?: readonly Layer[]; seed: number }): void {
    const w = '_reinitialize';
    const c = this.need(w);
    const seed = checkNumber(w, 'seed', opts.seed, { integer: true, min: 0, max: 0xffffffff });
    const next = opts.layers ? [...opts.layers] : [...this.layerList];
    if (next.length !== this.layerList.length) throw new ShapeError(`${w}: expected ${this.layerList.length} layers, got ${next.length}`);
    // Names first: the tensors' names come from their layer's.
    next.forEach((l, i) => { l.name = this.layerList[i].name; });
    const sizes = this.resolveSizes();
    const built = next.map((l, i) => l.build(sizes[i]));
    built.forEach((b, i) => {
      if (b.outputSize !== sizes[i + 1]) throw new ShapeError(`${w}: layer ${i} would output ${b.outputSize} values instead of ${sizes[i + 1]}`);
    });
    const spec: ModelSpec = { layers: built.map((b) => b.spec as LayerSpec), loss: c.loss, fromLogits: c.fromLogits };
    const tensors = built.flatMap((b) => b.params);
    const bm = this.createBackendModel(w, c.backend, spec, tensors);
    const offsets = regionOffsets(tensors);
    tensors.forEach((p, t) => bm.initTensor(offsets[t], tensorSize(p), p.init.kind, p.fanIn, p.fanOut, p.init.value, tensorSeed(seed, t)));
    bm.setOptimizer(c.optimizer.getConfig());
    c.optimizer._bind(null);
    c.backendModel.dispose();
    c.optimizer._bind(bm);
    // In place: fit holds `c` and re-reads c.backendModel when it restarts.
    c.backendModel = bm;
    c.spec = spec;
    c.tensors = tensors;
    this.layerList.splice(0, this.layerList.length, ...next);
    for (const hook of compileHooks) hook(this, spec);
  }

  get isCompiled(): boolean { return this.compiled !== null; }
  /** The bound optimizer (after compile); set `optimizer.learningRate` to change it mid-training. */
  get optimizer(): Optimizer | undefined { return this.compiled?.optimizer; }
  get loss(): LossName | undefined { return this.compiled?.loss; }
  get metrics(): readonly string[] { return this.compiled?.metrics ?? []; }
  /** The backend model (advanced: health monitor, io). Throws before compile. */
  get backendModel(): BackendModel { return this.need('backendModel').backendModel; }
  /** The resolved spec the backend runs. */
  get spec(): ModelSpec { return this.need('spec').spec; }

  private assertLive(where: string): void {
    if (this.disposed) throw new DisposedError(`${where}: the model was disposed; create a new one`);
  }
  private need(where: string): Compiled {
    this.assertLive(where);
    if (!this.compiled) throw new NotCompiledError(`${where}: call model.compile({ optimizer, loss, metrics }) first`);
    return this.compiled;
  }

  // ----- data helpers ------------------------------------------------------------------------

  /** `finite: false`: the caller checks for NaN/±Inf itself (see fit). */
  private inputs(where: string, what: string, x: unknown, finite = true): Matrix {
    if (x === undefined) throw new ShapeError(`${where}: ${what} is required`);
    return toMatrix(where, what, x, this.inputSize, 'features', finite);
  }

  private targets(where: string, what: string, y: unknown, rows: number, xName: string): Targets {
    const c = this.compiled!;
    if (y === undefined) throw new ShapeError(`${where}: ${what} is required`);
    const t = toTargets(where, what, y, c.loss, this.outputSize);
    const yRows = c.loss === 'sparse_categorical_crossentropy' ? t.length : t.length / this.outputSize;
    if (yRows !== rows) {
      const oneHot = c.loss === 'sparse_categorical_crossentropy' && t.length === rows * this.outputSize && this.outputSize > 1;
      throw new ShapeError(
        `${where}: ${xName} has ${rows} samples but ${what} has ${yRows}` +
          (oneHot ? ` (${what} looks one-hot: use loss 'categoricalCrossentropy' or pass class ids)` : ''),
      );
    }
    return t;
  }

  private batchSizeOpt(where: string, v: unknown, dflt: number): number {
    return v === undefined ? dflt : checkNumber(where, 'batchSize', v, { integer: true, min: 1 });
  }

  // ----- fit ---------------------------------------------------------------------------------

  /**
   * Trains for `epochs` epochs of mini-batch steps. Per epoch: a seeded shuffle, batches
   * gathered into one reused buffer, one backend trainStep each; logs are running means over
   * the epoch weighted by batch size (the last, partial batch included), as Keras reports.
   *
   * If the loss becomes NaN/Inf and neither a fit extension nor a callback (model.stopTraining,
   * e.g. terminateOnNaN) handles it, fit puts the model back as it was at the start of that epoch
   * — weights, the optimizer's state (moments and step counter) and `iterations` — and throws
   * NonFiniteError (its `history` has the epochs done). Keras would carry on with NaN weights; we
   * throw instead (no silent NaN), but like Keras never reset the optimizer's state: catching the
   * error, lowering the learning rate and calling fit again continues the same optimizer run.
   * With terminateOnNaN, as in Keras, training just stops after the batch (weights as they are).
   *
   * A NaN/±Inf in x is a NonFiniteError naming the sample and feature, and the model is left as it
   * was. On the wasm backend the kernel finds it in the batch that holds it (every sample is in
   * the first epoch), and fit then restores the epoch's start as above; callbacks may have seen
   * the batches before it. Scanning all of x first instead cost 20 ms per call for MNIST.
   */
  async fit(x: TensorLike, y: TensorLike, options: FitOptions = {}): Promise<History> {
    const w = 'fit';
    const c = this.need(w);
    if (this.training) throw new OptionError(`${w}: this model is already training (await the first fit() before starting another)`);
    checkOptions(w, options, [...FIT_OPTIONS, ...fitExtensions.keys()]);
    const o = options;
    const epochs = o.epochs === undefined ? 1 : checkNumber(w, 'epochs', o.epochs, { integer: true, min: 1 });
    const initialEpoch = o.initialEpoch === undefined ? 0 : checkNumber(w, 'initialEpoch', o.initialEpoch, { integer: true, min: 0 });
    if (initialEpoch >= epochs) throw new OptionError(`${w}: initialEpoch (${initialEpoch}) must be less than epochs (${epochs})`);
    const batchSize = this.batchSizeOpt(w, o.batchSize, 32);
    const shuffle = o.shuffle === undefined ? true : checkBoolean(w, 'shuffle', o.shuffle);
    const verbose = o.verbose === undefined ? 0 : checkNumber(w, 'verbose', o.verbose, { integer: true, min: 0, max: 2 });
    const yieldEvery = o.yieldEvery === undefined ? 50 : checkNumber(w, 'yieldEvery', o.yieldEvery, { integer: true, min: 0 });
    const userCallbacks = toCallbackList(w, o.callbacks);
    const statsEvery = o.statsEvery !== undefined ? checkNumber(w, 'statsEvery', o.statsEvery, { integer: true, min: 0 })
      : userCallbacks.some((cb) => cb.onGradientStats) ? 1 : 0;

    // A backend whose training step checks its own batch (badInput) finds a NaN/±Inf in the
    // training rows as it trains on them, all in the first epoch; then fit puts the model back as
    // at that epoch's start and throws (below). Otherwise, and for validation rows, x is scanned
    // here, before anything changes.
    const batchesChecked = c.backendModel.badInput !== undefined;
    const X = this.inputs(w, 'x', x, !batchesChecked);
    const Y = this.targets(w, 'y', y, X.rows, 'x');
    const nIn = X.cols, yPer = c.loss === 'sparse_categorical_crossentropy' ? 1 : this.outputSize;

    // Validation data: explicit, or the last fraction of (x, y) before shuffling (Keras).
    let nTrain = X.rows;
    let val: { x: Float32Array; y: Targets; rows: number } | null = null;
    if (o.validationData !== undefined && o.validationSplit !== undefined && o.validationSplit !== 0) {
      throw new OptionError(`${w}: give either validationData or validationSplit, not both`);
    }
    if (o.validationData !== undefined) {
      const vd = o.validationData as unknown;
      let vx: unknown, vy: unknown;
      if (Array.isArray(vd) && vd.length === 2) [vx, vy] = vd;
      else if (vd !== null && typeof vd === 'object' && 'x' in vd && 'y' in vd) ({ x: vx, y: vy } = vd as { x: unknown; y: unknown });
      else throw new OptionError(`${w}: validationData must be [x, y] or { x, y }, got ${describe(vd)}`);
      const VX = this.inputs(w, 'validationData x', vx);
      val = { x: VX.data, y: this.targets(w, 'validationData y', vy, VX.rows, 'validationData x'), rows: VX.rows };
    } else if (o.validationSplit !== undefined && o.validationSplit !== 0) {
      const split = checkNumber(w, 'validationSplit', o.validationSplit, { min: 0, max: 1, maxExclusive: true });
      nTrain = Math.floor(X.rows * (1 - split));
      const nVal = X.rows - nTrain;
      if (nTrain < 1 || nVal < 1) {
        throw new OptionError(`${w}: validationSplit ${split} of ${X.rows} samples leaves ${nTrain} for training and ${nVal} for validation; both need at least 1`);
      }
      val = { x: X.data.subarray(nTrain * nIn), y: Y.subarray(nTrain * yPer) as Targets, rows: nVal };
      if (batchesChecked) checkFinite(w, 'x', { data: val.x, rows: nVal, cols: nIn }, nTrain);
    }
    const valBatch = this.batchSizeOpt(w, o.validationBatchSize, batchSize);

    // Extensions (validated by their factories) and callbacks, all before any state changes.
    const plugins: FitPlugin[] = [];
    for (const [name, factory] of fitExtensions) {
      const value = (o as Record<string, unknown>)[name];
      if (value !== undefined) plugins.push(factory(this, value, o));
    }
    const cbs: Callback[] = [...plugins.flatMap((p) => (p.callback ? [p.callback] : [])), ...userCallbacks];

    // ---- training state; from here on the model changes ----
    let bm = c.backendModel;
    const iterationsAtStart = this.iterations;
    const accuracyOn = c.metrics.includes('accuracy');
    const steps = Math.ceil(nTrain / batchSize);
    const history = new History({ epochs, steps, samples: nTrain, batchSize, validationSamples: val?.rows ?? 0 });
    for (const p of plugins) p.begin?.({ x: X.data.subarray(0, nTrain * nIn), rows: nTrain, cols: nIn, history });
    const lastSize = nTrain - (steps - 1) * batchSize;
    const order = new Int32Array(nTrain);
    for (let i = 0; i < nTrain; i++) order[i] = i;
    const Xd = X.data;
    // One training step on rows `rows` (bs of them) of (X, Y). The wasm backend gathers them
    // itself, straight into its memory (trainStepGather); for other backends they are gathered
    // here into one reused buffer for x and one for y, made on first use.
    let bufs: { x: Float32Array; y: Targets } | null = null;
    const trainRows = (rows: Int32Array, bs: number): number => {
      if (bm.trainStepGather) return bm.trainStepGather(Xd, Y, rows, bs);
      bufs ??= { x: new Float32Array(batchSize * nIn), y: Y instanceof Int32Array ? new Int32Array(batchSize * yPer) : new Float32Array(batchSize * yPer) };
      // set() of a subarray is a memcpy; measured 2-4x faster than an element loop for 784-float rows.
      for (let i = 0; i < bs; i++) {
        const r = rows[i];
        bufs.x.set(Xd.subarray(r * nIn, r * nIn + nIn), i * nIn);
        if (yPer === 1) bufs.y[i] = Y[r];
        else bufs.y.set(Y.subarray(r * yPer, r * yPer + yPer), i * yPer);
      }
      return bm.trainStep(bufs.x.subarray(0, bs * nIn), bufs.y.subarray(0, bs * yPer) as Targets, bs);
    };

    this.training = true;
    this.stopTraining = false;
    this._restartRequested = false;
    const cbModel = this;
    // Per-batch hooks cost a Promise each even when empty: skip them when no callback has one.
    const hasBatchBegin = cbs.some((cb) => cb.onBatchBegin), hasBatchEnd = cbs.some((cb) => cb.onBatchEnd);
    const statsWanted = plugins.filter((p) => p.wantsStats);
    for (const cb of cbs) cb.setModel?.(cbModel);
    // After model._reinitialize(): the new backend model, the step counter of fit's start (so
    // schedules and the monitor's warm-up see a fresh run), no epochs logged, and every
    // callback's onRestart (stateful callbacks start afresh: a restarted run is a new run);
    // returns the loop index that the loop's increment turns into initialEpoch.
    let restarts = 0;
    const restart = async (): Promise<number> => {
      this._restartRequested = false;
      bm = c.backendModel;
      this.iterations = iterationsAtStart;
      history.epoch.length = 0;
      history.epochSeconds.length = 0;
      for (const k of Object.keys(history.history)) delete history.history[k];
      await runHook(cbs, 'onRestart', ++restarts, {});
      return initialEpoch - 1;
    };
    try {
      await runHook(cbs, 'onTrainBegin', {});
      for (let epoch = initialEpoch; epoch < epochs && !this.stopTraining; epoch++) {
        const t0 = now();
        // The model at the epoch's start, put back if the loss turns non-finite (see above): the
        // optimizer's state is part of it (Adam's moments and step counter go with the weights).
        const snapshot = bm.getParams();
        const optSnapshot = bm.getOptimizerState();
        const iterationsAtEpoch = this.iterations;
        const restoreEpochStart = (): void => {
          bm.setParams(snapshot);
          bm.setOptimizerState(optSnapshot);
          this.iterations = iterationsAtEpoch;
        };
        await runHook(cbs, 'onEpochBegin', epoch, {});
        if (shuffle) this.shuffleRng.shuffle(order);
        let lossSum = 0, correct = 0, seen = 0;
        for (let b = 0; b < steps && !this.stopTraining && !this._restartRequested; b++) {
          const start = b * batchSize;
          const bs = b === steps - 1 ? lastSize : batchSize;
          if (hasBatchBegin) await runHook(cbs, 'onBatchBegin', b, { batch: b, size: bs });
          const step = this.iterations;
          c.optimizer._applySchedule(step);
          let collect = statsEvery > 0 && step % statsEvery === 0;
          for (const p of statsWanted) if (p.wantsStats!(step)) collect = true;
          if (collect) bm.setCollectStats(true);
          const loss = trainRows(order.subarray(start, start + bs), bs);
          if (collect) bm.setCollectStats(false);
          const bad = loss !== loss && batchesChecked ? bm.badInput!() : -1;
          if (bad >= 0) {
            // x (bs, nIn) of this step had a NaN/±Inf: the step changed nothing; undo the epoch's
            // earlier steps, as for a non-finite loss, and name the sample as the up-front scan would.
            restoreEpochStart();
            const sample = order[start + Math.floor(bad / nIn)], feature = bad % nIn;
            throw nonFiniteInput(w, 'x', Xd[sample * nIn + feature], sample, feature, nIn);
          }
          this.iterations++;
          const nCorrect = accuracyOn ? bm.lastCorrect() : 0;
          const stats = collect ? bm.getStats() : null;
          let handled = false;
          for (const p of plugins) {
            if (p.afterStep?.({ epoch, batch: b, step, batchSize: bs, loss, correct: nCorrect, stats }) === 'handled') handled = true;
          }
          if (stats) await runHook(userCallbacks, 'onGradientStats', step, stats);
          if (!handled) { lossSum += loss * bs; correct += nCorrect; seen += bs; }
          if (hasBatchEnd) {
            const logs: Logs = { batch: b, size: bs, loss: seen > 0 ? lossSum / seen : loss };
            if (accuracyOn) logs.accuracy = seen > 0 ? correct / seen : 0;
            await runHook(cbs, 'onBatchEnd', b, logs);
          }
          if (!handled && !Number.isFinite(loss) && !this.stopTraining && !this._restartRequested) {
            restoreEpochStart();
            const err = new NonFiniteError(
              `fit: the loss became ${loss} at epoch ${epoch}, batch ${b} (step ${step}); the weights were restored to ` +
                `the start of epoch ${epoch}, with the optimizer's state (moments, step counter) as it was then. Likely causes: a learning rate too high ` +
                `(now ${c.optimizer.learningRate}), exploding gradients (try clipNorm/globalClipNorm), or extreme inputs`,
            );
            err.history = history;
            throw err;
          }
          if (yieldEvery > 0 && (b + 1) % yieldEvery === 0) await yieldToEventLoop();
        }
        if (this._restartRequested) { epoch = await restart(); continue; }
        const logs: Logs = { loss: seen > 0 ? lossSum / seen : NaN };
        if (accuracyOn) logs.accuracy = seen > 0 ? correct / seen : NaN;
        if (val) {
          const r = this.evaluateRaw(val.x, val.y, val.rows, valBatch);
          logs.val_loss = r.loss;
          if (accuracyOn) logs.val_accuracy = r.accuracy!;
        }
        await runHook(cbs, 'onEpochEnd', epoch, logs);
        const secs = (now() - t0) / 1000;
        history._record(epoch, logs, secs);
        if (verbose > 0) {
          const parts = Object.entries(logs).map(([k, v]) => `${k}: ${v.toFixed(4)}`);
          console.log(`Epoch ${epoch + 1}/${epochs} - ${secs.toFixed(1)}s - ${parts.join(' - ')}`);
        }
        // A restart asked for at the epoch's end (by an onEpochEnd hook) also runs again.
        if (this._restartRequested) epoch = await restart();
        await yieldToEventLoop();
      }
      await runHook(cbs, 'onTrainEnd', history.epoch.length ? lastLogs(history) : {});
    } finally {
      this.training = false;
    }
    return history;
  }

  // ----- evaluate / predict ------------------------------------------------------------------

  private evaluateRaw(x: Float32Array, y: Targets, rows: number, batch: number): EvaluateResult {
    const bm = this.compiled!.backendModel;
    const nIn = this.inputSize, yPer = y instanceof Int32Array ? 1 : this.outputSize;
    let lossSum = 0, correct = 0;
    for (let s = 0; s < rows; s += batch) {
      const bs = Math.min(batch, rows - s);
      const r = bm.evaluate(x.subarray(s * nIn, (s + bs) * nIn), y.subarray(s * yPer, (s + bs) * yPer) as Targets, bs);
      lossSum += r.lossSum; correct += r.correct;
    }
    const out: EvaluateResult = { loss: lossSum / rows };
    if (this.compiled!.metrics.includes('accuracy')) out.accuracy = correct / rows;
    return out;
  }

  /** Mean loss (and accuracy when compiled with metrics: ['accuracy']) over (x, y), in batches (default 256). */
  evaluate(x: TensorLike, y: TensorLike, options: EvaluateOptions = {}): EvaluateResult {
    const w = 'evaluate';
    this.need(w);
    checkOptions(w, options, ['batchSize', 'verbose']);
    const batch = this.batchSizeOpt(w, options.batchSize, 256);
    if (options.verbose !== undefined) checkNumber(w, 'verbose', options.verbose, { integer: true, min: 0, max: 1 });
    const X = this.inputs(w, 'x', x);
    const Y = this.targets(w, 'y', y, X.rows, 'x');
    const r = this.evaluateRaw(X.data, Y, X.rows, batch);
    if (!Number.isFinite(r.loss)) {
      throw new NonFiniteError(`${w}: the loss is ${r.loss} although the inputs are finite; the inputs or the weights are too large ` +
        `(scale inputs to about [-1, 1]; check the weights with getWeights())`);
    }
    if (options.verbose) console.log(Object.entries(r).map(([k, v]) => `${k}: ${(v as number).toFixed(4)}`).join(' - '));
    return r;
  }

  /** Outputs (samples, outputSize) as one Float32Array, computed in batches (default 256). */
  predict(x: TensorLike, options: PredictOptions = {}): Float32Array {
    const w = 'predict';
    const c = this.need(w);
    checkOptions(w, options, ['batchSize']);
    const batch = this.batchSizeOpt(w, options.batchSize, 256);
    const X = this.inputs(w, 'x', x);
    const nIn = X.cols, nOut = this.outputSize;
    const out = new Float32Array(X.rows * nOut);
    for (let s = 0; s < X.rows; s += batch) {
      const bs = Math.min(batch, X.rows - s);
      out.set(c.backendModel.predict(X.data.subarray(s * nIn, (s + bs) * nIn), bs).subarray(0, bs * nOut), s * nOut);
    }
    // Finite inputs can still overflow (huge inputs or weights): say so instead of returning NaN.
    for (let i = 0; i < out.length; i++) {
      if (out[i] - out[i] !== 0) {
        throw new NonFiniteError(`${w}: the model's output is ${out[i]} for sample ${Math.floor(i / nOut)} although the inputs are finite; ` +
          `the inputs or the weights are too large (scale inputs to about [-1, 1]; check the weights with getWeights())`);
      }
    }
    return out;
  }

  // ----- weights -----------------------------------------------------------------------------

  /** Copies of the weights in Keras order [kernel₀, bias₀, kernel₁, …]; kernels are (in, units). */
  getWeights(): WeightTensor[] {
    const c = this.need('getWeights');
    const flat = c.backendModel.getParams();
    const offsets = regionOffsets(c.tensors); // equal to the backend's layout (compile checks it)
    return c.tensors.map((p, t) => ({ name: p.name, shape: [...p.shape], data: flat.slice(offsets[t], offsets[t] + tensorSize(p)) }));
  }

  /**
   * Sets all weights from a list in getWeights() order: WeightTensor objects, { data } or plain
   * Float32Arrays. Lengths (and shapes, when given) must match; values must be finite. Before
   * compile the weights are kept and applied by compile() instead of initialisation.
   */
  setWeights(weights: (WeightTensor | { data: ArrayLike<number>; shape?: number[] } | Float32Array | number[])[]): void {
    const w = 'setWeights';
    this.assertLive(w);
    if (this.layerList.length === 0) throw new ShapeError(`${w}: the model has no layers`);
    const tensors = this.compiled?.tensors ?? this.buildLayers().flatMap((b) => b.params);
    if (!Array.isArray(weights)) throw new ShapeError(`${w}: expected an array of ${tensors.length} weight tensors, got ${describe(weights)}`);
    if (weights.length !== tensors.length) {
      throw new ShapeError(`${w}: expected ${tensors.length} weight tensors (${tensors.map((t) => t.name).join(', ')}), got ${weights.length}`);
    }
    const total = tensors.reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0);
    const flat = new Float32Array(total);
    // Offsets: every backend's layout, before and after compile (compile() asserts it).
    const offsets = regionOffsets(tensors);
    weights.forEach((wt, i) => {
      const t = tensors[i];
      const len = t.shape.reduce((x, y) => x * y, 1);
      let data: ArrayLike<number>;
      let shape: number[] | undefined;
      if (ArrayBuffer.isView(wt) || Array.isArray(wt)) data = wt as ArrayLike<number>;
      else if (wt && typeof wt === 'object' && 'data' in wt) { data = wt.data; shape = wt.shape; }
      else throw new ShapeError(`${w}: weights[${i}] must be a Float32Array or { data, shape }, got ${describe(wt)}`);
      if (shape !== undefined && (shape.length !== t.shape.length || shape.some((d, k) => d !== t.shape[k]))) {
        throw new ShapeError(`${w}: weights[${i}] (${t.name}) has shape [${shape.join(', ')}] but the model expects [${t.shape.join(', ')}]`);
      }
      if (data.length !== len) {
        throw new ShapeError(`${w}: weights[${i}] (${t.name}) has ${data.length} values but the model expects ${len} (shape [${t.shape.join(', ')}])`);
      }
      for (let k = 0; k < len; k++) {
        const v = data[k];
        if (typeof v !== 'number' || v - v !== 0) throw new NonFiniteError(`${w}: weights[${i}] (${t.name}) has ${describe(v)} at index ${k}; weights must be finite numbers`);
        flat[offsets[i] + k] = v;
      }
    });
    if (this.compiled) this.compiled.backendModel.setParams(flat);
    else this.pendingWeights = flat;
  }

  // ----- save --------------------------------------------------------------------------------

  /**
   * The optimizer's state (slot variables such as Adam's moments, and its step counter) in the
   * saveable form of ts/model/optstate.ts; toJSON() stores it as `optimizerState`.
   */
  getOptimizerState(): SavedOptimizerState {
    const c = this.need('getOptimizerState');
    return encodeOptimizerState(c.optimizer.kind, c.backendModel.getOptimizerState());
  }

  /**
   * Restores a state from getOptimizerState() (or a saved file's `optimizerState`), so training
   * continues as if it had never stopped. The model must be compiled with the same optimizer
   * kind and have the same trainable parameter count; otherwise this throws (OptionError for the
   * kind, ShapeError for a length, NonFiniteError, DataError for a malformed state) and the model
   * is left as it was.
   */
  setOptimizerState(state: SavedOptimizerState): void {
    const w = 'setOptimizerState';
    const c = this.need(w);
    const bm = c.backendModel;
    bm.setOptimizerState(decodeOptimizerState(w, state, c.optimizer.kind, bm.trainableCount, bm.getOptimizerState()));
  }

  /**
   * The model as one JSON document (see ts/model/serialize.ts); gg.loadModel() rebuilds it.
   * `includeOptimizer` (default true) saves the optimizer's state so training resumes exactly;
   * false leaves the state out (the compile settings, optimizer configuration included, are
   * always saved): the loaded model's optimizer then starts fresh, as after compile().
   */
  toJSON(options: SaveOptions = {}): ModelJSON {
    const w = 'toJSON';
    this.assertLive(w);
    // JSON.stringify calls toJSON(key) with a string: treat that as no options.
    const opts = typeof options === 'string' ? {} : options;
    checkOptions(w, opts, ['includeOptimizer']);
    const includeOptimizer = opts.includeOptimizer === undefined ? true : checkBoolean(w, 'includeOptimizer', opts.includeOptimizer);
    const c = this.compiled;
    let weights: ModelJSON['weights'] = null;
    if (c) {
      weights = this.getWeights().map((t) => ({ name: t.name, shape: t.shape, dtype: 'float32' as const, data: f32ToBase64(t.data) }));
    } else if (this.pendingWeights) {
      const tensors = this.buildLayers().flatMap((b) => b.params);
      const offsets = regionOffsets(tensors);
      weights = tensors.map((t, i) => {
        const data = f32ToBase64(this.pendingWeights!.subarray(offsets[i], offsets[i] + tensorSize(t)));
        return { name: t.name, shape: [...t.shape], dtype: 'float32' as const, data };
      });
    }
    return {
      format: 'gradguard-sequential', version: 2, name: this.name, seed: this.seed, iterations: this.iterations,
      layers: this.layerList.map((l) => ({ className: l.className, config: l.getConfig() })),
      compile: c ? { loss: c.loss, fromLogits: c.fromLogits, metrics: [...c.metrics], optimizer: c.optimizer.getConfig() } : null,
      weights,
      optimizerState: c && includeOptimizer ? this.getOptimizerState() : null,
    };
  }

  /**
   * Node: writes toJSON(options) to `path` (e.g. 'model.json'). In browsers use toJSON() and
   * store it yourself. `{ includeOptimizer: false }` leaves out the optimizer's state (see toJSON).
   */
  async save(path: string, options: SaveOptions = {}): Promise<void> {
    const w = 'save';
    if (typeof path !== 'string' || path === '') throw new OptionError(`${w}: expected a file path, got ${describe(path)}`);
    checkOptions(w, options, ['includeOptimizer']);
    if (options.includeOptimizer !== undefined) checkBoolean(w, 'includeOptimizer', options.includeOptimizer);
    const json = JSON.stringify(this.toJSON(options));
    if (typeof process === 'undefined' || !(process as { versions?: { node?: string } }).versions?.node) {
      throw new OptionError(`${w}: writing files needs Node; in the browser, store JSON.stringify(model.toJSON()) (e.g. in IndexedDB or a download)`);
    }
    const fs = await import('node:fs/promises');
    try {
      await fs.writeFile(path, json);
    } catch (e) {
      throw new DataError(`${w}: cannot write ${path}: ${(e as Error).message}`);
    }
  }

  // ----- summary / dispose -------------------------------------------------------------------

  /** Prints a Keras-like table (layer, output shape, params) and returns it. */
  summary(opts: { printFn?: (line: string) => void; lineLength?: number } = {}): string {
    this.assertLive('summary');
    checkOptions('summary', opts, ['printFn', 'lineLength']);
    const width = opts.lineLength ?? 65;
    const cols = [Math.floor(width * 0.45), Math.floor(width * 0.33)];
    const pad = (s: string, n: number) => (s.length >= n ? s.slice(0, n - 1) + ' ' : s + ' '.repeat(n - s.length));
    const row = (a: string, b: string, c: string) => ' ' + pad(a, cols[0] - 1) + pad(b, cols[1]) + c;
    const lines: string[] = [`Model: "${this.name}"`, '_'.repeat(width), row('Layer (type)', 'Output Shape', 'Param #'), '='.repeat(width)];
    let total = 0, nonTrainable = 0;
    if (this.layerList.length > 0) {
      const built = this.buildLayers();
      built.forEach((b, i) => {
        const n = b.params.reduce((s, p) => s + tensorSize(p), 0);
        total += n;
        nonTrainable += b.params.reduce((s, p) => s + (p.trainable === false ? tensorSize(p) : 0), 0);
        const l = this.layerList[i];
        const act = l.activationName ?? '';
        lines.push(row(`${l.name} (${l.className}${act && act !== 'linear' ? `, ${act}` : ''})`, `(None, ${b.outputSize})`, String(n)));
        if (i < built.length - 1) lines.push(' ' + '_'.repeat(width - 1));
      });
    }
    const kb = (total * 4) / 1024;
    lines.push('='.repeat(width), `Total params: ${total.toLocaleString('en-US')} (${kb < 1024 ? `${kb.toFixed(2)} KB` : `${(kb / 1024).toFixed(2)} MB`})`,
      `Trainable params: ${(total - nonTrainable).toLocaleString('en-US')}`,
      `Non-trainable params: ${nonTrainable.toLocaleString('en-US')}`, '_'.repeat(width));
    if (this.compiled) {
      const oc = this.compiled.optimizer;
      lines.push(`Optimizer: ${oc.kind} (learningRate ${oc.learningRate}), loss: ${camel(this.compiled.loss)}, backend: ${this.compiled.backend.name}`);
    }
    const text = lines.join('\n');
    (opts.printFn ?? console.log)(text);
    return text;
  }

  /** Frees the backend model. Any later call throws DisposedError. Safe to call twice. */
  dispose(): void {
    if (this.disposed) return;
    if (this.training) throw new GradguardError('dispose: cannot dispose while fit() is running; set model.stopTraining = true and await fit first');
    this.disposed = true;
    if (this.compiled) {
      this.compiled.optimizer._bind(null);
      this.compiled.backendModel.dispose();
      this.compiled = null;
    }
  }
  get isDisposed(): boolean { return this.disposed; }
}

const tensorSize = (t: ParamTensor): number => t.shape.reduce((x, y) => x * y, 1);

/**
 * Offsets of `tensors` (Keras order) in a backend's flat parameter region (docs/abi.md, "Region
 * layout"): the trainable tensors packed in order, then the non-trainable ones (batchnorm moving
 * statistics) in order.
 */
export function regionOffsets(tensors: readonly ParamTensor[]): number[] {
  const off: number[] = new Array(tensors.length);
  let o = 0;
  for (const trainable of [true, false]) {
    tensors.forEach((t, i) => {
      if ((t.trainable !== false) === trainable) { off[i] = o; o += tensorSize(t); }
    });
  }
  return off;
}

function lastLogs(h: History): Logs {
  const logs: Logs = {};
  for (const [k, v] of Object.entries(h.history)) logs[k] = v[v.length - 1];
  return logs;
}

/** gg.sequential({ layers, seed, backend }) */
export function sequential(opts: SequentialOptions = {}): Sequential {
  return new Sequential(opts);
}

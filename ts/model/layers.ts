// Layers, activations and initializers as users write them:
//   gg.layers.dense({ inputShape: [784], units: 128, activation: 'relu', kernelInitializer: 'glorotUniform' })
//
// A layer here is configuration only. The model resolves input sizes (from the first layer's
// inputShape and each layer's units), then `build()` turns each layer into the backend's
// LayerSpec plus the list of parameter tensors and how to initialise them.

import type {
  ActivationName, BatchNormLayerSpec, ConstraintSpec, DenseLayerSpec, InitializerName, LayerSpec,
} from '../backend/types.js';
import { OptionError, ShapeError, checkBoolean, checkNumber, checkOptions, describe } from '../errors.js';
import { resolveActivation, resolveInitializer } from './names.js';

// ---------------------------------------------------------------------------------------------
// Activations

/** An activation with its parameter resolved (leaky_relu slope, elu alpha; 0 otherwise). */
export interface ActivationSpec { readonly name: ActivationName; readonly param: number }
export type ActivationIdentifier = string | ActivationSpec;

/** Keras 3 defaults: leaky_relu negative_slope = 0.2, elu alpha = 1.0. */
const DEFAULT_ACTIVATION_PARAM: Partial<Record<ActivationName, number>> = { leaky_relu: 0.2, elu: 1.0 };

export function toActivation(where: string, v: unknown): ActivationSpec {
  if (v !== null && typeof v === 'object' && 'name' in v) {
    const o = v as { name: unknown; param?: unknown };
    const name = resolveActivation(where, o.name);
    const param = o.param === undefined ? DEFAULT_ACTIVATION_PARAM[name] ?? 0
      : checkNumber(where, 'activation parameter', o.param);
    return { name, param };
  }
  const name = resolveActivation(where, v);
  return { name, param: DEFAULT_ACTIVATION_PARAM[name] ?? 0 };
}

/** Activation factories for the parametrised ones; plain strings work for the rest. */
export const activations = {
  /** f(x) = x for x > 0, negativeSlope·x otherwise (Keras 3 default slope 0.2). */
  leakyRelu(opts: { negativeSlope?: number; alpha?: number } = {}): ActivationSpec {
    checkOptions('activations.leakyRelu', opts, ['negativeSlope', 'alpha']);
    const s = opts.negativeSlope ?? opts.alpha ?? 0.2;
    return { name: 'leaky_relu', param: checkNumber('activations.leakyRelu', 'negativeSlope', s, { min: 0 }) };
  },
  /** f(x) = x for x > 0, alpha·(exp(x) − 1) otherwise (default alpha 1). */
  elu(opts: { alpha?: number } = {}): ActivationSpec {
    checkOptions('activations.elu', opts, ['alpha']);
    return { name: 'elu', param: checkNumber('activations.elu', 'alpha', opts.alpha ?? 1, { min: 0 }) };
  },
};

// ---------------------------------------------------------------------------------------------
// Initializers

/** An initializer fully resolved: the ABI kind and its one value (constant, uniform limit, stddev). */
export interface InitializerSpec { readonly kind: InitializerName; readonly value: number }
export type InitializerIdentifier = string | InitializerSpec;

/** Keras defaults: RandomUniform(−0.05, 0.05), RandomNormal(stddev 0.05), Constant(0). */
const DEFAULT_INIT_VALUE: Partial<Record<InitializerName, number>> = {
  random_uniform: 0.05, random_normal: 0.05, constant: 0,
};

export function toInitializer(where: string, v: unknown): InitializerSpec {
  if (v !== null && typeof v === 'object' && 'kind' in v) {
    const o = v as { kind: unknown; value?: unknown };
    const kind = resolveInitializer(where, o.kind);
    return { kind, value: o.value === undefined ? DEFAULT_INIT_VALUE[kind] ?? 0 : checkNumber(where, 'initializer value', o.value) };
  }
  const kind = resolveInitializer(where, v);
  return { kind, value: DEFAULT_INIT_VALUE[kind] ?? 0 };
}

const simpleInit = (kind: InitializerName) => (): InitializerSpec => ({ kind, value: 0 });

/** Initializer factories (TensorFlow.js names). Seeds come from the model's seed, per tensor. */
export const initializers = {
  zeros: simpleInit('zeros'),
  ones: simpleInit('ones'),
  constant(opts: { value?: number } = {}): InitializerSpec {
    checkOptions('initializers.constant', opts, ['value']);
    return { kind: 'constant', value: checkNumber('initializers.constant', 'value', opts.value ?? 0) };
  },
  glorotUniform: simpleInit('glorot_uniform'),
  glorotNormal: simpleInit('glorot_normal'),
  heUniform: simpleInit('he_uniform'),
  heNormal: simpleInit('he_normal'),
  lecunUniform: simpleInit('lecun_uniform'),
  lecunNormal: simpleInit('lecun_normal'),
  /** Uniform on (minval, maxval); the kernel draws symmetric ranges, so minval must be −maxval. */
  randomUniform(opts: { minval?: number; maxval?: number } = {}): InitializerSpec {
    const w = 'initializers.randomUniform';
    checkOptions(w, opts, ['minval', 'maxval']);
    const maxval = checkNumber(w, 'maxval', opts.maxval ?? (opts.minval !== undefined ? -opts.minval : 0.05), { min: 0 });
    const minval = checkNumber(w, 'minval', opts.minval ?? -maxval);
    if (minval !== -maxval) {
      throw new OptionError(`${w}: only symmetric ranges are supported (minval = −maxval), got minval ${minval} and maxval ${maxval}`);
    }
    return { kind: 'random_uniform', value: maxval };
  },
  /** Normal with mean 0 (the only mean supported) and the given stddev (default 0.05). */
  randomNormal(opts: { mean?: number; stddev?: number } = {}): InitializerSpec {
    const w = 'initializers.randomNormal';
    checkOptions(w, opts, ['mean', 'stddev']);
    if (opts.mean !== undefined && opts.mean !== 0) {
      throw new OptionError(`${w}: only mean 0 is supported, got mean ${describe(opts.mean)}`);
    }
    return { kind: 'random_normal', value: checkNumber(w, 'stddev', opts.stddev ?? 0.05, { min: 0 }) };
  },
};

// ---------------------------------------------------------------------------------------------
// Constraints (Keras 3: keras.constraints.MaxNorm, NonNeg, UnitNorm, MinMaxNorm), applied by the
// backend after every optimizer update; equations in docs/abi.md ("Constraint kinds").

export type ConstraintIdentifier = string | ConstraintSpec;
/** The largest f32: min_max_value's default bound when only one side is given. */
const F32_MAX = 3.4028234663852886e38;

function checkAxis(w: string, axis: unknown): void {
  if (axis !== undefined && axis !== 0) {
    throw new OptionError(`${w}: only axis 0 is supported (each unit's incoming weights, Keras's default), got ${describe(axis)}`);
  }
}

/** Constraint factories (TensorFlow.js / Keras names). */
export const constraints = {
  /** Each unit's incoming weight vector rescaled to norm ≤ maxValue (Keras MaxNorm, default 2). */
  maxNorm(opts: { maxValue?: number; axis?: number } = {}): ConstraintSpec {
    const w = 'constraints.maxNorm';
    checkOptions(w, opts, ['maxValue', 'axis']);
    checkAxis(w, opts.axis);
    return { kind: 'max_norm', minValue: 0, maxValue: checkNumber(w, 'maxValue', opts.maxValue ?? 2, { min: 0 }), rate: 0 };
  },
  /** Negative weights set to 0 (Keras NonNeg). */
  nonNeg(): ConstraintSpec { return { kind: 'non_neg', minValue: 0, maxValue: 0, rate: 0 }; },
  /** Each unit's incoming weight vector rescaled to norm 1 (Keras UnitNorm). */
  unitNorm(opts: { axis?: number } = {}): ConstraintSpec {
    checkOptions('constraints.unitNorm', opts, ['axis']);
    checkAxis('constraints.unitNorm', opts.axis);
    return { kind: 'unit_norm', minValue: 0, maxValue: 0, rate: 0 };
  },
  /**
   * Norm pulled into [minValue, maxValue] at the given rate (Keras MinMaxNorm: defaults 0, 1, 1):
   * w ← w·(rate·clip(n, min, max) + (1 − rate)·n)/(ε + n).
   */
  minMaxNorm(opts: { minValue?: number; maxValue?: number; rate?: number; axis?: number } = {}): ConstraintSpec {
    const w = 'constraints.minMaxNorm';
    checkOptions(w, opts, ['minValue', 'maxValue', 'rate', 'axis']);
    checkAxis(w, opts.axis);
    const minValue = checkNumber(w, 'minValue', opts.minValue ?? 0, { min: 0 });
    const maxValue = checkNumber(w, 'maxValue', opts.maxValue ?? 1, { min: minValue });
    return { kind: 'min_max_norm', minValue, maxValue, rate: checkNumber(w, 'rate', opts.rate ?? 1, { min: 0, max: 1 }) };
  },
  /**
   * Every weight clipped to [minValue, maxValue] after each update (weight clipping as in
   * WGAN; Keras has no built-in for it). At least one bound is required.
   */
  minMaxValue(opts: { minValue?: number; maxValue?: number }): ConstraintSpec {
    const w = 'constraints.minMaxValue';
    checkOptions(w, opts, ['minValue', 'maxValue']);
    if (opts === undefined || (opts.minValue === undefined && opts.maxValue === undefined)) {
      throw new OptionError(`${w}: give minValue and/or maxValue, got ${describe(opts)}`);
    }
    const minValue = checkNumber(w, 'minValue', opts.minValue ?? -F32_MAX);
    const maxValue = checkNumber(w, 'maxValue', opts.maxValue ?? F32_MAX, { min: minValue });
    return { kind: 'min_max_value', minValue, maxValue, rate: 0 };
  },
};

const CONSTRAINT_NAMES: Record<string, () => ConstraintSpec> = {
  maxNorm: () => constraints.maxNorm(), max_norm: () => constraints.maxNorm(), MaxNorm: () => constraints.maxNorm(),
  nonNeg: () => constraints.nonNeg(), non_neg: () => constraints.nonNeg(), NonNeg: () => constraints.nonNeg(),
  unitNorm: () => constraints.unitNorm(), unit_norm: () => constraints.unitNorm(), UnitNorm: () => constraints.unitNorm(),
  minMaxNorm: () => constraints.minMaxNorm(), min_max_norm: () => constraints.minMaxNorm(), MinMaxNorm: () => constraints.minMaxNorm(),
};

/** A constraint option: a name (Keras defaults), a factory's result, or null/undefined (none). */
export function toConstraint(where: string, name: string, v: unknown): ConstraintSpec | null {
  if (v === undefined || v === null || v === 'none') return null;
  if (typeof v === 'string') {
    const f = CONSTRAINT_NAMES[v];
    if (!f) throw new OptionError(`${where}: ${name} '${v}' is not a constraint; use one of maxNorm, nonNeg, unitNorm, minMaxNorm or gg.constraints.minMaxValue({...})`);
    return f();
  }
  if (typeof v === 'object' && 'kind' in v) {
    // Re-validate through the factories (a saved config, or a hand-written object).
    const c = v as Partial<ConstraintSpec>;
    const args = { minValue: c.minValue, maxValue: c.maxValue, rate: c.rate };
    switch (c.kind) {
      case 'none': return null;
      case 'max_norm': return constraints.maxNorm({ maxValue: c.maxValue });
      case 'non_neg': return constraints.nonNeg();
      case 'unit_norm': return constraints.unitNorm();
      case 'min_max_norm': return constraints.minMaxNorm(args);
      case 'min_max_value': return constraints.minMaxValue({ minValue: c.minValue, maxValue: c.maxValue });
    }
  }
  throw new OptionError(`${where}: ${name} must be a constraint such as gg.constraints.maxNorm({ maxValue: 2 }) or 'nonNeg', got ${describe(v)}`);
}

// ---------------------------------------------------------------------------------------------
// Layers

/** One parameter tensor of a built layer and how compile() initialises it. */
export interface ParamTensor {
  /** 'dense_1/kernel' */
  name: string;
  /** (in, units) for a kernel, (units) for a bias. */
  shape: number[];
  init: InitializerSpec;
  fanIn: number;
  fanOut: number;
  /** false for batchnorm's moving statistics (never updated by the optimizer); default true. */
  trainable?: boolean;
}

export interface BuiltLayer {
  spec: LayerSpec;
  outputSize: number;
  /** Keras order: W then b (when useBias); batchnorm γ, β (when on), moving_mean, moving_variance. */
  params: ParamTensor[];
}

/** What every layer config offers to the model. BatchNormalization (issue 3) adds another kind. */
export interface Layer {
  readonly className: string;
  /** Name given by the user, or assigned by the model ('dense', 'dense_1', …). */
  name: string | undefined;
  /** Declared input size (first layer), or undefined. */
  readonly inputSize: number | undefined;
  build(inputSize: number): BuiltLayer;
  /** Output size given the input size (for summary() before compile). */
  outputSize(inputSize: number): number;
  /** The layer's full configuration: `layerFromConfig(className, getConfig())` rebuilds it (save/load). */
  getConfig(): Record<string, unknown>;
  /** Activation name for summary(), if the layer has one. */
  readonly activationName?: string;
}

export interface DenseOptions {
  units: number;
  activation?: ActivationIdentifier;
  useBias?: boolean;
  kernelInitializer?: InitializerIdentifier;
  biasInitializer?: InitializerIdentifier;
  /** Applied to the kernel after each update: gg.constraints.maxNorm({ maxValue }) etc. */
  kernelConstraint?: ConstraintIdentifier | null;
  /** Applied to the bias after each update (the whole vector is one norm). */
  biasConstraint?: ConstraintIdentifier | null;
  /** Shape of one input sample, e.g. [784]; only the first layer needs it. */
  inputShape?: number[];
  /** Keras 2 spelling of inputShape: [inputDim]. */
  inputDim?: number;
  /** Keras's batch_input_shape, e.g. [null, 784]; the batch entry is ignored. */
  batchInputShape?: (number | null)[];
  name?: string;
}
const DENSE_OPTIONS = [
  'units', 'activation', 'useBias', 'kernelInitializer', 'biasInitializer', 'kernelConstraint',
  'biasConstraint', 'inputShape', 'inputDim', 'batchInputShape', 'name',
] as const;

export class Dense implements Layer {
  readonly className = 'Dense';
  name: string | undefined;
  readonly units: number;
  readonly activation: ActivationSpec;
  readonly useBias: boolean;
  readonly kernelInitializer: InitializerSpec;
  readonly biasInitializer: InitializerSpec;
  readonly kernelConstraint: ConstraintSpec | null;
  readonly biasConstraint: ConstraintSpec | null;
  readonly inputSize: number | undefined;

  constructor(opts: DenseOptions) {
    const w = 'layers.dense';
    if (opts === undefined) throw new OptionError(`${w}: expected an options object with 'units', got undefined`);
    checkOptions(w, opts, DENSE_OPTIONS);
    if (opts.units === undefined) throw new OptionError(`${w}: the option 'units' is required (a positive integer)`);
    this.units = checkNumber(w, 'units', opts.units, { integer: true, min: 1 });
    this.activation = toActivation(w, opts.activation ?? 'linear');
    this.useBias = opts.useBias === undefined ? true : checkBoolean(w, 'useBias', opts.useBias);
    this.kernelInitializer = toInitializer(w, opts.kernelInitializer ?? 'glorot_uniform');
    this.biasInitializer = toInitializer(w, opts.biasInitializer ?? 'zeros');
    this.kernelConstraint = toConstraint(w, 'kernelConstraint', opts.kernelConstraint);
    this.biasConstraint = toConstraint(w, 'biasConstraint', opts.biasConstraint);
    if (this.biasConstraint && !this.useBias) {
      throw new OptionError(`${w}: biasConstraint is set but useBias is false (there is no bias to constrain)`);
    }
    if (opts.name !== undefined && (typeof opts.name !== 'string' || opts.name === '')) {
      throw new OptionError(`${w}: name must be a non-empty string, got ${describe(opts.name)}`);
    }
    this.name = opts.name;
    this.inputSize = resolveInputSize(w, opts);
  }

  outputSize(_inputSize: number): number { return this.units; }

  build(inputSize: number): BuiltLayer {
    const spec: DenseLayerSpec = {
      kind: 'dense', inputSize, units: this.units, activation: this.activation.name,
      activationParam: this.activation.param, useBias: this.useBias,
      kernelConstraint: this.kernelConstraint, biasConstraint: this.biasConstraint,
    };
    const n = this.name ?? 'dense';
    // Kernel W is (in, units): fan_in = in, fan_out = units, as Keras computes for Dense.
    const params: ParamTensor[] = [
      { name: `${n}/kernel`, shape: [inputSize, this.units], init: this.kernelInitializer, fanIn: inputSize, fanOut: this.units },
    ];
    if (this.useBias) {
      params.push({ name: `${n}/bias`, shape: [this.units], init: this.biasInitializer, fanIn: inputSize, fanOut: this.units });
    }
    return { spec, outputSize: this.units, params };
  }

  get activationName(): string { return this.activation.name; }

  /** DenseOptions with everything resolved (activation parameter, initializer values). */
  getConfig(): Record<string, unknown> {
    const c: Record<string, unknown> = {
      units: this.units, activation: { ...this.activation }, useBias: this.useBias,
      kernelInitializer: { ...this.kernelInitializer }, biasInitializer: { ...this.biasInitializer },
    };
    if (this.kernelConstraint) c.kernelConstraint = { ...this.kernelConstraint };
    if (this.biasConstraint) c.biasConstraint = { ...this.biasConstraint };
    if (this.name !== undefined) c.name = this.name;
    if (this.inputSize !== undefined) c.inputDim = this.inputSize;
    return c;
  }
}

export interface BatchNormalizationOptions {
  /** Moving-statistics momentum in [0, 1] (Keras default 0.99). */
  momentum?: number;
  /** Added to the variance, > 0 (Keras default 1e-3). */
  epsilon?: number;
  /** Learn the offset β (default true). */
  center?: boolean;
  /** Learn the scale γ (default true). */
  scale?: boolean;
  /** Applied after the normalization (default 'linear', i.e. none, as Keras's layer). */
  activation?: ActivationIdentifier;
  /** Only axis −1 / 1 (the features of a (batch, features) input) is supported. */
  axis?: number;
  betaInitializer?: InitializerIdentifier;
  gammaInitializer?: InitializerIdentifier;
  movingMeanInitializer?: InitializerIdentifier;
  movingVarianceInitializer?: InitializerIdentifier;
  inputShape?: number[];
  inputDim?: number;
  batchInputShape?: (number | null)[];
  name?: string;
}
const BN_OPTIONS = [
  'momentum', 'epsilon', 'center', 'scale', 'activation', 'axis', 'betaInitializer', 'gammaInitializer',
  'movingMeanInitializer', 'movingVarianceInitializer', 'inputShape', 'inputDim', 'batchInputShape', 'name',
] as const;

/**
 * BatchNormalization over the features (Keras 3 semantics, docs/abi.md): in training (fit) the
 * batch mean and biased variance normalise x and update the moving statistics
 * (moving ← moving·momentum + batch·(1 − momentum)); predict/evaluate use the moving statistics.
 * Weights in Keras order: gamma, beta (when scale/center), moving_mean, moving_variance
 * (non-trainable, saved with the model).
 */
export class BatchNormalization implements Layer {
  readonly className = 'BatchNormalization';
  name: string | undefined;
  readonly momentum: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  readonly activation: ActivationSpec;
  readonly gammaInitializer: InitializerSpec;
  readonly betaInitializer: InitializerSpec;
  readonly movingMeanInitializer: InitializerSpec;
  readonly movingVarianceInitializer: InitializerSpec;
  readonly inputSize: number | undefined;

  constructor(opts: BatchNormalizationOptions = {}) {
    const w = 'layers.batchNormalization';
    checkOptions(w, opts, BN_OPTIONS);
    if (opts.axis !== undefined && opts.axis !== -1 && opts.axis !== 1) {
      throw new OptionError(`${w}: only axis −1 (the features of a (batch, features) input) is supported, got ${describe(opts.axis)}`);
    }
    this.momentum = checkNumber(w, 'momentum', opts.momentum ?? 0.99, { min: 0, max: 1 });
    this.epsilon = checkNumber(w, 'epsilon', opts.epsilon ?? 1e-3, { min: 0, minExclusive: true });
    if (Math.fround(this.epsilon) === 0) throw new OptionError(`${w}: epsilon must be > 0 in float32 (≥ 1.4e-45), got ${this.epsilon}`);
    this.center = opts.center === undefined ? true : checkBoolean(w, 'center', opts.center);
    this.scale = opts.scale === undefined ? true : checkBoolean(w, 'scale', opts.scale);
    this.activation = toActivation(w, opts.activation ?? 'linear');
    this.gammaInitializer = toInitializer(w, opts.gammaInitializer ?? 'ones');
    this.betaInitializer = toInitializer(w, opts.betaInitializer ?? 'zeros');
    this.movingMeanInitializer = toInitializer(w, opts.movingMeanInitializer ?? 'zeros');
    this.movingVarianceInitializer = toInitializer(w, opts.movingVarianceInitializer ?? 'ones');
    if (opts.name !== undefined && (typeof opts.name !== 'string' || opts.name === '')) {
      throw new OptionError(`${w}: name must be a non-empty string, got ${describe(opts.name)}`);
    }
    this.name = opts.name;
    this.inputSize = resolveInputSize(w, opts);
  }

  outputSize(inputSize: number): number { return inputSize; }

  build(inputSize: number): BuiltLayer {
    const f = inputSize;
    const spec: BatchNormLayerSpec = {
      kind: 'batchnorm', inputSize: f, units: f, activation: this.activation.name,
      activationParam: this.activation.param, center: this.center, scale: this.scale,
      momentum: this.momentum, epsilon: this.epsilon,
    };
    const n = this.name ?? 'batch_normalization';
    const t = (name: string, init: InitializerSpec, trainable: boolean): ParamTensor =>
      ({ name: `${n}/${name}`, shape: [f], init, fanIn: f, fanOut: f, trainable });
    const params: ParamTensor[] = [];
    if (this.scale) params.push(t('gamma', this.gammaInitializer, true));
    if (this.center) params.push(t('beta', this.betaInitializer, true));
    params.push(t('moving_mean', this.movingMeanInitializer, false), t('moving_variance', this.movingVarianceInitializer, false));
    return { spec, outputSize: f, params };
  }

  get activationName(): string { return this.activation.name; }

  getConfig(): Record<string, unknown> {
    const c: Record<string, unknown> = {
      momentum: this.momentum, epsilon: this.epsilon, center: this.center, scale: this.scale,
      activation: { ...this.activation }, gammaInitializer: { ...this.gammaInitializer },
      betaInitializer: { ...this.betaInitializer }, movingMeanInitializer: { ...this.movingMeanInitializer },
      movingVarianceInitializer: { ...this.movingVarianceInitializer },
    };
    if (this.name !== undefined) c.name = this.name;
    if (this.inputSize !== undefined) c.inputDim = this.inputSize;
    return c;
  }
}

function resolveInputSize(w: string, o: { inputShape?: unknown; inputDim?: unknown; batchInputShape?: unknown }): number | undefined {
  const given = [o.inputShape, o.inputDim, o.batchInputShape].filter((v) => v !== undefined).length;
  if (given > 1) throw new OptionError(`${w}: give only one of inputShape, inputDim, batchInputShape`);
  if (o.inputDim !== undefined) return checkNumber(w, 'inputDim', o.inputDim, { integer: true, min: 1 });
  let shape: unknown = o.inputShape;
  if (o.batchInputShape !== undefined) {
    if (!Array.isArray(o.batchInputShape) || o.batchInputShape.length < 2) {
      throw new OptionError(`${w}: batchInputShape must be [batch, features], got ${describe(o.batchInputShape)}`);
    }
    shape = o.batchInputShape.slice(1);
  }
  if (shape === undefined) return undefined;
  if (!Array.isArray(shape) || shape.length !== 1) {
    throw new ShapeError(
      `${w}: inputShape must be [features] (dense layers take flat vectors; flatten images first), got ` +
        (Array.isArray(shape) ? `[${shape.join(', ')}]` : describe(shape)),
    );
  }
  return checkNumber(w, 'inputShape[0]', shape[0], { integer: true, min: 1 });
}

// Layer classes by name, for rebuilding a model from its saved configuration.
const layerClasses = new Map<string, (config: Record<string, unknown>) => Layer>([
  ['Dense', (c) => new Dense(c as unknown as DenseOptions)],
  ['BatchNormalization', (c) => new BatchNormalization(c as BatchNormalizationOptions)],
]);
/** Makes a layer class loadable by name (BatchNormalization etc. register themselves here). */
export function registerLayer(className: string, fromConfig: (config: Record<string, unknown>) => Layer): void {
  layerClasses.set(className, fromConfig);
}
export function layerFromConfig(className: string, config: Record<string, unknown>): Layer {
  const f = layerClasses.get(className);
  if (!f) throw new OptionError(`unknown layer class '${className}'; known: ${[...layerClasses.keys()].join(', ')}`);
  return f(config);
}

/** Layer factories, TensorFlow.js style: gg.layers.dense({...}). */
export const layers = {
  dense: (opts: DenseOptions): Dense => new Dense(opts),
  batchNormalization: (opts: BatchNormalizationOptions = {}): BatchNormalization => new BatchNormalization(opts),
};

// The contract between the model/trainer and a compute backend.
//
// Two implementations: the wasm kernel (ts/backend/wasm/) and the pure-TypeScript reference
// (ts/reference/), which is the oracle in tests. Inputs reaching a backend are already
// validated by the model layer (shapes, label ranges, finiteness, option names): a backend
// computes, it does not check user input.
//
// Codes below match docs/abi.md one for one, so the wasm backend passes them straight through.

export const ACTIVATIONS = [
  'linear', 'relu', 'leaky_relu', 'elu', 'selu', 'sigmoid', 'tanh', 'softmax',
] as const;
export type ActivationName = (typeof ACTIVATIONS)[number];

export const LOSSES = [
  'sparse_categorical_crossentropy', 'categorical_crossentropy', 'binary_crossentropy',
  'mean_squared_error',
] as const;
export type LossName = (typeof LOSSES)[number];

export const OPTIMIZERS = ['sgd', 'rmsprop', 'adagrad', 'adam', 'adamw'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

export const INITIALIZERS = [
  'zeros', 'ones', 'constant', 'glorot_uniform', 'glorot_normal', 'he_uniform', 'he_normal',
  'lecun_uniform', 'lecun_normal', 'random_uniform', 'random_normal',
] as const;
export type InitializerName = (typeof INITIALIZERS)[number];

/** Weight constraint kinds; index = the ABI code (docs/abi.md, "Constraint kinds"). */
export const CONSTRAINTS = ['none', 'max_norm', 'non_neg', 'unit_norm', 'min_max_norm', 'min_max_value'] as const;
export type ConstraintName = (typeof CONSTRAINTS)[number];
/**
 * A resolved constraint (Keras 3's equations, docs/abi.md): max_norm uses maxValue;
 * min_max_norm minValue, maxValue, rate; min_max_value minValue, maxValue; the rest none.
 */
export interface ConstraintSpec {
  kind: ConstraintName;
  minValue: number;
  maxValue: number;
  rate: number;
}

export interface DenseLayerSpec {
  kind: 'dense';
  inputSize: number;
  units: number;
  activation: ActivationName;
  /** leaky_relu negative slope (default 0.2) or elu alpha (default 1.0); ignored otherwise. */
  activationParam: number;
  useBias: boolean;
  /** Applied to W (in, units) after each update, per unit (Keras axis 0); absent = none. */
  kernelConstraint?: ConstraintSpec | null;
  /** Applied to b after each update (one vector); absent = none. */
  biasConstraint?: ConstraintSpec | null;
}

/** BatchNormalization over the features (docs/abi.md): inputSize = units = f. */
export interface BatchNormLayerSpec {
  kind: 'batchnorm';
  inputSize: number;
  units: number;
  /** Applied to y = γ·x̂ + β ('linear' for Keras's plain layer). */
  activation: ActivationName;
  activationParam: number;
  /** β (offset) is trained; else β ≡ 0. */
  center: boolean;
  /** γ (scale) is trained; else γ ≡ 1. */
  scale: boolean;
  momentum: number;
  epsilon: number;
}
export type LayerSpec = DenseLayerSpec | BatchNormLayerSpec;

export interface ModelSpec {
  layers: LayerSpec[];
  loss: LossName;
  fromLogits: boolean;
}

/** All optimizer hyper-parameters, fully resolved (defaults filled in by the model layer). */
export interface OptimizerConfig {
  kind: OptimizerName;
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
  rho: number;
  initialAccumulatorValue: number;
  /** 0 = off. At most one of the three clipping options is non-zero. */
  clipValue: number;
  clipNorm: number;
  globalClipNorm: number;
}

/**
 * Where each layer's tensors sit in the flat parameter/gradient regions (f32 units). For a
 * batchnorm layer W is γ and b is β (length 0 when scale/center is off), and movingOffset /
 * movingLength (2f) locate moving_mean (f) then moving_variance (f); 0, 0 for a dense layer.
 * Trainable tensors come first in the region, the moving statistics after all of them
 * (docs/abi.md, "Region layout"); the optimizer never updates the moving statistics.
 */
export interface LayerLayout {
  wOffset: number;
  wLength: number;
  bOffset: number;
  bLength: number;
  movingOffset: number;
  movingLength: number;
}

/**
 * The optimizer's state, for an exact rollback: `step` = updates applied since setOptimizer,
 * `slots` = the slot region (2 × trainable parameters) in the ABI's layout on every backend
 * (docs/abi.md, gg_model_opt_state_len: half m then half v, which slot is which per kind), so a
 * saved state (ts/model/optstate.ts) restores on either backend with the same optimizer kind.
 */
export interface OptimizerStateSnapshot {
  step: number;
  slots: Float32Array;
}

/** Labels: Int32Array (batch) for sparse CE, else Float32Array (batch, outputSize). */
export type Targets = Int32Array | Float32Array;

export interface BackendModel {
  readonly spec: ModelSpec;
  readonly paramCount: number;
  /** The first trainableCount parameters are trainable; the rest are moving statistics. */
  readonly trainableCount: number;
  readonly layout: readonly LayerLayout[];

  /** A copy of the flat parameter region. */
  getParams(): Float32Array;
  /** Overwrites the flat parameter region (length must be paramCount). */
  setParams(params: Float32Array): void;
  /** A copy of the flat gradient region as left by the last step. */
  getGrads(): Float32Array;

  /** Fills one tensor of the parameter region with an initializer (see docs/abi.md). */
  initTensor(offset: number, length: number, kind: InitializerName, fanIn: number, fanOut: number,
    value: number, seed: number): void;

  setOptimizer(config: OptimizerConfig): void;
  setLearningRate(lr: number): void;
  /** A copy of the optimizer's slots and step counter. */
  getOptimizerState(): OptimizerStateSnapshot;
  /**
   * Writes back a state from getOptimizerState() of this model (slots length must match). Call it
   * after any setOptimizer (which resets the state) to keep the moments across a config change.
   */
  setOptimizerState(state: OptimizerStateSnapshot): void;

  /** x is (batch, in0) row-major. Returns the mean loss; see lastCorrect(). */
  trainStep(x: Float32Array, y: Targets, batch: number): number;
  /**
   * Optional: trainStep on rows `rows[0..batch)` of (x, y), where x is (n, in0) and y the targets
   * of all n rows, gathering the batch itself (the wasm backend straight into its own memory).
   * Same result as trainStep on the gathered rows.
   */
  trainStepGather?(x: Float32Array, y: Targets, rows: Int32Array, batch: number): number;
  /**
   * Optional, for a backend whose trainStep checks its own x: the index in the last trainStep's x
   * (batch, in0) of its first NaN/±Inf, or −1. Such a step returned NaN and changed nothing. A
   * backend with it spares fit() the up-front scan of the whole training set (the wasm kernel
   * scans each batch while it is in cache, docs/abi.md).
   */
  badInput?(): number;
  /** Forward + backward only (gradients filled, no update). Returns the loss. */
  forwardBackward(x: Float32Array, y: Targets, batch: number): number;
  /** Correct predictions in the last trainStep. */
  lastCorrect(): number;
  /** Returns (batch, outL). */
  predict(x: Float32Array, batch: number): Float32Array;
  /** Summed per-sample loss and number correct over the batch. */
  evaluate(x: Float32Array, y: Targets, batch: number): { lossSum: number; correct: number };

  /** When on, following trainSteps compute the gradient-health statistics (docs/abi.md). */
  setCollectStats(on: boolean): void;
  /** Statistics of the last trainStep that ran with collection on, or null if none did. */
  getStats(): StepStats | null;

  dispose(): void;
}

/** Per-layer gradient-health statistics; fields and definitions as in docs/abi.md. */
export interface LayerStats {
  gradWNorm: number; gradWMaxAbs: number; gradBNorm: number; gradBMaxAbs: number;
  wNorm: number; updateRatio: number; deadFraction: number; saturatedFraction: number;
  actMean: number; actStd: number; nonFiniteAct: number; nonFiniteGrad: number;
  nonFiniteWeight: number; bNorm: number; preactMeanAbs: number;
}
export interface StepStats {
  layers: LayerStats[];
  globalGradNorm: number; loss: number; nonFiniteLoss: boolean; clipped: boolean;
  updateNorm: number; paramNorm: number;
}
/** Word order of LayerStats in the kernel's block (16 words per layer, last one reserved). */
export const LAYER_STATS_FIELDS = [
  'gradWNorm', 'gradWMaxAbs', 'gradBNorm', 'gradBMaxAbs', 'wNorm', 'updateRatio', 'deadFraction',
  'saturatedFraction', 'actMean', 'actStd', 'nonFiniteAct', 'nonFiniteGrad', 'nonFiniteWeight',
  'bNorm', 'preactMeanAbs',
] as const satisfies readonly (keyof LayerStats)[];
export const LAYER_STATS_WORDS = 16;
export const GLOBAL_STATS_WORDS = 8;

export interface Backend {
  readonly name: string;
  createModel(spec: ModelSpec): BackendModel;
}

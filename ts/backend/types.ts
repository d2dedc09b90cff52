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

export interface DenseLayerSpec {
  kind: 'dense';
  inputSize: number;
  units: number;
  activation: ActivationName;
  /** leaky_relu negative slope (default 0.2) or elu alpha (default 1.0); ignored otherwise. */
  activationParam: number;
  useBias: boolean;
}
export type LayerSpec = DenseLayerSpec;

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

/** Where each layer's tensors sit in the flat parameter/gradient regions (f32 units). */
export interface LayerLayout {
  wOffset: number;
  wLength: number;
  bOffset: number;
  bLength: number;
}

/** Labels: Int32Array (batch) for sparse CE, else Float32Array (batch, outputSize). */
export type Targets = Int32Array | Float32Array;

export interface BackendModel {
  readonly spec: ModelSpec;
  readonly paramCount: number;
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

  /** x is (batch, in0) row-major. Returns the mean loss; see lastCorrect(). */
  trainStep(x: Float32Array, y: Targets, batch: number): number;
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

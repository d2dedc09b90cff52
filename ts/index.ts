// gradguard's public API. Usage (Keras / TensorFlow.js shaped):
//
//   import * as gg from 'gradguard';
//   await gg.ready();                                   // loads the wasm kernel once
//   const { train, test } = await gg.data.loadMnist();
//   const model = gg.sequential({ seed: 42, layers: [
//     gg.layers.dense({ inputShape: [784], units: 128, activation: 'relu' }),
//     gg.layers.dense({ units: 10, activation: 'softmax' }),
//   ]});
//   model.compile({ optimizer: gg.optimizers.adam({ learningRate: 1e-3 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
//   const history = await model.fit(train.x, train.y, { epochs: 5, batchSize: 32, validationSplit: 0.1 });
//   const { loss, accuracy } = model.evaluate(test.x, test.y);

import { createWasmBackend } from './backend/wasm/index.js';
import { ReferenceBackend } from './reference/backend.js';
import { registerBackend } from './model/runtime.js';
import { callbacks as modelCallbacks } from './model/callbacks.js';
import { reduceLROnPlateau, healthCallback } from './health/index.js';

// The two backends ready() knows by name.
registerBackend('wasm', (opts) => createWasmBackend(opts));
registerBackend('reference', () => new ReferenceBackend());

export { ready, shutdown, registerBackend, currentBackend, type ReadyOptions, type BackendFactory } from './model/runtime.js';
export {
  Sequential, sequential, losses, DEFAULT_SEED, registerFitOption, registerCompileHook,
  type SequentialOptions, type CompileOptions, type FitOptions, type EvaluateOptions, type PredictOptions,
  type EvaluateResult, type WeightTensor, type LossSpec, type FitPlugin, type FitPluginFactory, type StepInfo,
  type CompileHook,
} from './model/sequential.js';
export {
  layers, activations, initializers, constraints, Dense, BatchNormalization,
  type Layer, type DenseOptions, type BatchNormalizationOptions, type ConstraintIdentifier, type ActivationSpec, type InitializerSpec, type ParamTensor, type BuiltLayer,
} from './model/layers.js';
export {
  optimizers, Optimizer, OPTIMIZER_DEFAULTS,
  type LearningRateSchedule, type SgdOptions, type RmspropOptions, type AdagradOptions, type AdamOptions, type AdamwOptions,
} from './model/optimizers.js';
export { type Callback, type Logs, type CallbackModel, type EarlyStoppingOptions } from './model/callbacks.js';
// gg.callbacks: the trainer's (earlyStopping, terminateOnNaN, learningRateScheduler, lambda) and the
// health module's (reduceLROnPlateau, healthCallback) in one namespace, as in tf.callbacks.
export const callbacks = { ...modelCallbacks, reduceLROnPlateau, healthCallback };
// gg.health: the gradient-health monitor (importing it registers fit's `health` option).
export * as health from './health/index.js';
export { schedules } from './health/index.js';
export { History, type FitParams } from './model/history.js';
export {
  loadModel, modelFromJSON, MODEL_FORMAT, type ModelJSON, type LoadOptions, type SaveOptions, type SavedOptimizerState,
} from './model/serialize.js';
export { registerLayer, layerFromConfig } from './model/layers.js';
export * as data from './data/index.js';
export type { TensorLike, TensorData } from './data/tensor.js';
export {
  GradguardError, ShapeError, LabelError, NonFiniteError, OptionError, DisposedError, NotCompiledError,
  BackendError, DataError,
} from './errors.js';

// Backends, for choosing one explicitly: gg.sequential({ backend: new gg.ReferenceBackend() }).
export { ReferenceBackend, createWasmBackend };
export { detectSimd } from './backend/wasm/index.js';
export type {
  Backend, BackendModel, ModelSpec, LayerSpec, OptimizerConfig, StepStats, LayerStats,
  ActivationName, LossName, OptimizerName, InitializerName,
} from './backend/types.js';

// Saving and loading a model as one JSON document (architecture, compile settings, weights):
//
//   await model.save('model.json');            // Node; model.toJSON() anywhere
//   const m = await gg.loadModel('model.json'); // or a URL, JSON text, or the toJSON() object
//
// Weights are stored as base64 of little-endian float32, so a file round-trips bit for bit.
// The optimizer's configuration is saved (kind, hyper-parameters, current learning rate, clipping),
// and so is its state (`optimizerState`: slot variables such as Adam's moments, same encoding,
// and the step counter its bias correction uses; ts/model/optstate.ts), so that
// train N steps → save → load → train M steps gives the same weights, bit for bit, as N + M
// steps without the save (with shuffle: false: the shuffle order is not saved and restarts
// from the seed). `save(path, { includeOptimizer: false })` leaves the state out; the loaded
// model's optimizer then starts fresh, as after compile(). A learning-rate schedule object is not
// saved; the learning rate it had reached is.
//
// Versions: 1 had no `optimizerState`; 2 added it (null when left out or not compiled). Both
// are read; a version-1 file loads with a fresh optimizer, as it always did.

import type { LossName, OptimizerConfig } from '../backend/types.js';
import { DataError, OptionError, checkBoolean, checkOptions, describe } from '../errors.js';
import { readSource } from '../data/mnist.js';
import type { Backend } from '../backend/types.js';
import { layerFromConfig } from './layers.js';
import { Optimizer, optimizers } from './optimizers.js';
import { Sequential } from './sequential.js';
import { isBackend } from './runtime.js';
import { base64ToF32 } from './base64.js';
import type { SavedOptimizerState } from './optstate.js';
export type { SavedOptimizerState, SavedSlot, SaveOptions } from './optstate.js';
export { f32ToBase64, base64ToF32 } from './base64.js';

export const MODEL_FORMAT = 'gradguard-sequential';
/** The version toJSON() writes. */
export const MODEL_FORMAT_VERSION = 2;
/** The versions loadModel() reads. */
export const MODEL_FORMAT_VERSIONS_READ: readonly number[] = [1, 2];

export interface LoadOptions {
  /** Backend for the loaded model; default: the one loaded by gg.ready(). */
  backend?: Backend;
  /** Restore the saved optimizer state, if the file has one. Default true; false starts the optimizer fresh. */
  includeOptimizer?: boolean;
}

export interface ModelJSON {
  format: typeof MODEL_FORMAT;
  version: number;
  name: string;
  seed: number;
  /** Optimizer steps taken so far (learning-rate schedules continue from here). */
  iterations: number;
  layers: { className: string; config: Record<string, unknown> }[];
  compile: { loss: LossName; fromLogits: boolean; metrics: string[]; optimizer: OptimizerConfig } | null;
  /** Keras order [kernel₀, bias₀, …]; data is base64 of little-endian float32. Null before compile. */
  weights: { name: string; shape: number[]; dtype: 'float32'; data: string }[] | null;
  /**
   * Version ≥ 2: the optimizer's state, or null (saved with includeOptimizer: false, or not
   * compiled). Absent in version 1.
   */
  optimizerState?: SavedOptimizerState | null;
}

/** Rebuilds a validated Optimizer from a saved config through the public factories. */
function optimizerFromConfig(c: OptimizerConfig, where: string): Optimizer {
  if (!c || typeof c !== 'object' || !(c.kind in optimizers)) {
    throw new DataError(`${where}: compile.optimizer.kind must be one of ${Object.keys(optimizers).join(', ')}, got ${describe(c?.kind)}`);
  }
  const clip: Record<string, number> = {};
  if (c.clipValue) clip.clipValue = c.clipValue;
  if (c.clipNorm) clip.clipNorm = c.clipNorm;
  if (c.globalClipNorm) clip.globalClipNorm = c.globalClipNorm;
  const lr = { learningRate: c.learningRate, weightDecay: c.weightDecay, ...clip };
  switch (c.kind) {
    case 'sgd': return optimizers.sgd({ ...lr, momentum: c.momentum, nesterov: c.nesterov });
    case 'rmsprop': return optimizers.rmsprop({ ...lr, rho: c.rho, momentum: c.momentum, epsilon: c.epsilon });
    case 'adagrad': return optimizers.adagrad({ ...lr, initialAccumulatorValue: c.initialAccumulatorValue, epsilon: c.epsilon });
    case 'adam': return optimizers.adam({ ...lr, beta1: c.beta1, beta2: c.beta2, epsilon: c.epsilon });
    case 'adamw': return optimizers.adamw({ ...lr, beta1: c.beta1, beta2: c.beta2, epsilon: c.epsilon });
  }
}

/**
 * Rebuilds a model from toJSON()'s document. A compiled model is compiled again (on `backend`, or
 * the default one from gg.ready()), gets its weights and then its optimizer state (unless
 * `includeOptimizer: false`); an uncompiled one keeps the weights for its first compile().
 */
export function modelFromJSON(json: ModelJSON, opts: LoadOptions = {}): Sequential {
  const w = 'loadModel';
  checkOptions(w, opts, ['backend', 'includeOptimizer']);
  const includeOptimizer = opts.includeOptimizer === undefined ? true : checkBoolean(w, 'includeOptimizer', opts.includeOptimizer);
  if (!json || typeof json !== 'object' || json.format !== MODEL_FORMAT) {
    throw new DataError(`${w}: not a gradguard model (expected format '${MODEL_FORMAT}', got ${describe((json as { format?: unknown })?.format)})`);
  }
  if (!MODEL_FORMAT_VERSIONS_READ.includes(json.version)) {
    throw new DataError(`${w}: model format version ${describe(json.version)} is not supported (this gradguard reads versions ${MODEL_FORMAT_VERSIONS_READ.join(', ')})`);
  }
  // Version 1 had no optimizer state: such a file loads with a fresh optimizer.
  const state = json.version >= 2 ? json.optimizerState ?? null : null;
  if (state !== null && !json.compile) {
    throw new DataError(`${w}: the file has an optimizer state but no compile settings (compile: null); expected optimizerState: null`);
  }
  if (opts.backend !== undefined && !isBackend(opts.backend)) throw new OptionError(`${w}: backend must be a Backend instance, got ${describe(opts.backend)}`);
  if (!Array.isArray(json.layers) || json.layers.length === 0) throw new DataError(`${w}: the model has no layers`);
  const layers = json.layers.map((l) => layerFromConfig(l.className, l.config));
  const model = new Sequential({ name: json.name, seed: json.seed, backend: opts.backend, layers });
  const weights = json.weights?.map((t, i) => ({ shape: t.shape, data: base64ToF32(t.data, `${w}: weights[${i}] (${t.name})`) })) ?? null;
  if (json.compile) {
    const c = json.compile;
    model.compile({ optimizer: optimizerFromConfig(c.optimizer, w), loss: { name: c.loss, fromLogits: c.fromLogits }, metrics: c.metrics });
  }
  if (weights) model.setWeights(weights);
  // After compile (which resets the optimizer) and the weights; validated before it is written.
  if (state !== null && includeOptimizer) model.setOptimizerState(state);
  if (Number.isInteger(json.iterations) && json.iterations >= 0) model.iterations = json.iterations;
  return model;
}

/**
 * Loads a model saved by model.save() / toJSON(): from the object itself, JSON text, a path
 * (Node) or a URL.
 */
export async function loadModel(source: ModelJSON | string | URL, opts: LoadOptions = {}): Promise<Sequential> {
  if (typeof source === 'object' && !(source instanceof URL)) return modelFromJSON(source, opts);
  let text: string;
  if (typeof source === 'string' && source.trimStart().startsWith('{')) text = source;
  else text = new TextDecoder().decode(await readSource(source, 'the model file', 'loadModel'));
  let json: ModelJSON;
  try { json = JSON.parse(text) as ModelJSON; } catch (e) {
    throw new DataError(`loadModel: the model file is not valid JSON: ${(e as Error).message}`);
  }
  return modelFromJSON(json, opts);
}

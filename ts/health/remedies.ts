// Turning a ranked remedy (diagnoses.ts, `remediesFor`) into a change gradguard can make by
// itself, shared by fit's repair policy (ts/health/fit.ts, restarting the model in place) and
// `gradguard doctor` (ts/cli/doctor.ts, building a new model from the changed layer options).
//
// Applicable without the user: a Sequential of Dense layers can change the hidden layers'
// activation, the layers' kernel initializer and the learning rate. Not applicable here (null):
// inserting BatchNormalization, weight constraints, schedules, callbacks, input scaling, the
// optimizer's kind, the loss — they change the user's data or architecture.
import type { Remedy } from './diagnoses.js';
import { Dense, type DenseOptions } from '../model/layers.js';

export interface RemedyChange {
  /** New activation for the hidden layers (every Dense layer but the last). */
  activation?: string;
  /** New kernel initializer for every Dense layer. */
  kernelInitializer?: string;
  /** New learning rate. */
  learningRate?: number;
  /** What changed, for notes and logs, e.g. 'hidden activation → relu'. */
  what: string;
}

/** The change remedy `r` asks for, or null if it is not one gradguard can apply itself. */
export function remedyChange(r: Remedy): RemedyChange | null {
  if (r.setting === 'layer.activation' && typeof r.value === 'string') return { activation: r.value, what: `hidden activation → ${r.value}` };
  if (r.setting === 'layer.kernelInitializer' && typeof r.value === 'string') return { kernelInitializer: r.value, what: `kernel initializer → ${r.value}` };
  if (r.setting === 'optimizer.learningRate' && typeof r.value === 'number' && Number.isFinite(r.value) && r.value > 0) {
    return { learningRate: r.value, what: `learning rate → ${r.value}` };
  }
  return null;
}

/** What a layer is now (resolved names, e.g. from a Dense layer: activation.name, kernelInitializer.kind). */
export interface LayerFacts { activation: string; kernelInitializer: string; useBias: boolean; biasInitializer: string }
/** The options a change sets on one layer. */
export interface LayerEdit { activation?: string; kernelInitializer?: string; biasInitializer?: 'zeros' }

const RELU_FAMILY = new Set(['relu', 'leaky_relu', 'elu', 'selu']);

/**
 * The per-layer edits `change` makes, with its companions, the one rule for fit's restarts and
 * gradguard doctor's: a new activation goes to every layer but the last (the output's activation
 * belongs to the loss); switching sigmoid/tanh (or linear) to a ReLU-family activation also
 * switches a Glorot kernel to He (Glorot's variance assumes a symmetric activation, He's is the
 * one for ReLU: He et al. 2015); a new kernel initializer goes to every layer and comes with zero
 * biases (both papers' prescription). `layers[i]` null: a layer the change does not touch (not a
 * Dense layer); it still counts for "the last". edits[i] null: layer i unchanged. `what` names
 * the changes made, e.g. ['hidden activation → relu', 'kernel initializer → he_normal'].
 */
export function layerEdits(layers: ReadonlyArray<LayerFacts | null>, change: RemedyChange): { edits: Array<LayerEdit | null>; what: string[] } {
  const last = layers.length - 1;
  let activations = false, heSwitch = false, inits = false;
  const edits = layers.map((l, i): LayerEdit | null => {
    if (!l) return null;
    const e: LayerEdit = {};
    if (change.activation !== undefined && i < last && l.activation !== change.activation) {
      if (!RELU_FAMILY.has(l.activation) && RELU_FAMILY.has(change.activation) && l.kernelInitializer.startsWith('glorot')) {
        e.kernelInitializer = 'he_normal';
        heSwitch = true;
      }
      e.activation = change.activation;
      activations = true;
    }
    if (change.kernelInitializer !== undefined && (l.kernelInitializer !== change.kernelInitializer || (l.useBias && l.biasInitializer !== 'zeros'))) {
      e.kernelInitializer = change.kernelInitializer;
      if (l.useBias) e.biasInitializer = 'zeros';
      inits = true;
    }
    return Object.keys(e).length ? e : null;
  });
  const what: string[] = [];
  if (activations) what.push(change.what);
  if (heSwitch) what.push('kernel initializer → he_normal');
  if (inits) what.push(`${change.what}, zero biases`);
  return { edits, what };
}

/**
 * Dense layer options with `change` applied by the rule of layerEdits (the same change fit's
 * repair makes when it restarts), e.g. for gradguard doctor's restarted run. Learning-rate-only
 * changes leave the layers as they are.
 */
export function applyToLayerOptions<T extends DenseOptions>(layers: readonly T[], change: RemedyChange): T[] {
  return applyToDenseOptions(layers, change).layers;
}

/** applyToLayerOptions and the `what` list of layerEdits. */
export function applyToDenseOptions<T extends DenseOptions>(layers: readonly T[], change: RemedyChange): { layers: T[]; what: string[] } {
  // Resolve names and defaults (activation 'linear', kernel 'glorot_uniform', bias 'zeros') the
  // way the layer itself does.
  const facts = layers.map((o): LayerFacts => {
    const d = new Dense(o);
    return { activation: d.activation.name, kernelInitializer: d.kernelInitializer.kind, useBias: d.useBias, biasInitializer: d.biasInitializer.kind };
  });
  const { edits, what } = layerEdits(facts, change);
  return { layers: layers.map((o, i) => (edits[i] ? { ...o, ...edits[i] } : o)), what };
}

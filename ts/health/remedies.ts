// Turning a ranked remedy (diagnoses.ts, `remediesFor`) into a change gradguard can make by
// itself, shared by fit's repair policy (ts/health/fit.ts, restarting the model in place) and
// `gradguard doctor` (ts/cli/doctor.ts, building a new model from the changed layer options).
//
// Applicable without the user: a Sequential of Dense layers can change the hidden layers'
// activation, the layers' kernel initializer and the learning rate. Not applicable here (null):
// inserting BatchNormalization, weight constraints, schedules, callbacks, input scaling, the
// optimizer's kind, the loss — they change the user's data or architecture.
import type { Remedy } from './diagnoses.js';

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

/** Layer options with `change` applied: activation on all layers but the last, initializer on all. */
export function applyToLayerOptions<T extends { activation?: unknown; kernelInitializer?: unknown }>(layers: readonly T[], change: RemedyChange): T[] {
  const last = layers.length - 1;
  return layers.map((l, i) => {
    let out = l;
    if (change.activation !== undefined && i < last) out = { ...out, activation: change.activation };
    if (change.kernelInitializer !== undefined) out = { ...out, kernelInitializer: change.kernelInitializer };
    return out;
  });
}

// The optimizer's state (slot variables and step counter) in a backend-independent, saveable form.
//
// A backend hands out its state as one flat Float32Array of 2 × trainable parameters in the
// ABI's layout (docs/abi.md, gg_model_opt_state_len): half m = [0, n) then half v = [n, 2n), each
// in the trainable part of the parameter region (trainable tensors in Keras order, concatenated;
// batchnorm moving statistics have no slots). A saved state keeps only the halves the optimizer
// kind uses, under Keras 3's slot-variable names, so a file says what it holds and is not bigger
// than it needs to be:
//
//   sgd      momentum (m)                 (Keras: SGD.momentums)
//   rmsprop  velocity (v, mean square), momentum (m)
//   adagrad  accumulator (v)
//   adam(w)  momentum (m), velocity (v)
//
// The half a kind does not use is never read by the update (crates/kernel/src/optim.rs), so a
// restore leaves it at whatever the backend holds.

import type { OptimizerName, OptimizerStateSnapshot } from '../backend/types.js';
import { DataError, NonFiniteError, OptionError, ShapeError, describe } from '../errors.js';
import { base64ToF32, f32ToBase64 } from './base64.js';

/** Which half of the backend's flat state each saved slot is: 0 = m, 1 = v. */
export const OPTIMIZER_SLOTS: Readonly<Record<OptimizerName, readonly { name: string; half: 0 | 1 }[]>> = {
  sgd: [{ name: 'momentum', half: 0 }],
  rmsprop: [{ name: 'velocity', half: 1 }, { name: 'momentum', half: 0 }],
  adagrad: [{ name: 'accumulator', half: 1 }],
  adam: [{ name: 'momentum', half: 0 }, { name: 'velocity', half: 1 }],
  adamw: [{ name: 'momentum', half: 0 }, { name: 'velocity', half: 1 }],
};

/** model.save() / toJSON() options. */
export interface SaveOptions {
  /** Save the optimizer's state (slots and step counter) so training resumes exactly. Default true. */
  includeOptimizer?: boolean;
}

/** One slot variable over all trainable parameters: base64 of little-endian float32. */
export interface SavedSlot { name: string; dtype: 'float32'; data: string }

/** The optimizer's state as saved in a model file (ModelJSON.optimizerState). */
export interface SavedOptimizerState {
  /** The optimizer kind the slots belong to; must equal the compiled optimizer's. */
  kind: OptimizerName;
  /**
   * Updates applied since the optimizer was set (Keras's optimizer.iterations): Adam's bias
   * correction of the next update uses t = step + 1. Not the same as the model's `iterations`,
   * which also counts steps before a re-compile and drives learning-rate schedules.
   */
  step: number;
  /** OPTIMIZER_SLOTS[kind] in that order, each of length = the model's trainable parameter count. */
  slots: SavedSlot[];
}

/** Encodes a backend's snapshot (2 × trainable values) for `kind`. */
export function encodeOptimizerState(kind: OptimizerName, snap: OptimizerStateSnapshot): SavedOptimizerState {
  const n = snap.slots.length / 2;
  return {
    kind,
    step: snap.step,
    slots: OPTIMIZER_SLOTS[kind].map(({ name, half }) => ({
      name, dtype: 'float32' as const, data: f32ToBase64(snap.slots.subarray(half * n, half * n + n)),
    })),
  };
}

/**
 * Checks `saved` against a model compiled with optimizer `kind` and `trainable` trainable
 * parameters, and returns the backend snapshot to write: `current` (the backend's present state,
 * 2 × trainable) with the saved halves replaced. Throws before anything is written, so a bad
 * state leaves the model as it was:
 *   OptionError    the saved kind is not the compiled one
 *   ShapeError     a slot's length is not the trainable parameter count
 *   NonFiniteError a slot value is NaN or ±Infinity (the next update would be NaN)
 *   DataError      anything else malformed (not an object, bad step, missing or unknown slot, bad base64)
 */
export function decodeOptimizerState(
  where: string, saved: unknown, kind: OptimizerName, trainable: number, current: OptimizerStateSnapshot,
): OptimizerStateSnapshot {
  if (saved === null || typeof saved !== 'object' || Array.isArray(saved)) {
    throw new DataError(`${where}: expected a saved optimizer state { kind, step, slots }, got ${describe(saved)}`);
  }
  const s = saved as Partial<SavedOptimizerState>;
  if (typeof s.kind !== 'string' || !(s.kind in OPTIMIZER_SLOTS)) {
    throw new DataError(`${where}: optimizer state kind must be one of ${Object.keys(OPTIMIZER_SLOTS).join(', ')}, got ${describe(s.kind)}`);
  }
  if (s.kind !== kind) {
    throw new OptionError(`${where}: the saved optimizer state is for ${describe(s.kind)} but the model is compiled with '${kind}'; ` +
      `compile with a '${s.kind}' optimizer first, or leave the state out (loadModel's includeOptimizer: false)`);
  }
  // The backend's counter is a u32 (docs/abi.md gg_model_set_opt_step).
  if (typeof s.step !== 'number' || !Number.isInteger(s.step) || s.step < 0 || s.step > 0xffffffff) {
    throw new DataError(`${where}: optimizer state step must be an integer in [0, 2^32), got ${describe(s.step)}`);
  }
  const want = OPTIMIZER_SLOTS[kind];
  if (!Array.isArray(s.slots) || s.slots.length !== want.length) {
    throw new DataError(`${where}: a '${kind}' optimizer state has ${want.length} slot(s) (${want.map((w) => w.name).join(', ')}), ` +
      `got ${describe(s.slots)}`);
  }
  if (current.slots.length !== 2 * trainable) {
    // The backend broke its own contract (types.ts): not the user's input.
    throw new DataError(`${where}: the backend's optimizer state has ${current.slots.length} values, expected ${2 * trainable}`);
  }
  const out = current.slots.slice();
  want.forEach(({ name, half }, i) => {
    const slot = s.slots![i] as Partial<SavedSlot> | null;
    const label = `optimizer state slots[${i}]`;
    if (slot === null || typeof slot !== 'object' || slot.name !== name) {
      throw new DataError(`${where}: ${label} must be the '${name}' slot of '${kind}', got ${describe(slot?.name ?? slot)}`);
    }
    if (slot.dtype !== undefined && slot.dtype !== 'float32') {
      throw new DataError(`${where}: ${label} (${name}) has dtype ${describe(slot.dtype)}; only 'float32' is supported`);
    }
    if (typeof slot.data !== 'string') throw new DataError(`${where}: ${label} (${name}) data must be a base64 string, got ${describe(slot.data)}`);
    const data = base64ToF32(slot.data, `${where}: ${label} (${name})`);
    if (data.length !== trainable) {
      throw new ShapeError(`${where}: ${label} (${name}) has ${data.length} values but the model has ${trainable} trainable parameters`);
    }
    for (let k = 0; k < data.length; k++) {
      if (data[k] - data[k] !== 0) throw new NonFiniteError(`${where}: ${label} (${name}) has ${data[k]} at index ${k}; optimizer state must be finite`);
    }
    out.set(data, half * trainable);
  });
  return { step: s.step, slots: out };
}

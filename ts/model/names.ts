// Name resolution for the strings users pass: losses, activations, initializers, optimizers.
//
// Keras spells them in snake_case ('sparse_categorical_crossentropy', 'glorot_uniform'),
// TensorFlow.js in camelCase ('sparseCategoricalCrossentropy', 'glorotUniform'), and Keras also
// accepts class names ('GlorotUniform', 'RMSprop') and short aliases ('mse', 'xavier_uniform').
// All of them resolve to the canonical snake_case names of ts/backend/types.ts.

import {
  ACTIVATIONS, INITIALIZERS, LOSSES, OPTIMIZERS,
  type ActivationName, type InitializerName, type LossName, type OptimizerName,
} from '../backend/types.js';
import { OptionError, describe, suggest } from '../errors.js';

/** 'Sparse_CategoricalCrossentropy' → 'sparsecategoricalcrossentropy': case and '_' ignored. */
const squash = (s: string): string => s.toLowerCase().replace(/[_\-\s]/g, '');

function table<T extends string>(canonical: readonly T[], aliases: Record<string, T>): Map<string, T> {
  const m = new Map<string, T>();
  for (const c of canonical) m.set(squash(c), c);
  for (const [a, c] of Object.entries(aliases)) m.set(squash(a), c);
  return m;
}

const LOSS_TABLE = table<LossName>(LOSSES, {
  mse: 'mean_squared_error',
  crossentropy: 'categorical_crossentropy',
});
const ACTIVATION_TABLE = table<ActivationName>(ACTIVATIONS, {
  leakyrelu: 'leaky_relu', none: 'linear', identity: 'linear',
});
const INITIALIZER_TABLE = table<InitializerName>(INITIALIZERS, {
  xavieruniform: 'glorot_uniform', xaviernormal: 'glorot_normal',
  kaiminguniform: 'he_uniform', kaimingnormal: 'he_normal', zero: 'zeros', one: 'ones',
});
const OPTIMIZER_TABLE = table<OptimizerName>(OPTIMIZERS, {});

function resolve<T extends string>(
  where: string, what: string, v: unknown, t: Map<string, T>, canonical: readonly T[],
): T {
  if (typeof v !== 'string') {
    throw new OptionError(`${where}: ${what} must be a name such as '${canonical[0]}', got ${describe(v)}`);
  }
  const hit = t.get(squash(v));
  if (hit !== undefined) return hit;
  const hint = suggest(v, canonical);
  throw new OptionError(
    `${where}: unknown ${what} '${v}'${hint ? ` (did you mean '${hint}'?)` : ''}; ` +
      `known: ${canonical.join(', ')} (camelCase spellings are accepted too)`,
  );
}

export const resolveLoss = (where: string, v: unknown): LossName =>
  resolve(where, 'loss', v, LOSS_TABLE, LOSSES);
export const resolveActivation = (where: string, v: unknown): ActivationName =>
  resolve(where, 'activation', v, ACTIVATION_TABLE, ACTIVATIONS);
export const resolveInitializer = (where: string, v: unknown): InitializerName =>
  resolve(where, 'initializer', v, INITIALIZER_TABLE, INITIALIZERS);
export const resolveOptimizerName = (where: string, v: unknown): OptimizerName =>
  resolve(where, 'optimizer', v, OPTIMIZER_TABLE, OPTIMIZERS);

/** 'glorot_uniform' → 'glorotUniform', for messages and summaries in the TS.js spelling. */
export const camel = (s: string): string => s.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());

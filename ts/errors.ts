// Typed errors raised by gradguard's TypeScript layer.
//
// Contract: every check on user input runs in TypeScript before anything reaches a backend, so a
// call that throws one of these leaves the model exactly as it was (weights, optimizer state,
// compiled configuration). Messages say what was expected and what was given, and name the
// call that failed ("fit: ...", "compile: ...").

import type { History } from './model/history.js';

/** Base class of every error gradguard throws on purpose. `instanceof GradguardError` catches all. */
export class GradguardError extends Error {
  constructor(message: string) {
    super(message);
    // Keep the subclass name in stack traces and `String(err)` after transpilation.
    this.name = new.target.name;
  }
}

/** An array has the wrong length or shape (features per sample, sample counts, weight shapes). */
export class ShapeError extends GradguardError {}

/** A label or target is invalid for the loss (out of range, not an integer, outside [0, 1]). */
export class LabelError extends GradguardError {}

/**
 * A NaN or ±Infinity in user input, or a loss that became non-finite during training.
 * `history` is set when training stopped because of it (the epochs completed so far).
 */
export class NonFiniteError extends GradguardError {
  history?: History;
}

/** An unknown option name, or an option with a value outside its domain. */
export class OptionError extends GradguardError {}

/** A model (or backend object) was used after `dispose()`. */
export class DisposedError extends GradguardError {}

/** fit/evaluate/predict/getWeights called before `compile()`. */
export class NotCompiledError extends GradguardError {}

/** The compute backend could not be loaded or failed (missing wasm file, no backend chosen). */
export class BackendError extends GradguardError {}

/** A data file or buffer is malformed (bad IDX magic number, truncated file). */
export class DataError extends GradguardError {}

// ---------------------------------------------------------------------------------------------
// Option-object validation shared by every public entry point.

/**
 * Optimal-string-alignment distance (Levenshtein plus adjacent transpositions, so 'rleu' is one
 * edit from 'relu'), for "did you mean" hints on misspelt option and name strings.
 */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The closest candidate to `given` (case/underscore-insensitive), if it is plausibly a typo. */
export function suggest(given: string, candidates: readonly string[]): string | undefined {
  const squash = (s: string) => s.toLowerCase().replace(/[_\s-]/g, '');
  const g = squash(given);
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(g, squash(c));
    if (d < bestD) { bestD = d; best = c; }
  }
  // Allow roughly one typo per four characters; beyond that a hint is noise.
  return best !== undefined && bestD <= Math.max(1, Math.floor(g.length / 4)) ? best : undefined;
}

/** Describes a value for an error message: type and a short rendering. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (ArrayBuffer.isView(v)) {
    return `a ${v.constructor.name} of length ${(v as unknown as { length: number }).length}`;
  }
  if (typeof v === 'function') return 'a function';
  return `an object (${Object.prototype.toString.call(v).slice(8, -1)})`;
}

/**
 * Checks that `opts` is undefined or a plain object whose keys are all in `allowed`.
 * Throws OptionError naming the unknown key, a likely intended one and the full allowed list.
 */
export function checkOptions(where: string, opts: unknown, allowed: readonly string[]): void {
  if (opts === undefined) return;
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts) || ArrayBuffer.isView(opts)) {
    throw new OptionError(`${where}: expected an options object, got ${describe(opts)}`);
  }
  for (const key of Object.keys(opts)) {
    if (!allowed.includes(key)) {
      const hint = suggest(key, allowed);
      throw new OptionError(
        `${where}: unknown option '${key}'${hint ? ` (did you mean '${hint}'?)` : ''}; ` +
          `allowed options: ${allowed.join(', ')}`,
      );
    }
  }
}

/** A finite number (rejects NaN, ±Infinity, strings, bigint). */
function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** Validates a numeric option. `min`/`max` are inclusive unless `minExclusive`. */
export function checkNumber(
  where: string, name: string, v: unknown,
  c: { min?: number; max?: number; minExclusive?: boolean; maxExclusive?: boolean; integer?: boolean } = {},
): number {
  const want = (): string => {
    const parts: string[] = [c.integer ? 'an integer' : 'a finite number'];
    if (c.min !== undefined) parts.push(`${c.minExclusive ? '>' : '≥'} ${c.min}`);
    if (c.max !== undefined) parts.push(`${c.maxExclusive ? '<' : '≤'} ${c.max}`);
    return parts.join(' ');
  };
  const bad = !isFiniteNumber(v) ||
    (c.integer === true && !Number.isInteger(v)) ||
    (c.min !== undefined && (c.minExclusive ? v <= c.min : v < c.min)) ||
    (c.max !== undefined && (c.maxExclusive ? v >= c.max : v > c.max));
  if (bad) throw new OptionError(`${where}: ${name} must be ${want()}, got ${describe(v)}`);
  return v as number;
}

export function checkBoolean(where: string, name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') {
    throw new OptionError(`${where}: ${name} must be true or false, got ${describe(v)}`);
  }
  return v;
}

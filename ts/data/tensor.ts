// Input normalisation and validation: everything users pass as x or y becomes a row-major
// Float32Array (samples, features) or an Int32Array of class ids before it reaches a backend,
// and every check (shape, length, finiteness, label range) happens here, in TypeScript.
//
// Accepted forms of x:
//   Float32Array (or any numeric typed array, copied to f32) of length samples·features, where
//     features is the model's input size (the length must divide);
//   { data, shape: [samples, features] };
//   nested arrays number[][] (one row per sample) or a flat number[] (like a typed array).
// Accepted forms of y: class ids (Int32Array, Uint8Array, number[], …) for sparse categorical
// cross-entropy, or targets (samples, outputs) in any of the forms above for the other losses.

import { LabelError, NonFiniteError, ShapeError, describe } from '../errors.js';
import type { LossName } from '../backend/types.js';

export type NumericArray =
  | Float32Array | Float64Array | Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array
  | Int32Array | Uint32Array;

/** A tensor with an explicit shape; data is row-major. */
export interface TensorData { data: NumericArray | number[]; shape: readonly number[] }

/** Inputs or targets as users may pass them. */
export type TensorLike = NumericArray | number[] | number[][] | TensorData;

/** A validated row-major matrix. */
export interface Matrix { data: Float32Array; rows: number; cols: number }

const isNumeric = (v: unknown): v is NumericArray => ArrayBuffer.isView(v) && !(v instanceof DataView) &&
  !(v instanceof BigInt64Array) && !(v instanceof BigUint64Array);

const isTensorData = (v: unknown): v is TensorData =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v) && 'data' in v && 'shape' in v;

const shapeStr = (s: readonly unknown[]): string => `[${s.join(', ')}]`;

/** Copies any numeric array to a Float32Array (no copy when it already is one). */
function toF32(a: NumericArray | number[]): Float32Array {
  return a instanceof Float32Array ? a : Float32Array.from(a as ArrayLike<number>);
}

/** The error for a non-finite input value v at (sample, feature) of a (·, cols) input. */
export function nonFiniteInput(where: string, what: string, v: number, sample: number, feature: number, cols: number): NonFiniteError {
  return new NonFiniteError(`${where}: ${what} contains ${v} at sample ${sample}, ${cols > 1 ? `feature ${feature}` : 'value 0'}; inputs must be finite numbers`);
}

/**
 * Throws NonFiniteError at the first NaN/±Inf, naming the sample and feature; `firstSample` is
 * the sample number of m's first row (m a slice of a larger input).
 */
export function checkFinite(where: string, what: string, m: Matrix, firstSample = 0): void {
  const d = m.data;
  // Fast pass: v·0 is 0 for finite v and NaN for NaN/±Infinity, so the sums stay 0 exactly when
  // every value is finite. Four independent sums and no branch: 2.2× faster than the loop below
  // (60,000 MNIST images: ~20 ms instead of ~45 ms, which fit() pays on every call).
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  const n4 = d.length & ~3;
  for (let i = 0; i < n4; i += 4) { s0 += d[i] * 0; s1 += d[i + 1] * 0; s2 += d[i + 2] * 0; s3 += d[i + 3] * 0; }
  for (let i = n4; i < d.length; i++) s0 += d[i] * 0;
  if (s0 + s1 + s2 + s3 === 0) return;
  // Slow pass only when something is not finite: find the first offender for the message.
  for (let i = 0; i < d.length; i++) {
    // `v - v !== 0` is true exactly for NaN and ±Infinity, and is the fastest test in V8.
    const v = d[i];
    if (v - v !== 0) {
      throw nonFiniteInput(where, what, v, firstSample + Math.floor(i / m.cols), i % m.cols, m.cols);
    }
  }
}

function fromNested(where: string, what: string, rows: unknown[], cols: number, colsName: string): Matrix {
  const n = rows.length;
  const data = new Float32Array(n * cols);
  for (let r = 0; r < n; r++) {
    const row = rows[r];
    if (!Array.isArray(row) && !isNumeric(row)) {
      throw new ShapeError(`${where}: ${what}[${r}] should be an array of ${cols} numbers (one sample), got ${describe(row)}`);
    }
    if (row.length !== cols) {
      throw new ShapeError(`${where}: ${what} has ${row.length} ${colsName} per sample (at sample ${r}) but the model's ${colsName === 'features' ? 'input size' : 'output size'} is ${cols}`);
    }
    for (let c = 0; c < cols; c++) {
      const v = row[c];
      if (typeof v !== 'number') {
        throw new ShapeError(`${where}: ${what}[${r}][${c}] should be a number, got ${describe(v)}${Array.isArray(v) ? ' (nest at most two levels deep: one array per sample)' : ''}`);
      }
      data[r * cols + c] = v;
    }
  }
  return { data, rows: n, cols };
}

/**
 * Normalises x (or dense targets) to a (rows, cols) Float32Array. `cols` is the model's input
 * size (or output size for targets); `colsName` words the messages ('features' / 'values').
 * Does not copy a Float32Array that is already flat. Checks finiteness unless `finite` is false
 * (fit() with a backend that checks its batches itself).
 */
export function toMatrix(where: string, what: string, v: unknown, cols: number, colsName = 'features', finite = true): Matrix {
  const sizeName = colsName === 'features' ? 'input size' : 'output size';
  let m: Matrix;
  if (isNumeric(v) || (Array.isArray(v) && (v.length === 0 || typeof v[0] === 'number'))) {
    const data = toF32(v as NumericArray);
    if (data.length % cols !== 0) {
      throw new ShapeError(
        `${where}: ${what} has length ${data.length}, which is not a multiple of the model's ${sizeName} ${cols} ` +
          `(a flat ${what} holds samples × ${cols} values; or pass { data, shape })`,
      );
    }
    m = { data, rows: data.length / cols, cols };
  } else if (Array.isArray(v)) {
    m = fromNested(where, what, v, cols, colsName);
  } else if (isTensorData(v)) {
    const { data, shape } = v;
    if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new ShapeError(`${where}: ${what}.shape must be an array of non-negative integers, got ${describe(shape)}`);
    }
    if (!isNumeric(data) && !Array.isArray(data)) {
      throw new ShapeError(`${where}: ${what}.data must be a Float32Array or number[], got ${describe(data)}`);
    }
    const size = shape.reduce((a, b) => a * b, 1);
    if (data.length !== size) {
      throw new ShapeError(`${where}: ${what}.data has length ${data.length} but ${what}.shape ${shapeStr(shape)} needs ${size} values`);
    }
    if (shape.length === 1 && cols === 1) {
      m = { data: toF32(data), rows: shape[0], cols };
    } else if (shape.length !== 2) {
      throw new ShapeError(`${where}: ${what}.shape must be [samples, ${cols}], got ${shapeStr(shape)} (flatten each sample first)`);
    } else if (shape[1] !== cols) {
      throw new ShapeError(`${where}: ${what} has ${shape[1]} ${colsName} per sample but the model's ${sizeName} is ${cols}`);
    } else {
      m = { data: toF32(data), rows: shape[0], cols };
    }
  } else {
    throw new ShapeError(
      `${where}: ${what} must be a Float32Array, { data, shape } or a nested number array, got ${describe(v)}`,
    );
  }
  if (m.rows === 0) throw new ShapeError(`${where}: ${what} has no samples`);
  if (finite) checkFinite(where, what, m);
  return m;
}

/**
 * Class ids for sparse categorical cross-entropy: (rows) int32, each in [0, numClasses).
 * Accepts any integer-valued numeric array, number[], { data, shape: [n] | [n, 1] } or [[id], …].
 */
export function toLabels(where: string, what: string, v: unknown, numClasses: number): Int32Array {
  let src: NumericArray | number[];
  if (isNumeric(v)) src = v;
  else if (Array.isArray(v)) {
    if (v.length > 0 && Array.isArray(v[0])) {
      // [[3], [1], …]: one id per row.
      src = v.map((row, r) => {
        if (!Array.isArray(row) || row.length !== 1) {
          throw new ShapeError(`${where}: ${what}[${r}] should be a class id (sparse categorical cross-entropy takes integer labels, not one-hot rows; use categoricalCrossentropy for one-hot), got ${describe(row)}`);
        }
        return row[0] as number;
      });
    } else src = v as number[];
  } else if (isTensorData(v)) {
    const shape = v.shape;
    if (!(shape.length === 1 || (shape.length === 2 && shape[1] === 1))) {
      throw new ShapeError(`${where}: ${what}.shape must be [samples] for class ids, got ${shapeStr(shape)}` +
        (shape.length === 2 && shape[1] === numClasses ? ' (this looks one-hot: use loss categoricalCrossentropy, or pass class ids)' : ''));
    }
    if (v.data.length !== shape[0]) {
      throw new ShapeError(`${where}: ${what}.data has length ${v.data.length} but ${what}.shape ${shapeStr(shape)} needs ${shape[0]} values`);
    }
    src = v.data;
  } else {
    throw new LabelError(`${where}: ${what} must be class ids (Int32Array, Uint8Array or number[]), got ${describe(v)}`);
  }
  if (src.length === 0) throw new ShapeError(`${where}: ${what} has no samples`);
  const out = new Int32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const id = src[i];
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= numClasses) {
      throw new LabelError(
        `${where}: ${what}[${i}] is ${describe(id)} but labels must be integer class ids in [0, ${numClasses - 1}] ` +
          `(the model has ${numClasses} output units)`,
      );
    }
    out[i] = id;
  }
  return out;
}

/**
 * Targets for every loss: class ids for sparse categorical cross-entropy, otherwise a
 * (rows, outputSize) matrix. Cross-entropy targets must lie in [0, 1].
 */
export function toTargets(where: string, what: string, v: unknown, loss: LossName, outputSize: number): Int32Array | Float32Array {
  if (loss === 'sparse_categorical_crossentropy') {
    // A Float32Array of length rows·outputSize with outputSize > 1 is almost surely one-hot.
    if (outputSize > 1 && (isTensorData(v) ? v.shape.length === 2 && v.shape[1] === outputSize
      : Array.isArray(v) && Array.isArray(v[0]) && (v[0] as unknown[]).length === outputSize)) {
      throw new ShapeError(`${where}: ${what} looks one-hot (${outputSize} values per sample) but the loss sparseCategoricalCrossentropy takes class ids; use loss 'categoricalCrossentropy' or pass class ids`);
    }
    return toLabels(where, what, v, outputSize);
  }
  const isCe = loss === 'categorical_crossentropy' || loss === 'binary_crossentropy';
  const isIds = v instanceof Int32Array || v instanceof Uint8Array || v instanceof Uint16Array;
  if (loss === 'categorical_crossentropy' && outputSize > 1 && isIds && (v as NumericArray).length % outputSize !== 0) {
    throw new ShapeError(`${where}: ${what} looks like class ids (${describe(v)}) but categoricalCrossentropy takes one-hot targets of ${outputSize} values per sample; use loss 'sparseCategoricalCrossentropy' or one-hot encode with gg.data.oneHot`);
  }
  const m = toMatrix(where, what, v, outputSize, 'values');
  if (isCe) {
    const d = m.data;
    for (let i = 0; i < d.length; i++) {
      if (d[i] < 0 || d[i] > 1) {
        throw new LabelError(`${where}: ${what} has ${d[i]} at sample ${Math.floor(i / outputSize)}; ${loss === 'binary_crossentropy' ? 'binaryCrossentropy' : 'categoricalCrossentropy'} targets must lie in [0, 1]`);
      }
    }
  }
  return m.data;
}

/** One-hot encoding: ids (n) → (n, numClasses) f32. */
export function oneHot(labels: ArrayLike<number>, numClasses: number): Float32Array {
  const ids = toLabels('data.oneHot', 'labels', labels, numClasses);
  const out = new Float32Array(ids.length * numClasses);
  for (let i = 0; i < ids.length; i++) out[i * numClasses + ids[i]] = 1;
  return out;
}

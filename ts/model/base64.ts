import { DataError } from '../errors.js';

// base64 of little-endian f32 (btoa/atob exist in browsers and Node ≥ 16).

export function f32ToBase64(a: Float32Array): string {
  const bytes = new Uint8Array(a.length * 4);
  const dv = new DataView(bytes.buffer);
  for (let i = 0; i < a.length; i++) dv.setFloat32(4 * i, a[i], true);
  let bin = '';
  // String.fromCharCode over chunks: one call per byte would be slow, one call for all overflows the stack.
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

export function base64ToF32(s: string, where: string): Float32Array {
  let bin: string;
  try { bin = atob(s); } catch { throw new DataError(`${where}: weight data is not valid base64`); }
  if (bin.length % 4 !== 0) throw new DataError(`${where}: weight data has ${bin.length} bytes, not a multiple of 4`);
  const out = new Float32Array(bin.length / 4);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const dv = new DataView(bytes.buffer);
  for (let i = 0; i < out.length; i++) out[i] = dv.getFloat32(4 * i, true);
  return out;
}

// No function in a built kernel may exceed MAX_BODY bytes of wasm code. Why (Model::train_step,
// "Code size"): V8 runs a fresh process's first calls in its baseline tier and compiles each hot
// function with its optimising tier in the background, in a time that grows faster than the
// function's size. When the update rules, the split step paths and the GEMM's edge tiles were
// inlined, train_step was 22 KB (118 ms to compile) and the GEMM's loop nest 16 KB (107 ms), and
// the first ~75 MNIST steps of every process ran 3–7× slower. The largest function is now 7.2 KB
// (the GEMM's narrow edge tiles, cold in most products); a change that inlines one of those pieces
// again fails here instead of silently slowing every process's start.
//
// The walk below reads only the module's section table and the code section's body sizes (LEB128
// lengths), which is all this needs; a full wasm decoder would have to know every SIMD and atomics
// opcode the kernel uses.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const MAX_BODY = 8 * 1024;
const ROOT = join(__dirname, '..');

/** Body sizes (bytes) of the functions a wasm module defines, in index order. */
function functionBodySizes(bytes: Uint8Array): number[] {
  let p = 8; // magic and version
  const leb = (): number => {
    let r = 0, shift = 0, b: number;
    do { b = bytes[p++]; r += (b & 0x7f) * 2 ** shift; shift += 7; } while (b & 0x80);
    return r;
  };
  while (p < bytes.length) {
    const id = bytes[p++];
    const size = leb();
    const end = p + size;
    if (id === 10) {
      const sizes: number[] = [];
      for (let n = leb(), i = 0; i < n; i++) { const s = leb(); sizes.push(s); p += s; }
      return sizes;
    }
    p = end;
  }
  return [];
}

describe('wasm function bodies stay small enough for V8 to tier up quickly', () => {
  it('the walk finds every body: a hand-made module of two functions (bodies 2 and 4 bytes)', () => {
    const m = Uint8Array.from([
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // \0asm, version 1
      0x01, 0x04, 0x01, 0x60, 0x00, 0x00, //             type section: () -> ()
      0x03, 0x03, 0x02, 0x00, 0x00, //                   function section: 2 functions of type 0
      0x0a, 0x09, 0x02, 0x02, 0x00, 0x0b, 0x04, 0x00, 0x01, 0x01, 0x0b, // code: [end], [nop nop end]
    ]);
    expect(WebAssembly.validate(m)).toBe(true);
    expect(functionBodySizes(m)).toEqual([2, 4]);
  });

  for (const variant of ['simd', 'scalar', 'simd-threads', 'relaxed-simd']) {
    it(`${variant}: every function body ≤ ${MAX_BODY} bytes`, () => {
      const sizes = functionBodySizes(readFileSync(join(ROOT, 'wasm', `gradguard-${variant}.wasm`)));
      expect(sizes.length, 'the kernel defines functions').toBeGreaterThan(100);
      const over = sizes.map((s, i) => [i, s]).filter(([, s]) => s > MAX_BODY);
      expect(over, `functions (defined-function index, bytes) over ${MAX_BODY} bytes`).toEqual([]);
    });
  }
});

// The wasm loader: feature probes, finding the files (default, wasmPath, wasmBytes), the errors
// when that fails, ABI binding (version check, views re-created after memory.grow).
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BackendError, OptionError } from '../ts/errors';
import {
  createWasmBackend, detectRelaxedSimd, detectSimd, detectThreads, instantiateKernel, locateWasm,
  resolveVariant, wasmFileName, WASM_VARIANTS,
} from '../ts/backend/wasm';

const root = join(__dirname, '..');
const wasmFile = (v: 'simd' | 'scalar') => join(root, 'wasm', wasmFileName(v));
const tmp = mkdtempSync(join(tmpdir(), 'gg-loader-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Minimal wasm assembler for fake kernels: one type () -> i32, `names` functions each returning
 * `value`, plus an exported memory of one page. Enough to exercise the binder's checks. */
function fakeKernel(names: string[], value: number): Uint8Array<ArrayBuffer> {
  const enc = new TextEncoder();
  const sec = (id: number, body: number[]) => [id, body.length, ...body]; // bodies here are < 128 bytes
  const n = names.length;
  const exportsBody: number[] = [n + 1];
  names.forEach((name, i) => { const b = enc.encode(name); exportsBody.push(b.length, ...b, 0x00, i); });
  const mem = enc.encode('memory');
  exportsBody.push(mem.length, ...mem, 0x02, 0);
  const bodies: number[] = [n];
  for (let i = 0; i < n; i++) bodies.push(4, 0x00, 0x41, value, 0x0b); // no locals; i32.const value; end
  // The export section can exceed 127 bytes: encode its size as LEB128.
  const leb = (x: number) => { const o: number[] = []; do { let b = x & 0x7f; x >>>= 7; if (x) b |= 0x80; o.push(b); } while (x); return o; };
  const secL = (id: number, body: number[]) => [id, ...leb(body.length), ...body];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...sec(1, [1, 0x60, 0, 1, 0x7f]),
    ...sec(3, [n, ...new Array<number>(n).fill(0)]),
    ...sec(5, [1, 0, 1]),
    ...secL(7, exportsBody),
    ...secL(10, bodies),
  ]);
}
const CORE = ['gg_abi_version', 'gg_simd', 'gg_alloc', 'gg_free', 'gg_sgemm'];

describe('feature probes', () => {
  it('detectSimd agrees with whether the engine validates the simd build itself', () => {
    expect(detectSimd()).toBe(WebAssembly.validate(readFileSync(wasmFile('simd'))));
  });
  it('probes return booleans (relaxed SIMD needs a flag on Node 20; threads need SharedArrayBuffer)', () => {
    expect(typeof detectRelaxedSimd()).toBe('boolean');
    expect(detectThreads()).toBe(typeof SharedArrayBuffer !== 'undefined');
  });
  it('the variant list stays open for the issue-4 builds', () => {
    expect(WASM_VARIANTS).toEqual(['simd', 'scalar', 'simd-threads', 'relaxed-simd']);
  });
});

describe('variant choice', () => {
  it("'auto' takes simd where the engine has it", () => {
    expect(resolveVariant('auto')).toBe(detectSimd() ? 'simd' : 'scalar');
    expect(resolveVariant()).toBe(resolveVariant('auto'));
  });
  it('an unknown option is an OptionError with a hint', async () => {
    await expect(createWasmBackend({ wasmpath: '/x' } as never)).rejects.toThrow(OptionError);
    await expect(createWasmBackend({ wasmpath: '/x' } as never)).rejects.toThrow(
      /createWasmBackend: unknown option 'wasmpath' \(did you mean 'wasmPath'\?\)/);
  });
  it('an unknown variant is an OptionError naming the choices', () => {
    expect(() => resolveVariant('avx' as never)).toThrow(OptionError);
    expect(() => resolveVariant('avx' as never)).toThrow(/unknown wasm variant "avx"; expected one of 'auto', 'simd', 'scalar'/);
  });
});

describe('locating the files (Node)', () => {
  it.each(['simd', 'scalar'] as const)('finds wasm/%s from the ts/ sources and binds it', async (v) => {
    const b = await createWasmBackend({ variant: v });
    expect(b.name).toBe(`wasm-${v}`);
    expect(b.variant).toBe(v);
    expect(b.source).toBe(wasmFile(v));
    expect(b.kernel.simd).toBe(v === 'simd');
  });

  it('auto gives the simd build on Node 20', async () => {
    const b = await createWasmBackend();
    expect(b.name).toBe('wasm-simd');
  });

  it('wasmPath as a directory (with or without slash), a file, and a file: URL', async () => {
    copyFileSync(wasmFile('scalar'), join(tmp, wasmFileName('scalar')));
    const asDir = await createWasmBackend({ variant: 'scalar', wasmPath: tmp });
    expect(asDir.source).toBe(join(tmp, 'gradguard-scalar.wasm'));
    const asDirSlash = await createWasmBackend({ variant: 'scalar', wasmPath: `${tmp}/` });
    expect(asDirSlash.source).toBe(join(tmp, 'gradguard-scalar.wasm'));
    const asFile = await createWasmBackend({ variant: 'scalar', wasmPath: join(tmp, 'gradguard-scalar.wasm') });
    expect(asFile.kernel.simd).toBe(false);
    const asUrl = await createWasmBackend({ variant: 'scalar', wasmPath: pathToFileURL(`${tmp}/`) });
    expect(asUrl.source).toBe(join(tmp, 'gradguard-scalar.wasm'));
  });

  it('wasmBytes (bytes or a compiled Module) wins, and the module names its own variant', async () => {
    const bytes = readFileSync(wasmFile('scalar'));
    const fromBytes = await createWasmBackend({ wasmBytes: bytes, wasmPath: '/nonexistent' });
    expect(fromBytes.name).toBe('wasm-scalar');
    expect(fromBytes.source).toBe('(wasmBytes)');
    const fromModule = await createWasmBackend({ wasmBytes: new WebAssembly.Module(readFileSync(wasmFile('simd'))) });
    expect(fromModule.name).toBe('wasm-simd');
  });

  it('a missing file: BackendError naming the path tried and the build command', async () => {
    const dir = join(tmp, 'empty');
    const p = createWasmBackend({ variant: 'simd', wasmPath: dir });
    await expect(p).rejects.toThrow(BackendError);
    await expect(createWasmBackend({ variant: 'simd', wasmPath: dir })).rejects.toThrow(
      `the 'simd' wasm kernel was not found at ${join(dir, 'gradguard-simd.wasm')} (no such file)`);
    await expect(createWasmBackend({ variant: 'simd', wasmPath: dir })).rejects.toThrow(/npm run build:wasm/);
  });

  it('a damaged file: BackendError naming the variant, the path and the engine\'s message', async () => {
    const bad = join(tmp, 'bad.wasm');
    writeFileSync(bad, readFileSync(wasmFile('simd')).subarray(0, 1000)); // truncated
    const p = createWasmBackend({ variant: 'simd', wasmPath: bad });
    await expect(p).rejects.toThrow(BackendError);
    await expect(createWasmBackend({ variant: 'simd', wasmPath: bad })).rejects.toThrow(
      new RegExp(`could not compile the 'simd' wasm kernel from ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: WebAssembly.compile\\(\\): .+`));
    await expect(createWasmBackend({ variant: 'scalar', wasmBytes: new Uint8Array([1, 2, 3]) })).rejects.toThrow(
      /could not compile the 'scalar' wasm kernel from \(wasmBytes\)/);
  });

  it('locateWasm returns the compiled module and where it came from', async () => {
    const { module, where } = await locateWasm('scalar');
    expect(where).toBe(wasmFile('scalar'));
    expect(WebAssembly.Module.exports(module).map((e) => e.name)).toContain('gg_sgemm');
  });
});

describe('ABI binding', () => {
  it('refuses a module with another ABI version, saying so', async () => {
    const m = new WebAssembly.Module(fakeKernel(CORE, 2)); // every export returns 2
    await expect(instantiateKernel(m, 'fake.wasm')).rejects.toThrow(BackendError);
    await expect(instantiateKernel(m, 'fake.wasm')).rejects.toThrow(
      /fake\.wasm has ABI version 2, this package expects 1/);
  });

  it('refuses a module that is not a kernel, naming the missing exports', async () => {
    const m = new WebAssembly.Module(fakeKernel(['gg_abi_version', 'gg_alloc'], 1));
    await expect(instantiateKernel(m, 'other.wasm')).rejects.toThrow(/lacks gg_simd, gg_free, gg_sgemm/);
  });

  it('a kernel without model exports loads, and createModel says to rebuild', async () => {
    const k = await instantiateKernel(new WebAssembly.Module(fakeKernel(CORE, 1)), 'old.wasm');
    expect(k.missingModelExports).toContain('gg_train_step');
    expect(() => k.requireModelExports()).toThrow(/lacks the model exports .*npm run build:wasm/);
  });

  it('views follow memory.grow', async () => {
    const { kernel } = await createWasmBackend({ variant: 'scalar' });
    const before = kernel.f32;
    const bytes = kernel.memoryBytes + (1 << 20); // more than is free: forces memory.grow
    const p = kernel.alloc(bytes);
    expect(kernel.memoryBytes).toBeGreaterThan(before.length * 4);
    expect(before.length).toBe(0); // the old buffer was detached by grow...
    expect(kernel.f32.length * 4).toBe(kernel.memoryBytes); // ...and the getter made a new view
    kernel.f32[(p >>> 2) + (bytes >>> 2) - 1] = 3.5;
    expect(kernel.f32[(p >>> 2) + (bytes >>> 2) - 1]).toBe(3.5);
    kernel.free(p, bytes);
  });

  it('alloc failure is a BackendError, not a 0 pointer', async () => {
    const { kernel } = await createWasmBackend({ variant: 'scalar' });
    expect(() => kernel.alloc(0xffff_fff0)).toThrow(BackendError);
  });

  // The binding passes each argument in its place: integer-valued inputs make the products exact
  // in f32 (|values| ≤ 8, k ≤ 7: sums stay far below 2^24), so the comparison is exact.
  it.each(['simd', 'scalar'] as const)('sgemm (%s) through the binding matches a naive product in all transposition cases', async (v) => {
    const { kernel } = await createWasmBackend({ variant: v });
    const [m, n, k] = [5, 3, 7];
    for (const [ta, tb] of [[false, false], [false, true], [true, false], [true, true]] as const) {
      const A = Float32Array.from({ length: m * k }, (_, i) => ((i * 7) % 17) - 8);
      const B = Float32Array.from({ length: k * n }, (_, i) => ((i * 5) % 13) - 6);
      const a = kernel.alloc(A.length * 4), b = kernel.alloc(B.length * 4), c = kernel.alloc(m * n * 4);
      kernel.f32.set(A, a >>> 2); kernel.f32.set(B, b >>> 2); kernel.f32.fill(NaN, c >>> 2, (c >>> 2) + m * n);
      // Stored shapes: A (m,k) or (k,m); B (k,n) or (n,k).
      kernel.sgemm(ta, tb, m, n, k, 2, a, ta ? m : k, b, tb ? k : n, 0, c, n);
      const C = kernel.f32.slice(c >>> 2, (c >>> 2) + m * n);
      const at = (i: number, p: number) => (ta ? A[p * m + i] : A[i * k + p]);
      const bt = (p: number, j: number) => (tb ? B[j * k + p] : B[p * n + j]);
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
        let s = 0; for (let p = 0; p < k; p++) s += at(i, p) * bt(p, j);
        expect(C[i * n + j], `ta=${ta} tb=${tb} (${i},${j})`).toBe(2 * s);
      }
      kernel.free(a, A.length * 4); kernel.free(b, B.length * 4); kernel.free(c, m * n * 4);
    }
  });
});

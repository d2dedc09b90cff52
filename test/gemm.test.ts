// gg_sgemm in both wasm builds (wasm/gradguard-simd.wasm with the simd128 micro-kernel, and
// wasm/gradguard-scalar.wasm) against a naive f64 reference in JavaScript. The Rust native tests
// (crates/kernel/tests/gemm.rs) cannot reach the SIMD kernel, which only compiles for wasm32:
// this suite is where it is checked. Modules are instantiated straight from the file bytes.
//
// Inputs are small integers (|x| ≤ 4): with integer α, β every partial sum is an integer far
// below 2^24, so f32 is exact in any summation order and results compare with ===.
// Fractional α/β cases use the tolerance stated at `check`.
// Padding between a row's end and its stride is NaN in A and B (reading it would poison C) and
// a sentinel in C (writing it is caught); with β = 0, C starts as NaN (β = 0 must not read C).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

interface Exports {
  memory: WebAssembly.Memory;
  gg_alloc(bytes: number): number;
  gg_free(ptr: number, bytes: number): void;
  gg_simd(): number;
  gg_sgemm(
    ta: number, tb: number, m: number, n: number, k: number, alpha: number,
    a: number, lda: number, b: number, ldb: number, beta: number, c: number, ldc: number,
  ): void;
}

async function load(variant: string): Promise<Exports> {
  const bytes = readFileSync(join(__dirname, '..', 'wasm', `gradguard-${variant}.wasm`));
  const { instance } = await WebAssembly.instantiate(bytes, {});
  return instance.exports as unknown as Exports;
}

const SENTINEL = 12345;

function lcg(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return ((s >>> 16) % 9) - 4;
  };
}

function mat(rnd: () => number, rows: number, cols: number, ld: number, pad: number): Float32Array {
  const v = new Float32Array(rows * ld).fill(pad);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) v[r * ld + c] = rnd();
  return v;
}

type Case = { ta: 0 | 1; tb: 0 | 1; m: number; n: number; k: number; alpha: number; beta: number; extra: number };

/** Runs one case through gg_sgemm; returns a description of the first mismatch, or null. */
function check(ex: Exports, rnd: () => number, t: Case): string | null {
  const { ta, tb, m, n, k, alpha, beta, extra } = t;
  const [ar, ac] = ta ? [k, m] : [m, k];
  const [br, bc] = tb ? [n, k] : [k, n];
  const [lda, ldb, ldc] = [ac + extra, bc + 2 * extra, n + extra];
  const A = mat(rnd, ar, ac, lda, NaN);
  const B = mat(rnd, br, bc, ldb, NaN);
  let C0: Float32Array;
  if (beta === 0) {
    C0 = new Float32Array(m * ldc).fill(SENTINEL);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) C0[i * ldc + j] = NaN;
  } else {
    C0 = mat(rnd, m, n, ldc, SENTINEL);
  }
  const bytes = (x: Float32Array) => Math.max(4, x.length * 4);
  const pa = ex.gg_alloc(bytes(A)), pb = ex.gg_alloc(bytes(B)), pc = ex.gg_alloc(bytes(C0));
  if (!pa || !pb || !pc) throw new Error('gg_alloc failed');
  // Views after all allocations: memory may have grown.
  new Float32Array(ex.memory.buffer, pa, A.length).set(A);
  new Float32Array(ex.memory.buffer, pb, B.length).set(B);
  new Float32Array(ex.memory.buffer, pc, C0.length).set(C0);
  ex.gg_sgemm(ta, tb, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
  const C = new Float32Array(ex.memory.buffer, pc, C0.length).slice();
  ex.gg_free(pa, bytes(A)); ex.gg_free(pb, bytes(B)); ex.gg_free(pc, bytes(C0));

  const at = (i: number, p: number) => (ta ? A[p * lda + i] : A[i * lda + p]);
  const bt = (p: number, j: number) => (tb ? B[j * ldb + p] : B[p * ldb + j]);
  const exact = Number.isInteger(alpha) && Number.isInteger(beta);
  const a32 = Math.fround(alpha), b32 = Math.fround(beta);
  const name = `${'NT'[ta]}${'NT'[tb]} m=${m} n=${n} k=${k} alpha=${alpha} beta=${beta} extra=${extra}`;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0, sabs = 0;
      for (let p = 0; p < k; p++) { const x = at(i, p) * bt(p, j); s += x; sabs += Math.abs(x); }
      const cin = C0[i * ldc + j];
      const bc = beta === 0 ? 0 : b32 * cin;
      const want = a32 * s + bc;
      const got = C[i * ldc + j];
      // Fractional α/β: f32 rounding of a k-term sum plus the α and β scalings is bounded by
      // (k + 2)·ε·(|α|·Σ|a·b| + |β·c|) with ε = 2^-24; (k + 8) leaves a margin.
      const bound = (k + 8) * 2 ** -24 * (Math.abs(a32) * sabs + Math.abs(bc) + 1);
      const ok = exact ? got === want : Math.abs(got - want) <= bound;
      if (!ok) return `${name}: C[${i},${j}] = ${got}, want ${want}`;
    }
    for (let j = n; j < ldc; j++) {
      if (C[i * ldc + j] !== SENTINEL) return `${name}: wrote C padding [${i},${j}]`;
    }
  }
  return null;
}

const LAYOUTS: [0 | 1, 0 | 1][] = [[0, 0], [0, 1], [1, 0], [1, 1]];

for (const variant of ['simd', 'scalar']) {
  describe(`gg_sgemm, ${variant} build`, async () => {
    const ex = await load(variant);

    it('is the build it claims to be', () => {
      expect(ex.gg_simd()).toBe(variant === 'simd' ? 1 : 0);
    });

    it('sizes 0..20 in m and n, all four layouts, beta = 0 over NaN, exact', () => {
      const rnd = lcg(1);
      const ks = [0, 1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 20];
      const fails: string[] = [];
      for (const [ta, tb] of LAYOUTS)
        for (let m = 0; m <= 20; m++)
          for (let n = 0; n <= 20; n++)
            for (const k of ks) {
              const f = check(ex, rnd, { ta, tb, m, n, k, alpha: 1, beta: 0, extra: 0 });
              if (f) fails.push(f);
            }
      expect(fails.slice(0, 5)).toEqual([]);
    });

    it('every k in 0..20, strided operands, integer alpha/beta, exact', () => {
      const rnd = lcg(2);
      const fails: string[] = [];
      for (const [ta, tb] of LAYOUTS)
        for (let k = 0; k <= 20; k++)
          for (const [m, n] of [[1, 1], [5, 13], [13, 5], [20, 20], [7, 17]]) {
            for (const [alpha, beta, extra] of [[2, 0, 3], [-1, 3, 1], [1, 1, 0]]) {
              const f = check(ex, rnd, { ta, tb, m, n, k, alpha, beta, extra });
              if (f) fails.push(f);
            }
          }
      expect(fails.slice(0, 5)).toEqual([]);
    });

    it('primes and multiples of 7, across k-blocks and row blocks, exact', () => {
      // 410 and 530 exceed the k-block (400): β applied on the first block only; 140 and 131
      // exceed the 128-row block; the MNIST shapes take the direct (unpacked) paths.
      const rnd = lcg(3);
      const fails: string[] = [];
      for (const [ta, tb] of LAYOUTS) {
        for (const m of [31, 67, 97, 131, 7, 14, 21, 49])
          for (const n of [31, 7, 97])
            for (const k of [31, 410]) {
              const f = check(ex, rnd, { ta, tb, m, n, k, alpha: 1, beta: 0, extra: 2 });
              if (f) fails.push(f);
            }
        for (const t of [
          { m: 140, n: 70, k: 530, alpha: 1, beta: -2, extra: 5 },
          // Too large to read in place (kc·ld > 32 Ki floats): packed A and B, edge panels in both.
          { m: 37, n: 150, k: 260, alpha: 1, beta: 0, extra: 1 },
          { m: 150, n: 37, k: 260, alpha: -1, beta: 2, extra: 0 },
          // Packed A with a 1- or 2-column edge (the simd build's column-major narrow panel,
          // computed 4 row panels at a time), across two k-blocks in the second.
          { m: 150, n: 41, k: 260, alpha: 1, beta: 2, extra: 0 },
          { m: 150, n: 42, k: 450, alpha: -1, beta: 1, extra: 3 },
          { m: 32, n: 128, k: 784, alpha: 1, beta: 0, extra: 0 },
          { m: 784, n: 128, k: 32, alpha: 1, beta: 0, extra: 0 },
          { m: 32, n: 10, k: 128, alpha: 1, beta: 1, extra: 0 },
          { m: 128, n: 10, k: 32, alpha: 1, beta: 0, extra: 0 },
        ]) {
          const f = check(ex, rnd, { ta, tb, ...t });
          if (f) fails.push(f);
        }
      }
      expect(fails.slice(0, 5)).toEqual([]);
    });

    it('fractional alpha/beta within the stated tolerance', () => {
      const rnd = lcg(4);
      const fails: string[] = [];
      for (const [ta, tb] of LAYOUTS)
        for (const [m, n, k] of [[1, 1, 1], [6, 9, 13], [32, 10, 128], [19, 23, 300], [64, 64, 64]])
          for (const [alpha, beta, extra] of [[0.37, 0, 1], [-1.5, 0.25, 0], [0.1, -0.7, 2]]) {
            const f = check(ex, rnd, { ta, tb, m, n, k, alpha, beta, extra });
            if (f) fails.push(f);
          }
      expect(fails.slice(0, 5)).toEqual([]);
    });

    it('alpha = 0 or k = 0 gives beta*C without reading A or B', () => {
      const [m, n] = [5, 7];
      const pa = ex.gg_alloc(256), pb = ex.gg_alloc(256), pc = ex.gg_alloc(4 * m * n);
      new Float32Array(ex.memory.buffer, pa, 64).fill(NaN);
      new Float32Array(ex.memory.buffer, pb, 64).fill(NaN);
      new Float32Array(ex.memory.buffer, pc, m * n).fill(2);
      ex.gg_sgemm(0, 0, m, n, 3, 0, pa, 3, pb, n, 1.5, pc, n);
      expect([...new Float32Array(ex.memory.buffer, pc, m * n)].every((x) => x === 3)).toBe(true);
      new Float32Array(ex.memory.buffer, pc, m * n).fill(NaN);
      ex.gg_sgemm(1, 1, m, n, 0, 1, pa, m, pb, 1, 0, pc, n);
      expect([...new Float32Array(ex.memory.buffer, pc, m * n)].every((x) => x === 0)).toBe(true);
      ex.gg_free(pa, 256); ex.gg_free(pb, 256); ex.gg_free(pc, 4 * m * n);
    });
  });
}

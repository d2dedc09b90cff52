// The seeded generator (ts/reference/rng.ts) against an independent BigInt re-implementation of the
// algorithm as docs/abi.md writes it (itself checked against outputs worked out by hand), and the
// initialisers (ts/reference/init.ts): exact values from that independent generator, statistics
// within bounds derived from the sample size, truncation at 2σ, determinism from the seed.

import { describe, expect, it } from 'vitest';
import { INITIALIZERS, type InitializerName } from '../ts/backend/types.js';
import { initValues, TRUNCATED_NORMAL_STD } from '../ts/reference/init.js';
import { Rng, tensorSeed } from '../ts/reference/rng.js';

// ---- An independent generator, in BigInt, straight from docs/abi.md ("Generator") ----
const M32 = (1n << 32n) - 1n;
const rotl = (x: bigint, k: bigint): bigint => ((x << k) | (x >> (32n - k))) & M32;

/** SplitMix32: s += 0x9E3779B9; z = s; z = (z ^ z>>16)·0x85EBCA6B; z = (z ^ z>>13)·0xC2B2AE35; out = z ^ z>>16. */
function splitmix32(state: bigint): [bigint, bigint] {
  const s = (state + 0x9e3779b9n) & M32;
  let z = s;
  z = ((z ^ (z >> 16n)) * 0x85ebca6bn) & M32;
  z = ((z ^ (z >> 13n)) * 0xc2b2ae35n) & M32;
  return [z ^ (z >> 16n), s];
}

class BigXoshiro {
  s: bigint[];
  constructor(state: bigint[]) { this.s = state.slice(); }
  static seeded(seed: number): BigXoshiro {
    let st = BigInt(seed >>> 0);
    const w: bigint[] = [];
    for (let i = 0; i < 4; i++) { const [o, n] = splitmix32(st); w.push(o); st = n; }
    return new BigXoshiro(w);
  }
  /** r = rotl(s1·5, 7)·9; t = s1<<9; s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 11). */
  next(): bigint {
    const s = this.s;
    const r = (rotl((s[1] * 5n) & M32, 7n) * 9n) & M32;
    const t = (s[1] << 9n) & M32;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 11n);
    return r;
  }
  uniform(): number { return Number(this.next() >> 8n) / 2 ** 24; }
  normal(): number {
    let u1 = this.uniform();
    const u2 = this.uniform();
    if (u1 === 0) u1 = 2 ** -25;
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
  truncatedNormal(): number { for (;;) { const z = this.normal(); if (Math.abs(z) <= 2) return z; } }
}

describe('generator known answers', () => {
  it('the BigInt xoshiro128** step matches values worked out by hand from state [1, 2, 3, 4]', () => {
    // out₁ = rotl(2·5, 7)·9 = 1280·9 = 11520; then s = [7, 0, 1026, 12288]
    // out₂ = rotl(0, 7)·9 = 0;               then s = [12295, 1029, 1029, 25165824]
    // out₃ = rotl(1029·5, 7)·9 = 658560·9 = 5927040
    const g = new BigXoshiro([1n, 2n, 3n, 4n]);
    expect(g.next()).toBe(11520n);
    expect(g.s).toEqual([7n, 0n, 1026n, 12288n]);
    expect(g.next()).toBe(0n);
    expect(g.s).toEqual([12295n, 1029n, 1029n, 25165824n]);
    expect(g.next()).toBe(5927040n);
  });

  it('the BigInt SplitMix32 matches murmur3 fmix32 facts: fmix32(0) = 0 at state −golden', () => {
    // state = 2³² − 0x9E3779B9 makes s = 0, and fmix32(0) = 0.
    expect(splitmix32(0x61c88647n)).toEqual([0n, 0n]);
    // First output for seed 0 is fmix32(0x9E3779B9); recompute it step by step.
    const s = 0x9e3779b9n;
    const a = ((s ^ (s >> 16n)) * 0x85ebca6bn) & M32;
    const b = ((a ^ (a >> 13n)) * 0xc2b2ae35n) & M32;
    expect(splitmix32(0n)[0]).toBe(b ^ (b >> 16n));
  });

  for (const seed of [0, 1, 42, 0x9e3779b9, 0xffffffff]) {
    it(`Rng(${seed}) gives the documented stream: u32, uniform, normal`, () => {
      const r = new Rng(seed); const g = BigXoshiro.seeded(seed);
      for (let i = 0; i < 200; i++) expect(r.nextU32()).toBe(Number(g.next()));
      const r2 = new Rng(seed); const g2 = BigXoshiro.seeded(seed);
      for (let i = 0; i < 200; i++) expect(r2.uniform()).toBe(g2.uniform());
      const r3 = new Rng(seed); const g3 = BigXoshiro.seeded(seed);
      for (let i = 0; i < 200; i++) expect(r3.normal()).toBe(g3.normal());
    });
  }

  it('below(n) is the multiply-shift (next·n) >> 32', () => {
    const r = new Rng(7); const g = BigXoshiro.seeded(7);
    for (const n of [1, 2, 3, 10, 1000, 60000, 2 ** 31 + 11]) {
      for (let i = 0; i < 20; i++) expect(r.below(n)).toBe(Number((g.next() * BigInt(n)) >> 32n));
    }
  });

  it('tensorSeed(seed, i) = (seed + 0x9E3779B9·(i+1)) mod 2³²', () => {
    for (const seed of [0, 1, 123456789, 0xffffffff]) {
      for (let i = 0; i < 6; i++) {
        expect(tensorSeed(seed, i)).toBe(Number((BigInt(seed) + 0x9e3779b9n * BigInt(i + 1)) & M32));
      }
    }
  });
});

// ---- Initialisers ----
const FAN_IN = 300; const FAN_OUT = 100; const N = FAN_IN * FAN_OUT;

/** Expected (limit or σ of the underlying draw, variance of the result) per variance-scaling kind. */
function expected(kind: InitializerName): { scale: number; fan: number; uniform: boolean } | null {
  const glorot = (FAN_IN + FAN_OUT) / 2;
  switch (kind) {
    case 'glorot_uniform': return { scale: 1, fan: glorot, uniform: true };
    case 'glorot_normal': return { scale: 1, fan: glorot, uniform: false };
    case 'he_uniform': return { scale: 2, fan: FAN_IN, uniform: true };
    case 'he_normal': return { scale: 2, fan: FAN_IN, uniform: false };
    case 'lecun_uniform': return { scale: 1, fan: FAN_IN, uniform: true };
    case 'lecun_normal': return { scale: 1, fan: FAN_IN, uniform: false };
    default: return null;
  }
}

function meanVar(v: Float32Array): { mean: number; variance: number } {
  let s = 0; for (const x of v) s += x;
  const mean = s / v.length;
  let q = 0; for (const x of v) q += (x - mean) * (x - mean);
  return { mean, variance: q / v.length };
}

describe('initialisers', () => {
  // Bounds: 5 standard errors. The sample mean has standard error sqrt(Var/N); the sample variance
  // sqrt((μ₄ − σ⁴)/N), with μ₄ = 9σ⁴/5 for a uniform and μ₄ ≤ 3σ⁴ for a truncated normal
  // (lighter tails than the normal's kurtosis 3), so ≤ sqrt(2/N)·σ². 5σ bounds make a false
  // failure a ~1e-6 event; a wrong fan or scale moves the variance by ≥ 33% (far beyond ~4%).
  for (const kind of INITIALIZERS) {
    const e = expected(kind);
    if (!e) continue;
    it(`${kind}: mean 0 and variance scale/fan within 5 standard errors (N = ${N})`, () => {
      const w = initValues(N, kind, FAN_IN, FAN_OUT, 0, 1234);
      const variance = e.scale / e.fan;
      const { mean, variance: v } = meanVar(w);
      expect(Math.abs(mean)).toBeLessThan(5 * Math.sqrt(variance / N));
      const kurtosisExcess = e.uniform ? 9 / 5 - 1 : 2;
      expect(Math.abs(v - variance)).toBeLessThan(5 * Math.sqrt(kurtosisExcess / N) * variance);
      if (e.uniform) {
        const limit = Math.sqrt(3 * variance);
        let max = 0; for (const x of w) max = Math.max(max, Math.abs(x));
        expect(max).toBeLessThanOrEqual(Math.fround(limit));
        expect(max).toBeGreaterThan(0.99 * limit); // the whole interval is used
      } else {
        // truncation at 2σ of the underlying normal: σ = sqrt(scale/fan)/0.8796…
        const sigma = Math.sqrt(variance) / TRUNCATED_NORMAL_STD;
        let max = 0; let beyond19 = 0;
        for (const x of w) { max = Math.max(max, Math.abs(x)); if (Math.abs(x) > 1.9 * sigma) beyond19++; }
        expect(max).toBeLessThanOrEqual(Math.fround(2 * sigma));
        // P(1.9 < |z| ≤ 2 | |z| ≤ 2) ≈ 0.0121/0.9545 ≈ 1.27%: ~380 of 30000, so > 200 is safe,
        // and a truncation at a smaller bound (or none: max would exceed 2σ) is caught.
        expect(beyond19).toBeGreaterThan(200);
      }
    });
  }

  it('random_normal(σ) is not truncated: ~4.6% of values beyond 2σ', () => {
    const w = initValues(N, 'random_normal', 0, 0, 0.05, 9);
    const { mean, variance } = meanVar(w);
    expect(Math.abs(mean)).toBeLessThan(5 * Math.sqrt(0.05 ** 2 / N));
    expect(Math.abs(variance - 0.05 ** 2)).toBeLessThan(5 * Math.sqrt(2 / N) * 0.05 ** 2);
    let beyond = 0; for (const x of w) if (Math.abs(x) > 2 * 0.05) beyond++;
    // Binomial(N, 0.0455): mean 1366, sd 36.
    expect(beyond).toBeGreaterThan(1366 - 5 * 36);
    expect(beyond).toBeLessThan(1366 + 5 * 36);
  });

  it('random_uniform(v) stays in (−v, v) with variance v²/3', () => {
    const w = initValues(N, 'random_uniform', 0, 0, 0.3, 10);
    const { variance } = meanVar(w);
    let lo = Infinity; let hi = -Infinity;
    for (const x of w) { lo = Math.min(lo, x); hi = Math.max(hi, x); }
    expect(lo).toBeGreaterThanOrEqual(-Math.fround(0.3));
    expect(hi).toBeLessThan(Math.fround(0.3));
    expect(Math.abs(variance - 0.09 / 3)).toBeLessThan(5 * Math.sqrt(0.8 / N) * (0.09 / 3));
  });

  it('zeros, ones, constant', () => {
    expect(Array.from(initValues(5, 'zeros', 1, 1, 7, 1))).toEqual([0, 0, 0, 0, 0]);
    expect(Array.from(initValues(3, 'ones', 1, 1, 7, 1))).toEqual([1, 1, 1]);
    expect(Array.from(initValues(3, 'constant', 1, 1, 0.1, 1))).toEqual([Math.fround(0.1), Math.fround(0.1), Math.fround(0.1)]);
  });

  it('values are exactly the documented draws, rounded to f32 once (independent generator)', () => {
    const n = 257;
    const gu = initValues(n, 'glorot_uniform', 13, 7, 0, 77);
    let g = BigXoshiro.seeded(77);
    const limit = Math.sqrt(6 / (13 + 7));
    for (let i = 0; i < n; i++) expect(gu[i]).toBe(Math.fround(limit * (2 * g.uniform() - 1)));

    const hn = initValues(n, 'he_normal', 13, 7, 0, 78);
    g = BigXoshiro.seeded(78);
    const sigma = Math.sqrt(2 / 13) / 0.87962566103423978;
    for (let i = 0; i < n; i++) expect(hn[i]).toBe(Math.fround(sigma * g.truncatedNormal()));

    const rn = initValues(n, 'random_normal', 13, 7, 0.05, 79);
    g = BigXoshiro.seeded(79);
    for (let i = 0; i < n; i++) expect(rn[i]).toBe(Math.fround(Math.fround(0.05) * g.normal()));
  });

  it('same seed → identical bytes; another seed → different values', () => {
    for (const kind of INITIALIZERS) {
      const a = initValues(101, kind, 7, 3, 0.5, 5);
      const b = initValues(101, kind, 7, 3, 0.5, 5);
      expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
      if (expected(kind) || kind.startsWith('random')) {
        const c = initValues(101, kind, 7, 3, 0.5, 6);
        expect(Buffer.from(a.buffer).equals(Buffer.from(c.buffer))).toBe(false);
      }
    }
  });
});

// The seeded generator shared, bit for bit, by the kernel (crates/kernel/src/rng.rs) and the
// TypeScript side (initialisers in the reference backend, shuffling, validation splits).
// Definition (docs/abi.md, "Generator"):
//   seeding: SplitMix32 (a golden-ratio counter through murmur3's fmix32) gives xoshiro128**'s
//   four state words; uniform u in [0,1) is (next >>> 8) * 2^-24 in f64; a normal is
//   Box-Muller's first value sqrt(-2 ln u1) cos(2 pi u2), with u1 = 0 replaced by 2^-25.

/** One SplitMix32 step: returns [output, nextState]. */
function splitmix32(state: number): [number, number] {
  const s = (state + 0x9e3779b9) >>> 0;
  let z = s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return [(z ^ (z >>> 16)) >>> 0, s];
}

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

export class Rng {
  private s0: number; private s1: number; private s2: number; private s3: number;

  constructor(seed: number) {
    let st = seed >>> 0;
    const w: number[] = [];
    for (let i = 0; i < 4; i++) { const [o, n] = splitmix32(st); w.push(o); st = n; }
    [this.s0, this.s1, this.s2, this.s3] = w as [number, number, number, number];
  }

  /** xoshiro128**: result = rotl(s1 * 5, 7) * 9. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** u in [0, 1) with 24 random bits, exactly representable in f32. */
  uniform(): number {
    return (this.nextU32() >>> 8) * 5.9604644775390625e-8; // 2^-24
  }

  /** Standard normal by Box-Muller (first value of the pair; the second is not kept). */
  normal(): number {
    let u1 = this.uniform();
    const u2 = this.uniform();
    if (u1 === 0) u1 = 2.9802322387695312e-8; // 2^-25
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Integer in [0, n) (n ≤ 2^32) by multiply-shift; bias < n/2^32, irrelevant for shuffles. */
  below(n: number): number {
    return Math.floor((this.nextU32() * n) / 4294967296);
  }

  /** In-place Fisher-Yates shuffle. */
  shuffle(a: Int32Array | Uint32Array | number[]): void {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      const t = a[i]; a[i] = a[j]; a[j] = t;
    }
  }
}

/** Seed of the i-th parameter tensor of a model seeded with `seed` (docs/abi.md). */
export function tensorSeed(seed: number, index: number): number {
  return (seed + Math.imul(0x9e3779b9, index + 1)) >>> 0;
}

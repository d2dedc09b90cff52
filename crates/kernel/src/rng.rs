//! The seeded generator, mirrored bit for bit from `ts/reference/rng.ts` (docs/abi.md,
//! "Generator"): SplitMix32 seeding → xoshiro128** → uniform in [0, 1) with 24 bits → Box–Muller.
//! All arithmetic on the state is wrapping u32; the reals are f64 (JavaScript numbers).

/// One SplitMix32 step: returns (output, next state).
fn splitmix32(state: u32) -> (u32, u32) {
    let s = state.wrapping_add(0x9E37_79B9);
    let mut z = s;
    z = (z ^ (z >> 16)).wrapping_mul(0x85EB_CA6B);
    z = (z ^ (z >> 13)).wrapping_mul(0xC2B2_AE35);
    (z ^ (z >> 16), s)
}

/// xoshiro128** seeded by four SplitMix32 outputs (s0..s3 in order).
#[derive(Clone, Debug)]
pub struct Rng {
    s: [u32; 4],
}

/// 2⁻²⁴: `(next >> 8) · 2⁻²⁴` is exactly representable in f32.
const TWO_POW_M24: f64 = 1.0 / 16_777_216.0;
/// 2⁻²⁵ replaces u1 = 0 in Box–Muller (ln 0 would be −∞).
const TWO_POW_M25: f64 = 1.0 / 33_554_432.0;

impl Rng {
    pub fn new(seed: u32) -> Self {
        let mut st = seed;
        let mut s = [0u32; 4];
        for w in s.iter_mut() {
            let (o, n) = splitmix32(st);
            *w = o;
            st = n;
        }
        Rng { s }
    }

    /// xoshiro128**: result = rotl(s1·5, 7)·9, then the linear state transition.
    pub fn next_u32(&mut self) -> u32 {
        let [s0, s1, s2, s3] = &mut self.s;
        let result = s1.wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = *s1 << 9;
        *s2 ^= *s0;
        *s3 ^= *s1;
        *s1 ^= *s2;
        *s0 ^= *s3;
        *s2 ^= t;
        *s3 = s3.rotate_left(11);
        result
    }

    /// u ∈ [0, 1) with 24 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u32() >> 8) as f64 * TWO_POW_M24
    }

    /// Standard normal: the first value of Box–Muller, u1 drawn before u2.
    pub fn normal(&mut self) -> f64 {
        let mut u1 = self.uniform();
        let u2 = self.uniform();
        if u1 == 0.0 {
            u1 = TWO_POW_M25;
        }
        (-2.0 * u1.ln()).sqrt() * (2.0 * core::f64::consts::PI * u2).cos()
    }

    /// Standard normal truncated to [−2, 2]: draw again while |z| > 2 (Keras's TruncatedNormal).
    pub fn truncated_normal(&mut self) -> f64 {
        loop {
            let z = self.normal();
            if z.abs() <= 2.0 {
                return z;
            }
        }
    }
}

/// Seed of the i-th parameter tensor (layout order W₀, b₀, W₁, …) of a model seeded with `seed`.
pub fn tensor_seed(seed: u32, index: u32) -> u32 {
    seed.wrapping_add(0x9E37_79B9u32.wrapping_mul(index.wrapping_add(1)))
}

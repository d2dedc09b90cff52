//! Reductions over one block of the statistics (≤ `stats::BLOCK` elements), in f32.
//!
//! Why a module of its own: a running f32 sum is a chain of dependent adds that LLVM may not
//! reorder, so it neither vectorises nor overlaps; independent partial sums fix that, but
//! LLVM's SLP vectoriser turns the portable lane-array form into shuffles on wasm. So the
//! simd128 build spells the two-accumulator f32x4 loop out with `core::arch::wasm32` (all safe
//! intrinsics: values, not pointers), and every other target uses the portable lane form.
//! Both return f32 partial results; callers add them into f64 totals per block.

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod imp {
    use core::arch::wasm32::*;

    /// Two unaligned v128 loads (the lane-by-lane `f32x4(k[0], …)` form may compile to scalar
    /// loads and lane inserts).
    #[inline(always)]
    fn ld(k: &[f32; 8]) -> (v128, v128) {
        let p = k.as_ptr() as *const v128;
        // SAFETY: k is 32 readable bytes; read_unaligned has no alignment requirement.
        unsafe { (core::ptr::read_unaligned(p), core::ptr::read_unaligned(p.add(1))) }
    }
    #[inline(always)]
    fn hsum(v: v128) -> f32 {
        (f32x4_extract_lane::<0>(v) + f32x4_extract_lane::<1>(v))
            + (f32x4_extract_lane::<2>(v) + f32x4_extract_lane::<3>(v))
    }
    /// max that keeps m where |x| is NaN
    #[inline(always)]
    fn vmax(m: v128, a: v128) -> v128 {
        // pmax(m, a) = m < a ? a : m: one instruction (maxps on x86) where compare + select is three
        f32x4_pmax(m, a)
    }

    /// (Σx², max |x|)
    pub fn sq_max(x: &[f32]) -> (f32, f32) {
        let (c, rest) = x.as_chunks::<8>();
        let z = f32x4_splat(0.0);
        let (mut s0, mut s1, mut m0, mut m1) = (z, z, z, z);
        for k in c {
            let (a, b) = ld(k);
            s0 = f32x4_add(s0, f32x4_mul(a, a));
            s1 = f32x4_add(s1, f32x4_mul(b, b));
            m0 = vmax(m0, f32x4_abs(a));
            m1 = vmax(m1, f32x4_abs(b));
        }
        SqMax { s: f32x4_add(s0, s1), m: vmax(m0, m1) }.finish(rest)
    }

    /// (Σx, Σx²)
    pub fn sum_sq(x: &[f32]) -> (f32, f32) {
        let (c, rest) = x.as_chunks::<8>();
        let z = f32x4_splat(0.0);
        let (mut s0, mut s1, mut q0, mut q1) = (z, z, z, z);
        for k in c {
            let (a, b) = ld(k);
            s0 = f32x4_add(s0, a);
            s1 = f32x4_add(s1, b);
            q0 = f32x4_add(q0, f32x4_mul(a, a));
            q1 = f32x4_add(q1, f32x4_mul(b, b));
        }
        let (mut s, mut q) = (hsum(f32x4_add(s0, s1)), hsum(f32x4_add(q0, q1)));
        for &v in rest {
            s += v;
            q += v * v;
        }
        (s, q)
    }

    /// Σ|x|
    pub fn abs_sum(x: &[f32]) -> f32 {
        let (c, rest) = x.as_chunks::<8>();
        let (mut s0, mut s1) = (f32x4_splat(0.0), f32x4_splat(0.0));
        for k in c {
            let (a, b) = ld(k);
            s0 = f32x4_add(s0, f32x4_abs(a));
            s1 = f32x4_add(s1, f32x4_abs(b));
        }
        hsum(f32x4_add(s0, s1)) + rest.iter().map(|v| v.abs()).sum::<f32>()
    }

    /// Σx²
    pub fn sq(x: &[f32]) -> f32 {
        let (c, rest) = x.as_chunks::<8>();
        let (mut s0, mut s1) = (f32x4_splat(0.0), f32x4_splat(0.0));
        for k in c {
            let (a, b) = ld(k);
            s0 = f32x4_add(s0, f32x4_mul(a, a));
            s1 = f32x4_add(s1, f32x4_mul(b, b));
        }
        hsum(f32x4_add(s0, s1)) + rest.iter().map(|&v| v * v).sum::<f32>()
    }

    /// (Σ(a − b)², Σb², Σa²) for equal-length b, a
    pub fn diff3(b: &[f32], a: &[f32]) -> (f32, f32, f32) {
        let (bc, brest) = b.as_chunks::<8>();
        let (ac, arest) = a.as_chunks::<8>();
        let z = f32x4_splat(0.0);
        let (mut d0, mut d1, mut b0, mut b1, mut a0, mut a1) = (z, z, z, z, z, z);
        for (bk, ak) in bc.iter().zip(ac) {
            let (x0, x1) = ld(bk);
            let (y0, y1) = ld(ak);
            let (e0, e1) = (f32x4_sub(y0, x0), f32x4_sub(y1, x1));
            d0 = f32x4_add(d0, f32x4_mul(e0, e0));
            d1 = f32x4_add(d1, f32x4_mul(e1, e1));
            b0 = f32x4_add(b0, f32x4_mul(x0, x0));
            b1 = f32x4_add(b1, f32x4_mul(x1, x1));
            a0 = f32x4_add(a0, f32x4_mul(y0, y0));
            a1 = f32x4_add(a1, f32x4_mul(y1, y1));
        }
        Diff3 { d: f32x4_add(d0, d1), b: f32x4_add(b0, b1), a: f32x4_add(a0, a1) }.finish(brest, arest)
    }

    /// Running (Σx², max |x|) of a loop that produces its values one f32x4 at a time (the fused
    /// statistics update, optim.rs): `add` each vector, then `finish` with the block's last
    /// (< 4) values; `sq_max` ends through `finish` too. One accumulator per sum, not `sq_max`'s two: that loop is bound by the
    /// update's divider, not by add latency, and with two the accumulators and the update's
    /// values no longer fit V8's 16 registers. Each lane sums a quarter of the block (≤ 64
    /// terms of a 256-element block).
    pub struct SqMax {
        s: v128,
        m: v128,
    }

    impl SqMax {
        #[inline(always)]
        pub fn new() -> Self {
            SqMax { s: f32x4_splat(0.0), m: f32x4_splat(0.0) }
        }
        #[inline(always)]
        pub fn add(&mut self, a: v128) {
            self.s = f32x4_add(self.s, f32x4_mul(a, a));
            self.m = vmax(self.m, f32x4_abs(a));
        }
        #[inline(always)]
        pub fn finish(self, rest: &[f32]) -> (f32, f32) {
            let mut mx = f32x4_extract_lane::<0>(self.m);
            for v in [f32x4_extract_lane::<1>(self.m), f32x4_extract_lane::<2>(self.m), f32x4_extract_lane::<3>(self.m)] {
                if v > mx {
                    mx = v;
                }
            }
            let mut s = hsum(self.s);
            for &v in rest {
                s += v * v;
                if v.abs() > mx {
                    mx = v.abs();
                }
            }
            (s, mx)
        }
    }

    /// Running (Σ(a − b)², Σb², Σa²), one f32x4 pair at a time (see `SqMax`; `diff3` ends through
    /// `finish` too).
    pub struct Diff3 {
        d: v128,
        b: v128,
        a: v128,
    }

    impl Diff3 {
        #[inline(always)]
        pub fn new() -> Self {
            let z = f32x4_splat(0.0);
            Diff3 { d: z, b: z, a: z }
        }
        #[inline(always)]
        pub fn add(&mut self, x: v128, y: v128) {
            let e = f32x4_sub(y, x);
            self.d = f32x4_add(self.d, f32x4_mul(e, e));
            self.b = f32x4_add(self.b, f32x4_mul(x, x));
            self.a = f32x4_add(self.a, f32x4_mul(y, y));
        }
        #[inline(always)]
        pub fn finish(self, brest: &[f32], arest: &[f32]) -> (f32, f32, f32) {
            let (mut d, mut bs, mut as_) = (hsum(self.d), hsum(self.b), hsum(self.a));
            for (&x, &y) in brest.iter().zip(arest) {
                d += (y - x) * (y - x);
                bs += x * x;
                as_ += y * y;
            }
            (d, bs, as_)
        }
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod imp {
    const L: usize = 8;

    #[inline(always)]
    fn total(x: &[f32; L]) -> f32 {
        x.iter().sum()
    }

    /// (Σx², max |x|)
    pub fn sq_max(x: &[f32]) -> (f32, f32) {
        let (mut s, mut m) = ([0.0f32; L], [0.0f32; L]);
        let (c, rest) = x.as_chunks::<L>();
        for k in c {
            for j in 0..L {
                s[j] += k[j] * k[j];
                // `if a > m` rather than f32::max: NaN never wins either way
                if k[j].abs() > m[j] {
                    m[j] = k[j].abs();
                }
            }
        }
        let mut mx = m.iter().fold(0.0f32, |a, &v| if v > a { v } else { a });
        let mut sum = total(&s);
        for &v in rest {
            sum += v * v;
            if v.abs() > mx {
                mx = v.abs();
            }
        }
        (sum, mx)
    }

    /// (Σx, Σx²)
    pub fn sum_sq(x: &[f32]) -> (f32, f32) {
        let (mut s, mut q) = ([0.0f32; L], [0.0f32; L]);
        let (c, rest) = x.as_chunks::<L>();
        for k in c {
            for j in 0..L {
                s[j] += k[j];
                q[j] += k[j] * k[j];
            }
        }
        let (mut s, mut q) = (total(&s), total(&q));
        for &v in rest {
            s += v;
            q += v * v;
        }
        (s, q)
    }

    /// Σ|x|
    pub fn abs_sum(x: &[f32]) -> f32 {
        let mut s = [0.0f32; L];
        let (c, rest) = x.as_chunks::<L>();
        for k in c {
            for j in 0..L {
                s[j] += k[j].abs();
            }
        }
        total(&s) + rest.iter().map(|v| v.abs()).sum::<f32>()
    }

    /// Σx²
    pub fn sq(x: &[f32]) -> f32 {
        let mut s = [0.0f32; L];
        let (c, rest) = x.as_chunks::<L>();
        for k in c {
            for j in 0..L {
                s[j] += k[j] * k[j];
            }
        }
        total(&s) + rest.iter().map(|&v| v * v).sum::<f32>()
    }

    /// (Σ(a − b)², Σb², Σa²) for equal-length b, a
    pub fn diff3(b: &[f32], a: &[f32]) -> (f32, f32, f32) {
        let (mut d2, mut b2, mut a2) = ([0.0f32; L], [0.0f32; L], [0.0f32; L]);
        let (bc, brest) = b.as_chunks::<L>();
        let (ac, arest) = a.as_chunks::<L>();
        for (bk, ak) in bc.iter().zip(ac) {
            for j in 0..L {
                let d = ak[j] - bk[j];
                d2[j] += d * d;
                b2[j] += bk[j] * bk[j];
                a2[j] += ak[j] * ak[j];
            }
        }
        let (mut d, mut bs, mut as_) = (total(&d2), total(&b2), total(&a2));
        for (&x, &y) in brest.iter().zip(arest) {
            d += (y - x) * (y - x);
            bs += x * x;
            as_ += y * y;
        }
        (d, bs, as_)
    }
}

pub use imp::{abs_sum, diff3, sq, sq_max, sum_sq};
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub use imp::{Diff3, SqMax};

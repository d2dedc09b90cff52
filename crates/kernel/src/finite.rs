//! The first non-finite value of a slice: `Model::train_step`'s check of its input batch.
//!
//! Why in the kernel: a training step reads its batch while it is in cache (just gathered), so
//! scanning it costs 5.5 µs (128 MNIST rows, 100k values); TypeScript scanning a whole
//! dataset before `fit()` reads it from RAM once more (60,000 MNIST images, 188 MB: ~20 ms on
//! every `fit()` call, 3–5% of a one-epoch call).

/// Values per block of the fast pass. A block is one branch-free reduction (has_non_finite);
/// only a block holding a bad value is scanned again for its index, so the common all-finite
/// case is the fast pass alone.
const BLOCK: usize = 512;
/// f32 exponent bits: all ones exactly for NaN and ±Inf.
const EXP: u32 = 0x7f80_0000;

/// Index of the first NaN/±Inf in `x`, or None.
pub fn first_non_finite(x: &[f32]) -> Option<usize> {
    for (b, blk) in x.chunks(BLOCK).enumerate() {
        if has_non_finite(blk) {
            return blk.iter().position(|v| !v.is_finite()).map(|i| b * BLOCK + i);
        }
    }
    None
}

/// Whether blk holds a NaN/±Inf. simd128: the largest masked exponent of each lane (two
/// accumulators over 8 values a step: v128.and + i32x4.max_u per 4 values), which equals EXP
/// exactly when one of the lane's values had every exponent bit set. Spelled out because it
/// halves the portable fold's time as LLVM compiles it: a 128-row MNIST batch (100,352 values)
/// is scanned in 5.5 µs instead of 11.1 µs (a step whose last value is NaN, simd build), 0.4%
/// of a one-thread training step at that batch.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn has_non_finite(blk: &[f32]) -> bool {
    use core::arch::wasm32::*;
    let e = u32x4_splat(EXP);
    let (mut m0, mut m1) = (u32x4_splat(0), u32x4_splat(0));
    let mut it = blk.chunks_exact(8);
    for k in &mut it {
        let p = k.as_ptr() as *const v128;
        // SAFETY: k is 8 readable f32 (32 bytes); read_unaligned has no alignment requirement.
        let (a, b) = unsafe { (p.read_unaligned(), p.add(1).read_unaligned()) };
        m0 = u32x4_max(m0, v128_and(a, e));
        m1 = u32x4_max(m1, v128_and(b, e));
    }
    v128_any_true(i32x4_eq(u32x4_max(m0, m1), e)) || it.remainder().iter().any(|v| !v.is_finite())
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn has_non_finite(blk: &[f32]) -> bool {
    blk.iter().fold(0u32, |acc, v| acc | ((v.to_bits() & EXP == EXP) as u32)) != 0
}

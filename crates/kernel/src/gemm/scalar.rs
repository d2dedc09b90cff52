//! Scalar fallback micro-kernel (engines without wasm SIMD, and native test builds).
//!
//! 4×4 tile: 16 f32 accumulators. On x86 V8 keeps wasm f32 locals in the 16 XMM registers, so
//! 16 accumulators plus the 4+4 operands spill a little; 4×4 measured no slower than 4×2 or
//! 2×4 in the scalar build, and it reuses each loaded value 4 times.
use super::{store_tile_partial, Kernel};

pub(crate) struct KernelScalar;

const MR: usize = 4;
const NR: usize = 4;

impl Kernel for KernelScalar {
    const MR: usize = MR;
    const NR: usize = NR;

    #[inline(always)]
    unsafe fn kernel(
        kc: usize, alpha: f32, a: *const f32, a_rs: usize, a_ks: usize, b: *const f32, b_ks: usize,
        beta: f32, c: *mut f32, ldc: usize, rows: usize, cols: usize,
    ) {
        let mut acc = [0.0f32; MR * NR];
        let (mut a, mut b) = (a, b);
        for _ in 0..kc {
            let av = [*a, *a.add(a_rs), *a.add(2 * a_rs), *a.add(3 * a_rs)];
            let bv = [*b, *b.add(1), *b.add(2), *b.add(3)];
            for i in 0..MR {
                for j in 0..NR {
                    acc[i * NR + j] += av[i] * bv[j];
                }
            }
            a = a.add(a_ks);
            b = b.add(b_ks);
        }
        store_tile_partial(&acc, NR, alpha, beta, c, ldc, rows, cols);
    }
}

//! General matrix multiply on f32, row-major.
//!
//! C ← α·op(A)·op(B) + β·C, C is (m, n), op(A) is (m, k), op(B) is (k, n).
//! `Trans::N`: the operand is stored as written, with row stride `ld` (A is (m, k), B is (k, n)).
//! `Trans::T`: it is stored transposed (A is (k, m), B is (n, k)).
//! If β = 0, C is never read (it may hold NaN). m, n or k = 0 are valid.
//!
//! PLACEHOLDER: a naive triple loop so the rest of the kernel can be written and tested;
//! replaced by the packed SIMD implementation.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trans {
    N,
    T,
}

/// Contract above. Slices must be long enough for the given shapes and strides (checked by
/// debug assertions; the ABI layer validates before calling).
#[allow(clippy::too_many_arguments)]
pub fn sgemm(
    ta: Trans, tb: Trans, m: usize, n: usize, k: usize, alpha: f32,
    a: &[f32], lda: usize, b: &[f32], ldb: usize, beta: f32, c: &mut [f32], ldc: usize,
) {
    for i in 0..m {
        for j in 0..n {
            let mut s = 0.0f32;
            for p in 0..k {
                let av = match ta { Trans::N => a[i * lda + p], Trans::T => a[p * lda + i] };
                let bv = match tb { Trans::N => b[p * ldb + j], Trans::T => b[j * ldb + p] };
                s += av * bv;
            }
            let cij = &mut c[i * ldc + j];
            *cij = if beta == 0.0 { alpha * s } else { alpha * s + beta * *cij };
        }
    }
}

//! Dense layer: forward `z = x·W + b`, `a = f(z)`, and backward, over the three GEMM cases.
//! x is (batch, in), W is (in, out) row-major (Keras's kernel layout), b is (out) or empty,
//! z and a are (batch, out).
use crate::activations::{self, Act};
use crate::gemm::{sgemm, Trans};

/// Forward: z ← x·W (GEMM with β = 0, so z's old contents are never read), then one pass
/// z ← z + b, a ← f(z).
#[allow(clippy::too_many_arguments)]
pub fn forward(x: &[f32], w: &[f32], b: &[f32], act: Act, batch: usize, inp: usize, out: usize,
               z: &mut [f32], a: &mut [f32]) {
    let z = &mut z[..batch * out];
    sgemm(Trans::N, Trans::N, batch, out, inp, 1.0, x, inp, w, out, 0.0, z, out);
    activations::forward_bias(act, z, &mut a[..batch * out], b, out);
}

/// Backward of `z = x·W + b` given dz = dL/dz (batch, out):
///   dW = xᵀ·dz   (in, out)   — GEMM with A = x stored (batch, in) read transposed;
///   db = Σ_rows dz (out)     — empty when the layer has no bias;
///   dx = dz·Wᵀ   (batch, in) — GEMM with B = W stored (in, out) read transposed; skipped
///                              when `dx` is None (the first layer needs no input gradient).
/// dW, db and dx are overwritten (β = 0), not accumulated.
#[allow(clippy::too_many_arguments)]
pub fn backward(x: &[f32], w: &[f32], dz: &[f32], batch: usize, inp: usize, out: usize,
                dw: &mut [f32], db: &mut [f32], dx: Option<&mut [f32]>) {
    sgemm(Trans::T, Trans::N, inp, out, batch, 1.0, x, inp, dz, out, 0.0, dw, out);
    bias_grad(dz, batch, out, db);
    if let Some(dx) = dx {
        sgemm(Trans::N, Trans::T, batch, inp, out, 1.0, dz, out, w, out, 0.0, &mut dx[..batch * inp], inp);
    }
}

/// db = Σ_rows dz over `batch` rows of `out`, row after row (the order every path that computes
/// a bias gradient shares, so that they agree bit for bit); nothing when db is empty (no bias).
pub fn bias_grad(dz: &[f32], batch: usize, out: usize, db: &mut [f32]) {
    if db.is_empty() {
        return;
    }
    db.fill(0.0);
    if out > 0 {
        for row in dz[..batch * out].chunks_exact(out) {
            db.iter_mut().zip(row).for_each(|(d, &g)| *d += g);
        }
    }
}

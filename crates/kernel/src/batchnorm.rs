//! BatchNormalization over the feature axis of x (batch, f), Keras 3's equations
//! (keras/src/layers/normalization/batch_normalization.py):
//!
//!   training:  μ_j = mean_i x_ij;  σ²_j = mean_i (x_ij − μ_j)²  (biased, as ops.moments)
//!              x̂ = (x − μ)/sqrt(σ² + ε);  y = γ·x̂ + β
//!              moving_mean ← moving_mean·momentum + μ·(1 − momentum)
//!              moving_var  ← moving_var·momentum + σ²·(1 − momentum)  (biased σ², as Keras 3;
//!              PyTorch keeps the unbiased N/(N−1)·σ² here)
//!   inference: y = γ·(x − moving_mean)/sqrt(moving_var + ε) + β
//! γ is 1 without `scale`, β 0 without `center`. Defaults momentum 0.99, ε 1e-3 (Keras).
//! Mean and variance are reduced in f64 (two passes: mean, then Σ(x − μ)², no cancellation).

/// Training forward. x, xhat, y are (batch, f); gamma/beta are (f) or empty (scale/center off);
/// inv receives 1/sqrt(σ² + ε) per feature; sums is f64 scratch of ≥ 2f. `moving` is
/// (moving_mean (f), moving_var (f)) to update, or None to leave them (forward_backward).
#[allow(clippy::too_many_arguments)]
pub fn forward_train(x: &[f32], batch: usize, f: usize, gamma: &[f32], beta: &[f32], eps: f32,
                     momentum: f32, moving: Option<(&mut [f32], &mut [f32])>, xhat: &mut [f32],
                     y: &mut [f32], inv: &mut [f32], sums: &mut [f64]) {
    let (mean, var) = sums[..2 * f].split_at_mut(f);
    mean.fill(0.0);
    var.fill(0.0);
    let x = &x[..batch * f];
    for row in x.chunks_exact(f) {
        mean.iter_mut().zip(row).for_each(|(s, &v)| *s += v as f64);
    }
    let nb = batch as f64;
    mean.iter_mut().for_each(|s| *s /= nb);
    for row in x.chunks_exact(f) {
        var.iter_mut().zip(row).zip(mean.iter()).for_each(|((s, &v), &m)| { let d = v as f64 - m; *s += d * d });
    }
    var.iter_mut().for_each(|s| *s /= nb);
    for j in 0..f {
        inv[j] = (1.0 / (var[j] + eps as f64).sqrt()) as f32;
    }
    for ((xr, hr), yr) in x.chunks_exact(f).zip(xhat.chunks_exact_mut(f)).zip(y.chunks_exact_mut(f)) {
        for j in 0..f {
            let h = ((xr[j] as f64 - mean[j]) * inv[j] as f64) as f32;
            hr[j] = h;
            yr[j] = scale_shift(h, gamma, beta, j);
        }
    }
    if let Some((mm, mv)) = moving {
        let k = 1.0 - momentum as f64;
        for j in 0..f {
            mm[j] = (mm[j] as f64 * momentum as f64 + mean[j] * k) as f32;
            mv[j] = (mv[j] as f64 * momentum as f64 + var[j] * k) as f32;
        }
    }
}

#[inline(always)]
fn scale_shift(h: f32, gamma: &[f32], beta: &[f32], j: usize) -> f32 {
    let g = if gamma.is_empty() { h } else { gamma[j] * h };
    if beta.is_empty() { g } else { g + beta[j] }
}

/// Inference forward with the moving statistics: y = γ·(x − mm)/sqrt(mv + ε) + β. x, y (batch, f).
/// `inv` is scratch of f floats.
#[allow(clippy::too_many_arguments)]
pub fn forward_infer(x: &[f32], batch: usize, f: usize, gamma: &[f32], beta: &[f32], eps: f32,
                     mm: &[f32], mv: &[f32], y: &mut [f32], inv: &mut [f32]) {
    for j in 0..f {
        inv[j] = (1.0 / (mv[j] as f64 + eps as f64).sqrt()) as f32;
    }
    for (xr, yr) in x[..batch * f].chunks_exact(f).zip(y.chunks_exact_mut(f)) {
        for j in 0..f {
            yr[j] = scale_shift((xr[j] - mm[j]) * inv[j], gamma, beta, j);
        }
    }
}

/// Training-mode backward given dy = dL/dy (batch, f), the forward's x̂ and inv = 1/sqrt(σ² + ε):
///   forward `y = γ·x̂ + β`            →  dγ_j = Σ_i dy_ij·x̂_ij,  dβ_j = Σ_i dy_ij
///   forward `x̂ = (x − μ)·inv`, with μ and σ² functions of the whole column:
///     dx_ij = γ_j·inv_j/N · (N·dy_ij − dβ_j − x̂_ij·dγ_j)
///   (the standard result: dx̂ = γ·dy, dx = inv/N·(N·dx̂ − Σdx̂ − x̂·Σ dx̂·x̂)).
/// dgamma/dbeta are overwritten (each empty when its parameter is off; the sums are still
/// needed for dx and kept in `sums`, f64 scratch of ≥ 2f). dx (batch, f) is skipped when None.
#[allow(clippy::too_many_arguments)]
pub fn backward(dy: &[f32], xhat: &[f32], inv: &[f32], gamma: &[f32], batch: usize, f: usize,
                dgamma: &mut [f32], dbeta: &mut [f32], dx: Option<&mut [f32]>, sums: &mut [f64]) {
    let (sg, sb) = sums[..2 * f].split_at_mut(f);
    sg.fill(0.0);
    sb.fill(0.0);
    for (dr, hr) in dy[..batch * f].chunks_exact(f).zip(xhat.chunks_exact(f)) {
        for j in 0..f {
            sg[j] += dr[j] as f64 * hr[j] as f64;
            sb[j] += dr[j] as f64;
        }
    }
    if !dgamma.is_empty() {
        dgamma.iter_mut().zip(sg.iter()).for_each(|(d, &s)| *d = s as f32);
    }
    if !dbeta.is_empty() {
        dbeta.iter_mut().zip(sb.iter()).for_each(|(d, &s)| *d = s as f32);
    }
    if let Some(dx) = dx {
        let nb = batch as f64;
        for ((dr, hr), xr) in dy[..batch * f].chunks_exact(f).zip(xhat.chunks_exact(f)).zip(dx.chunks_exact_mut(f)) {
            for j in 0..f {
                let g = if gamma.is_empty() { 1.0 } else { gamma[j] as f64 };
                xr[j] = (g * inv[j] as f64 / nb * (nb * dr[j] as f64 - sb[j] - hr[j] as f64 * sg[j])) as f32;
            }
        }
    }
}

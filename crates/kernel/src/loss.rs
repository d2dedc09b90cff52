//! Losses with their gradients, and accuracy counting.
//!
//! Reductions follow Keras (keras/src/losses/losses.py): the returned value is the SUM over the
//! batch of per-sample losses (the model divides by the batch for the mean); the per-sample loss
//! sums over classes for (sparse) categorical cross-entropy and averages over outputs for binary
//! cross-entropy and mean squared error. Gradients are of the MEAN loss, so each carries the
//! factor 1/batch (and 1/cols for the averaged losses).
//!
//! Two input forms (docs/abi.md):
//! - logits: softmax/sigmoid is applied inside the loss, via log-sum-exp / the stable logits
//!   form. The model uses this for softmax + CE and sigmoid + BCE (on z, so the activation's
//!   backward is skipped) and for `from_logits` (on the last layer's output).
//! - probabilities: the loss on the activation's output as Keras writes it
//!   (keras/src/backend/numpy/nn.py): CE normalises each row to sum 1, then clips to
//!   [1e-7, 1 − 1e-7]; BCE clips. Clipped entries get zero gradient (as `clip`'s derivative).
use crate::activations::sigmoid;

/// Keras's `backend.epsilon()`.
pub const EPS: f32 = 1e-7;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LossKind {
    SparseCategoricalCrossentropy,
    CategoricalCrossentropy,
    BinaryCrossentropy,
    MeanSquaredError,
}

impl LossKind {
    pub fn from_code(code: u32) -> Option<Self> {
        Some(match code {
            0 => LossKind::SparseCategoricalCrossentropy,
            1 => LossKind::CategoricalCrossentropy,
            2 => LossKind::BinaryCrossentropy,
            3 => LossKind::MeanSquaredError,
            _ => return None,
        })
    }
}

/// Targets: (batch) integer labels for sparse CE, else (batch, cols) reals.
#[derive(Clone, Copy, Debug)]
pub enum Targets<'a> {
    Sparse(&'a [i32]),
    Dense(&'a [f32]),
}

impl<'a> Targets<'a> {
    /// Rows [r0, r1) of the targets of a (batch, cols) output.
    pub fn rows(self, r0: usize, r1: usize, cols: usize) -> Targets<'a> {
        match self {
            Targets::Sparse(l) => Targets::Sparse(&l[r0..r1]),
            Targets::Dense(t) => Targets::Dense(&t[r0 * cols..r1 * cols]),
        }
    }
}

/// How the loss reads the last layer: `Logits` applies softmax/sigmoid inside the loss.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Input {
    Logits,
    Probs,
}

/// Sum over the batch of per-sample losses of `out` (batch, cols); if `grad` is given, writes
/// d(mean loss)/d(out) into it (batch, cols). `out` holds logits or probabilities per `input`.
/// Targets must be `Sparse` exactly for sparse CE (the ABI layer reads y accordingly).
pub fn loss_and_grad(kind: LossKind, input: Input, out: &[f32], y: Targets, cols: usize,
                     grad: Option<&mut [f32]>) -> f64 {
    let batch = if cols == 0 { 0 } else { out.len() / cols };
    loss_and_grad_of(kind, input, out, y, cols, batch, grad)
}

/// `loss_and_grad` on some rows of a batch of `mean_over` rows (a training step's chunk,
/// model.rs): the sum is over the given rows, the gradient is that of the mean over all
/// `mean_over` rows, so chunks' gradients add up to the whole batch's.
pub fn loss_and_grad_of(kind: LossKind, input: Input, out: &[f32], y: Targets, cols: usize,
                        mean_over: usize, grad: Option<&mut [f32]>) -> f64 {
    if cols == 0 || out.is_empty() {
        return 0.0;
    }
    let batch = mean_over;
    use LossKind::*;
    match (kind, input) {
        (SparseCategoricalCrossentropy | CategoricalCrossentropy, Input::Logits) =>
            softmax_ce(out, y, cols, batch, grad),
        (SparseCategoricalCrossentropy | CategoricalCrossentropy, Input::Probs) =>
            prob_ce(out, y, cols, batch, grad),
        (BinaryCrossentropy, Input::Logits) => sigmoid_bce(out, y, cols, batch, grad),
        (BinaryCrossentropy, Input::Probs) => prob_bce(out, y, cols, batch, grad),
        (MeanSquaredError, _) => mse(out, y, cols, batch, grad),
    }
}

/// Target row `r` as a closure c ↦ y_c (sparse labels become one-hot; an out-of-range label
/// gives an all-zero row, which TypeScript never passes).
#[inline(always)]
fn target(y: Targets, r: usize, cols: usize, c: usize) -> f32 {
    match y {
        Targets::Sparse(l) => (l.get(r).copied() == Some(c as i32)) as u32 as f32,
        Targets::Dense(t) => t.get(r * cols + c).copied().unwrap_or(0.0),
    }
}

/// Softmax cross-entropy on logits z, per row: L = Σ_c y_c (lse(z) − z_c) with
/// lse(z) = m + ln Σ exp(z − m), m = max z. dL/dz_j = (p_j Σ_c y_c − y_j)/batch, p = softmax(z).
fn softmax_ce(z: &[f32], y: Targets, cols: usize, batch: usize, mut grad: Option<&mut [f32]>) -> f64 {
    let inv_b = 1.0 / batch as f32;
    let mut total = 0.0f64;
    for (r, zr) in z.chunks_exact(cols).enumerate() {
        let m = zr.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        let s: f32 = zr.iter().map(|&v| (v - m).exp()).sum();
        let lse = m + s.ln();
        match y {
            Targets::Sparse(l) => {
                let lab = l.get(r).copied().unwrap_or(-1);
                let zy = if lab >= 0 && (lab as usize) < cols { zr[lab as usize] } else { f32::NAN };
                total += (lse - zy) as f64;
                if let Some(g) = grad.as_deref_mut() {
                    let gr = &mut g[r * cols..(r + 1) * cols];
                    let k = inv_b / s;
                    gr.iter_mut().zip(zr).for_each(|(gi, &zi)| *gi = (zi - m).exp() * k);
                    if lab >= 0 && (lab as usize) < cols {
                        gr[lab as usize] -= inv_b;
                    }
                }
            }
            Targets::Dense(t) => {
                let tr = &t[r * cols..(r + 1) * cols];
                let (sy, syz) = tr.iter().zip(zr).fold((0.0f32, 0.0f32), |(a, b), (&ti, &zi)| (a + ti, b + ti * zi));
                total += (lse * sy - syz) as f64;
                if let Some(g) = grad.as_deref_mut() {
                    let gr = &mut g[r * cols..(r + 1) * cols];
                    let k = sy / s;
                    gr.iter_mut().zip(zr.iter().zip(tr)).for_each(|(gi, (&zi, &ti))| {
                        *gi = ((zi - m).exp() * k - ti) * inv_b
                    });
                }
            }
        }
    }
    total
}

/// CE on probabilities p (Keras, non-logits): q = p/Σp, L = −Σ_c y_c ln clip(q_c, ε, 1−ε).
/// With g_c = dL/dq_c = −y_c/q_c (0 where clipped): dL/dp_j = (g_j − Σ_c g_c q_c)/Σp.
fn prob_ce(p: &[f32], y: Targets, cols: usize, batch: usize, mut grad: Option<&mut [f32]>) -> f64 {
    let inv_b = 1.0 / batch as f32;
    let mut total = 0.0f64;
    for (r, pr) in p.chunks_exact(cols).enumerate() {
        let s: f32 = pr.iter().sum();
        let inv_s = 1.0 / s;
        let mut loss = 0.0f32;
        let mut dot = 0.0f32; // Σ g_c q_c
        for (c, &pc) in pr.iter().enumerate() {
            let yc = target(y, r, cols, c);
            if yc != 0.0 {
                let q = pc * inv_s;
                let qc = q.clamp(EPS, 1.0 - EPS);
                loss -= yc * qc.ln();
                if q == qc {
                    dot -= yc; // g_c q_c = −y_c
                }
            }
        }
        if let Targets::Sparse(l) = y {
            if !matches!(l.get(r), Some(&v) if v >= 0 && (v as usize) < cols) {
                loss = f32::NAN;
            }
        }
        total += loss as f64;
        if let Some(g) = grad.as_deref_mut() {
            let gr = &mut g[r * cols..(r + 1) * cols];
            for (c, (gi, &pc)) in gr.iter_mut().zip(pr).enumerate() {
                let yc = target(y, r, cols, c);
                let q = pc * inv_s;
                let gq = if yc != 0.0 && (EPS..=1.0 - EPS).contains(&q) { -yc / q } else { 0.0 };
                *gi = (gq - dot) * inv_s * inv_b;
            }
        }
    }
    total
}

/// BCE on logits z, per element ℓ = max(z, 0) − z·y + ln(1 + e^{−|z|}) (TensorFlow's
/// `sigmoid_cross_entropy_with_logits`), averaged over cols. dℓ/dz = σ(z) − y.
fn sigmoid_bce(z: &[f32], y: Targets, cols: usize, batch: usize, grad: Option<&mut [f32]>) -> f64 {
    let t = match y { Targets::Dense(t) => t, Targets::Sparse(_) => return f64::NAN };
    let k = 1.0 / (batch * cols) as f32;
    let mut total = 0.0f64;
    for (zr, tr) in z.chunks_exact(cols).zip(t.chunks_exact(cols)) {
        let s: f32 = zr.iter().zip(tr).map(|(&zi, &ti)| zi.max(0.0) - zi * ti + (-zi.abs()).exp().ln_1p()).sum();
        total += (s / cols as f32) as f64;
    }
    if let Some(g) = grad {
        g.iter_mut().zip(z.iter().zip(t)).for_each(|(gi, (&zi, &ti))| *gi = (sigmoid(zi) - ti) * k);
    }
    total
}

/// BCE on probabilities (Keras 3): p̂ = clip(p, ε, 1−ε), ℓ = −(y ln p̂ + (1−y) ln(1−p̂)),
/// averaged over cols. dℓ/dp = (p − y)/(p(1 − p)) where unclipped, else 0.
fn prob_bce(p: &[f32], y: Targets, cols: usize, batch: usize, grad: Option<&mut [f32]>) -> f64 {
    let t = match y { Targets::Dense(t) => t, Targets::Sparse(_) => return f64::NAN };
    let k = 1.0 / (batch * cols) as f32;
    let mut total = 0.0f64;
    for (pr, tr) in p.chunks_exact(cols).zip(t.chunks_exact(cols)) {
        let s: f32 = pr.iter().zip(tr).map(|(&pi, &ti)| {
            let q = pi.clamp(EPS, 1.0 - EPS);
            -(ti * q.ln() + (1.0 - ti) * (1.0 - q).ln())
        }).sum();
        total += (s / cols as f32) as f64;
    }
    if let Some(g) = grad {
        g.iter_mut().zip(p.iter().zip(t)).for_each(|(gi, (&pi, &ti))| {
            *gi = if (EPS..=1.0 - EPS).contains(&pi) { (pi - ti) / (pi * (1.0 - pi)) * k } else { 0.0 }
        });
    }
    total
}

/// MSE: ℓ = mean_c (a_c − y_c)², dℓ/da = 2(a − y)/cols.
fn mse(a: &[f32], y: Targets, cols: usize, batch: usize, grad: Option<&mut [f32]>) -> f64 {
    let t = match y { Targets::Dense(t) => t, Targets::Sparse(_) => return f64::NAN };
    let k = 2.0 / (batch * cols) as f32;
    let mut total = 0.0f64;
    for (ar, tr) in a.chunks_exact(cols).zip(t.chunks_exact(cols)) {
        let s: f32 = ar.iter().zip(tr).map(|(&ai, &ti)| (ai - ti) * (ai - ti)).sum();
        total += (s / cols as f32) as f64;
    }
    if let Some(g) = grad {
        g.iter_mut().zip(a.iter().zip(t)).for_each(|(gi, (&ai, &ti))| *gi = (ai - ti) * k);
    }
    total
}

/// Index of the first maximum of a row (NaN entries never win).
#[inline]
fn argmax(row: &[f32]) -> usize {
    let mut best = 0;
    let mut bv = f32::NEG_INFINITY;
    for (i, &v) in row.iter().enumerate() {
        if v > bv {
            bv = v;
            best = i;
        }
    }
    best
}

/// Correct predictions in `out` (batch, cols): argmax vs label / one-hot argmax; with a single
/// output column and real targets, (out ≥ threshold) vs (y ≥ 0.5), where threshold is 0.5 for
/// probabilities and 0 for logits.
pub fn count_correct(out: &[f32], y: Targets, cols: usize, threshold: f32) -> u32 {
    if cols == 0 {
        return 0;
    }
    let mut n = 0u32;
    for (r, row) in out.chunks_exact(cols).enumerate() {
        let ok = match y {
            Targets::Sparse(l) => l.get(r).copied() == Some(argmax(row) as i32),
            Targets::Dense(t) => {
                let tr = &t[r * cols..(r + 1) * cols];
                if cols == 1 { (row[0] >= threshold) == (tr[0] >= 0.5) } else { argmax(row) == argmax(tr) }
            }
        };
        n += ok as u32;
    }
    n
}

//! Gradient clipping, as Keras 3 applies it before the update
//! (keras/src/optimizers/base_optimizer.py, `_clip_gradients`; at most one option is set):
//! - clipvalue v: g ← clip(g, −v, v);
//! - clipnorm c, per tensor: g ← g·c / max(‖g‖, c)   (`clip_by_norm`);
//! - global_clipnorm c: g ← g·c / max(‖Θ_g‖, c) with the norm over all tensors
//!   (`clip_by_global_norm`).
//!
//! Dividing by max(‖g‖, c) with c > 0 never divides by zero, so no epsilon is needed (PyTorch's
//! `clip_grad_norm_` instead scales by c/(‖g‖ + 1e-6) when ‖g‖ > c). A non-finite norm leaves the
//! gradients as they are: the health monitor sees them through the statistics and the loss.
use core::ops::Range;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Clip {
    Off,
    Value(f32),
    Norm(f32),
    GlobalNorm(f32),
}

impl Clip {
    /// Whether `apply` needs the per-tensor sums of squares.
    pub fn needs_norms(self) -> bool {
        matches!(self, Clip::Norm(_) | Clip::GlobalNorm(_))
    }
}

/// Sum of squares of one tensor (the statistics' blocked, vectorised reduction; finite for
/// any finite input).
pub fn sumsq(g: &[f32]) -> f64 {
    crate::stats::sumsq(g)
}

/// Clips `grads` in place; `tensors` are the tensors' ranges and `sq` their sums of squares
/// (used only by the norm options). Returns whether any gradient changed.
pub fn apply(clip: Clip, grads: &mut [f32], tensors: &[Range<usize>], sq: &[f64]) -> bool {
    match clip {
        Clip::Off => false,
        Clip::Value(v) => {
            let mut changed = false;
            for g in grads.iter_mut() {
                let c = g.clamp(-v, v);
                changed |= c != *g && !g.is_nan();
                *g = c;
            }
            changed
        }
        Clip::Norm(c) => {
            let mut changed = false;
            for (t, &s) in tensors.iter().zip(sq) {
                changed |= scale_if_above(&mut grads[t.clone()], s.sqrt(), c);
            }
            changed
        }
        Clip::GlobalNorm(c) => {
            let norm = sq.iter().sum::<f64>().sqrt();
            if norm.is_finite() && norm > c as f64 {
                let k = (c as f64 / norm) as f32;
                grads.iter_mut().for_each(|g| *g *= k);
                true
            } else {
                false
            }
        }
    }
}

fn scale_if_above(g: &mut [f32], norm: f64, c: f32) -> bool {
    if norm.is_finite() && norm > c as f64 {
        let k = (c as f64 / norm) as f32;
        g.iter_mut().for_each(|v| *v *= k);
        true
    } else {
        false
    }
}

//! Weight constraints applied after each optimizer update (Keras 3,
//! keras/src/constraints/constraints.py), to a dense layer's kernel and bias.
//!
//! A tensor is seen as a matrix (rows, cols) row-major and every norm runs over axis 0, the rows,
//! one norm per column — Keras's default `axis=0`: for a kernel W (in, out) that is each unit's
//! incoming weight vector; a bias (out) is passed as (out, 1), one norm over the whole vector
//! (what axis 0 of a 1-D tensor means in Keras). ε = 1e-7 is Keras's `backend.epsilon()`.
//!
//!   max_norm(m):            n = ‖w_col‖;  w ← w · clip(n, 0, m) / (ε + n)
//!   non_neg:                w ← w · (w ≥ 0)          (NaN stays NaN)
//!   unit_norm:              w ← w / (ε + n)
//!   min_max_norm(lo, hi, r): w ← w · (r·clip(n, lo, hi) + (1 − r)·n) / (ε + n)
//!   min_max_value(lo, hi):  w ← clip(w, lo, hi)      (gradguard's; Keras has no built-in value
//!                                                     clip constraint. NaN stays NaN)
//! Norms are accumulated in f64 and the scale computed in f64, then applied in f32 (one rounding
//! per weight), so the f64 reference differs by at most one f32 rounding.

/// Keras's backend.epsilon().
pub const EPS: f64 = 1e-7;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Constraint {
    None,
    MaxNorm(f32),
    NonNeg,
    UnitNorm,
    MinMaxNorm { lo: f32, hi: f32, rate: f32 },
    MinMaxValue { lo: f32, hi: f32 },
}

impl Constraint {
    /// Spec words: kind, then three f32 parameters (docs/abi.md, spec version 2). None if the kind
    /// is unknown or a parameter is out of range (non-finite, negative norm, lo > hi, rate ∉ [0, 1]).
    pub fn from_words(kind: u32, p: [f32; 3]) -> Option<Constraint> {
        let fin = p.iter().all(|v| v.is_finite());
        let c = match kind {
            0 => Constraint::None,
            1 if fin && p[0] >= 0.0 => Constraint::MaxNorm(p[0]),
            2 => Constraint::NonNeg,
            3 => Constraint::UnitNorm,
            4 if fin && p[0] >= 0.0 && p[0] <= p[1] && (0.0..=1.0).contains(&p[2]) =>
                Constraint::MinMaxNorm { lo: p[0], hi: p[1], rate: p[2] },
            5 if fin && p[0] <= p[1] => Constraint::MinMaxValue { lo: p[0], hi: p[1] },
            _ => return None,
        };
        Some(c)
    }

    fn uses_norm(self) -> bool {
        matches!(self, Constraint::MaxNorm(_) | Constraint::UnitNorm | Constraint::MinMaxNorm { .. })
    }
}

/// Applies `c` to w (rows, cols) in place. `norms` is scratch of at least `cols` f64.
pub fn apply(c: Constraint, w: &mut [f32], rows: usize, cols: usize, norms: &mut [f64]) {
    let w = &mut w[..rows * cols];
    match c {
        Constraint::None => {}
        Constraint::NonNeg => w.iter_mut().for_each(|v| if *v < 0.0 { *v = 0.0 }),
        Constraint::MinMaxValue { lo, hi } => w.iter_mut().for_each(|v| {
            if *v < lo { *v = lo } else if *v > hi { *v = hi }
        }),
        _ if c.uses_norm() && cols > 0 => {
            let n = &mut norms[..cols];
            n.fill(0.0);
            for row in w.chunks_exact(cols) {
                n.iter_mut().zip(row).for_each(|(s, &x)| *s += x as f64 * x as f64);
            }
            for s in n.iter_mut() {
                let norm = s.sqrt();
                let desired = match c {
                    Constraint::MaxNorm(m) => norm.clamp(0.0, m as f64),
                    Constraint::UnitNorm => 1.0,
                    Constraint::MinMaxNorm { lo, hi, rate } =>
                        rate as f64 * norm.clamp(lo as f64, hi as f64) + (1.0 - rate as f64) * norm,
                    _ => unreachable!(),
                };
                *s = desired / (EPS + norm); // the column's scale
            }
            for row in w.chunks_exact_mut(cols) {
                row.iter_mut().zip(n.iter()).for_each(|(x, &k)| *x = (*x as f64 * k) as f32);
            }
        }
        _ => {}
    }
}

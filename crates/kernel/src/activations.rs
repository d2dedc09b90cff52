//! Element-wise activations, forward (fused with the bias add) and backward.
//!
//! Forward works on one layer's pre-activation z (batch, out) right after the GEMM
//! `z = x·W`: it adds the bias and applies f in the same pass, keeping both z (needed by the
//! statistics and some derivatives) and a = f(z). Backward turns dL/da into dL/dz in place.

/// SELU constants (Klambauer et al. 2017; keras/src/activations/activations.py).
pub const SELU_ALPHA: f32 = 1.673_263_2;
pub const SELU_SCALE: f32 = 1.050_701;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Act {
    Linear,
    Relu,
    /// negative slope (Keras 3 default 0.2)
    LeakyRelu(f32),
    /// alpha (default 1.0)
    Elu(f32),
    Selu,
    Sigmoid,
    Tanh,
    /// over each row (the last axis)
    Softmax,
}

impl Act {
    /// Codes as in docs/abi.md; `param` is the f32 act_param word. None for unknown codes or a
    /// non-finite parameter.
    pub fn from_code(code: u32, param: f32) -> Option<Self> {
        if !param.is_finite() {
            return None;
        }
        Some(match code {
            0 => Act::Linear,
            1 => Act::Relu,
            2 => Act::LeakyRelu(param),
            3 => Act::Elu(param),
            4 => Act::Selu,
            5 => Act::Sigmoid,
            6 => Act::Tanh,
            7 => Act::Softmax,
            _ => return None,
        })
    }
}

/// Numerically stable logistic function: never evaluates exp of a large positive number.
#[inline(always)]
pub fn sigmoid(z: f32) -> f32 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// max(z, 0) that keeps NaN (as TensorFlow's relu): `f32::max` would turn NaN into 0 and
/// hide a non-finite pre-activation from the loss and the health monitor.
#[inline(always)]
fn relu(z: f32) -> f32 {
    if z < 0.0 { 0.0 } else { z }
}

/// Element-wise f for the non-softmax activations.
#[inline(always)]
fn apply(act: Act, z: f32) -> f32 {
    match act {
        Act::Linear | Act::Softmax => z,
        Act::Relu => relu(z),
        Act::LeakyRelu(s) => if z > 0.0 { z } else { s * z },
        Act::Elu(al) => if z > 0.0 { z } else { al * z.exp_m1() },
        Act::Selu => if z > 0.0 { SELU_SCALE * z } else { SELU_SCALE * SELU_ALPHA * z.exp_m1() },
        Act::Sigmoid => sigmoid(z),
        Act::Tanh => z.tanh(),
    }
}

/// Row-wise stable softmax: p = exp(z − max z) / Σ exp(z − max z). `z` and `p` are one row.
#[inline]
pub fn softmax_row(z: &[f32], p: &mut [f32]) {
    let m = z.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    let mut s = 0.0f32;
    for (pi, &zi) in p.iter_mut().zip(z) {
        let e = (zi - m).exp();
        *pi = e;
        s += e;
    }
    let inv = 1.0 / s;
    p.iter_mut().for_each(|pi| *pi *= inv);
}

/// z is (rows, cols) = x·W from the GEMM; bias is (cols) or empty. In one pass per row:
/// z ← z + b and a ← f(z). `a` is (rows, cols).
pub fn forward_bias(act: Act, z: &mut [f32], a: &mut [f32], bias: &[f32], cols: usize) {
    if cols == 0 {
        return;
    }
    // Element-wise activations: one loop per row does z += b and a = f(z) (monomorphised per
    // activation so each loop vectorises); softmax needs the whole row after the bias.
    #[inline(always)]
    fn rows<F: Fn(f32) -> f32>(z: &mut [f32], a: &mut [f32], bias: &[f32], cols: usize, f: F) {
        for (zr, ar) in z.chunks_exact_mut(cols).zip(a.chunks_exact_mut(cols)) {
            if bias.is_empty() {
                ar.iter_mut().zip(zr.iter()).for_each(|(ai, &zi)| *ai = f(zi));
            } else {
                for ((zi, ai), &bi) in zr.iter_mut().zip(ar.iter_mut()).zip(bias) {
                    let v = *zi + bi;
                    *zi = v;
                    *ai = f(v);
                }
            }
        }
    }
    match act {
        Act::Softmax => {
            for (zr, ar) in z.chunks_exact_mut(cols).zip(a.chunks_exact_mut(cols)) {
                if !bias.is_empty() {
                    zr.iter_mut().zip(bias).for_each(|(zi, &bi)| *zi += bi);
                }
                softmax_row(zr, ar);
            }
        }
        Act::Linear => rows(z, a, bias, cols, |v| v),
        Act::Relu => rows(z, a, bias, cols, relu),
        _ => rows(z, a, bias, cols, |v| apply(act, v)),
    }
}

/// Backward of a = f(z): `d` holds dL/da (rows, cols) on entry and dL/dz on exit; z and a are
/// the forward's values.
pub fn backward(act: Act, d: &mut [f32], z: &[f32], a: &[f32], cols: usize) {
    match act {
        Act::Linear => {}
        // a = max(z, 0): da/dz = 1 where z > 0, else 0 (0 at z = 0, as TensorFlow).
        // Every branch below stores unconditionally (a select, not a conditional store): a
        // conditional store does not vectorise, and on relu's ~50% random sign pattern its
        // branch mispredicted so often that this loop cost ~4 ns per element (3.9% of an MNIST
        // batch-128 epoch). A NaN z keeps dL/da, as before (NaN <= 0 is false); ×1.0 is exact.
        Act::Relu => d.iter_mut().zip(z).for_each(|(di, &zi)| *di = if zi <= 0.0 { 0.0 } else { *di }),
        // a = z (z > 0) else s·z
        Act::LeakyRelu(s) => d.iter_mut().zip(z).for_each(|(di, &zi)| *di *= if zi <= 0.0 { s } else { 1.0 }),
        // a = z (z > 0) else α(eᶻ − 1): da/dz = αeᶻ = a + α
        Act::Elu(al) => d.iter_mut().zip(z.iter().zip(a)).for_each(|(di, (&zi, &ai))| {
            *di *= if zi <= 0.0 { ai + al } else { 1.0 }
        }),
        // a = λz (z > 0) else λα(eᶻ − 1): da/dz = λ or a + λα
        Act::Selu => d.iter_mut().zip(z.iter().zip(a)).for_each(|(di, (&zi, &ai))| {
            *di *= if zi > 0.0 { SELU_SCALE } else { ai + SELU_SCALE * SELU_ALPHA }
        }),
        // a = σ(z): da/dz = a(1 − a)
        Act::Sigmoid => d.iter_mut().zip(a).for_each(|(di, &ai)| *di *= ai * (1.0 - ai)),
        // a = tanh z: da/dz = 1 − a²
        Act::Tanh => d.iter_mut().zip(a).for_each(|(di, &ai)| *di *= 1.0 - ai * ai),
        // a = softmax(z) per row: dL/dz_j = a_j (dL/da_j − Σ_i dL/da_i a_i)
        Act::Softmax => {
            if cols == 0 {
                return;
            }
            for (dr, ar) in d.chunks_exact_mut(cols).zip(a.chunks_exact(cols)) {
                let dot: f32 = dr.iter().zip(ar).map(|(x, y)| x * y).sum();
                dr.iter_mut().zip(ar).for_each(|(di, &ai)| *di = ai * (*di - dot));
            }
        }
    }
}

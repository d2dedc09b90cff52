//! The gradient-health statistics block (docs/abi.md, "Gradient-health statistics"):
//! 16 f32 words per layer, then 8 global words. Computed inside a training step only when
//! collection is on, from values the step already has at hand: the activation words from the
//! workspace right after the forward pass (still in cache), the gradient words in the one pass
//! that clipping needs anyway, and the weight/update words inside the optimizer's loop
//! (`UpdAcc`).

use crate::activations::Act;

pub const LAYER_WORDS: usize = 16;
pub const GLOBAL_WORDS: usize = 8;

/// Words of a layer's slot.
pub mod w {
    pub const GRAD_W_NORM: usize = 0;
    pub const GRAD_W_MAXABS: usize = 1;
    pub const GRAD_B_NORM: usize = 2;
    pub const GRAD_B_MAXABS: usize = 3;
    pub const W_NORM: usize = 4;
    pub const UPDATE_RATIO: usize = 5;
    pub const DEAD_FRACTION: usize = 6;
    pub const SATURATED_FRACTION: usize = 7;
    pub const ACT_MEAN: usize = 8;
    pub const ACT_STD: usize = 9;
    pub const NONFINITE_ACT: usize = 10;
    pub const NONFINITE_GRAD: usize = 11;
    pub const NONFINITE_WEIGHT: usize = 12;
    pub const B_NORM: usize = 13;
    pub const PREACT_MEAN_ABS: usize = 14;
}

/// Words of the global slot (after all layers).
pub mod g {
    pub const GLOBAL_GRAD_NORM: usize = 0;
    pub const LOSS: usize = 1;
    pub const NONFINITE_LOSS: usize = 2;
    pub const CLIPPED: usize = 3;
    pub const UPDATE_NORM: usize = 4;
    pub const PARAM_NORM: usize = 5;
}

/// |z| at or beyond which a sigmoid/tanh pre-activation counts as saturated (DeepDiagnosis).
pub const SATURATION_Z: f32 = 5.0;
/// A softmax row whose largest probability is at least this counts as saturated.
pub const SATURATION_SOFTMAX: f32 = 1.0 - 1e-6;

/// Per-tensor gradient summary: Σg² (f64), max |g|, count of non-finite entries.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GradTensor {
    pub sumsq: f64,
    pub maxabs: f32,
    pub nonfinite: u32,
}

/// The statistics reduce in blocks of BLOCK elements: inside a block, LANES independent f32
/// partial sums (two f32x4 registers per quantity; a single running sum would serialise the loop
/// on add latency and not vectorise), each of at most BLOCK/LANES = 32 terms (relative error
/// ≲ 32·2⁻²⁴ ≈ 2e-6), then added to f64 totals. A block whose f32 sum of squares overflows
/// (entries beyond 1.8e19) is summed again in f64, so norms stay finite for finite inputs.
pub const BLOCK: usize = 256;
const LANES: usize = 8;

#[inline(always)]
fn lanes_f64(x: &[f32; LANES]) -> f64 {
    x.iter().map(|&v| v as f64).sum()
}

fn sumsq_f64(x: &[f32]) -> f64 {
    x.iter().map(|&v| (v as f64) * (v as f64)).sum()
}

/// Σx² by blocks (see BLOCK).
pub fn sumsq(x: &[f32]) -> f64 {
    let mut total = 0.0f64;
    for blk in x.chunks(BLOCK) {
        let mut sq = [0.0f32; LANES];
        let mut it = blk.chunks_exact(LANES);
        for c in &mut it {
            for j in 0..LANES {
                sq[j] += c[j] * c[j];
            }
        }
        for &v in it.remainder() {
            sq[0] += v * v;
        }
        let s = lanes_f64(&sq);
        total += if s.is_finite() { s } else { sumsq_f64(blk) };
    }
    total
}

/// One pass over a gradient tensor.
pub fn grad_tensor(g: &[f32]) -> GradTensor {
    let mut out = GradTensor::default();
    for blk in g.chunks(BLOCK) {
        let mut sq = [0.0f32; LANES];
        let mut mx = [0.0f32; LANES];
        let mut nf = [0u32; LANES];
        let mut it = blk.chunks_exact(LANES);
        for c in &mut it {
            for j in 0..LANES {
                let v = c[j];
                sq[j] += v * v;
                let a = v.abs();
                // `if a > m` (not f32::max) vectorises as compare + select; NaN never wins
                if a > mx[j] {
                    mx[j] = a;
                }
                nf[j] += (!(a < f32::INFINITY)) as u32;
            }
        }
        for &v in it.remainder() {
            sq[0] += v * v;
            let a = v.abs();
            if a > mx[0] {
                mx[0] = a;
            }
            nf[0] += (!(a < f32::INFINITY)) as u32;
        }
        let nonfinite: u32 = nf.iter().sum();
        let s = lanes_f64(&sq);
        out.sumsq += if s.is_finite() || nonfinite > 0 { s } else { sumsq_f64(blk) };
        out.maxabs = mx.iter().fold(out.maxabs, |m, &v| if v > m { v } else { m });
        out.nonfinite += nonfinite;
    }
    out
}

/// Per-tensor accumulators filled by the optimizer's loop: Σ(Δθ)², Σθ_before², Σθ_after²,
/// non-finite θ_after.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct UpdAcc {
    pub delta_sq: f64,
    pub before_sq: f64,
    pub after_sq: f64,
    pub nonfinite: u32,
}

impl UpdAcc {
    /// Adds one block (≤ BLOCK elements) of θ_before and θ_after.
    pub fn add_block(&mut self, before: &[f32], after: &[f32]) {
        let (mut d2, mut b2, mut a2) = ([0.0f32; LANES], [0.0f32; LANES], [0.0f32; LANES]);
        let mut nf = [0u32; LANES];
        let mut bc = before.chunks_exact(LANES);
        let mut ac = after.chunks_exact(LANES);
        for (bk, ak) in (&mut bc).zip(&mut ac) {
            for j in 0..LANES {
                let (b, a) = (bk[j], ak[j]);
                let d = a - b;
                d2[j] += d * d;
                b2[j] += b * b;
                a2[j] += a * a;
                nf[j] += (!(a.abs() < f32::INFINITY)) as u32;
            }
        }
        for (&b, &a) in bc.remainder().iter().zip(ac.remainder()) {
            let d = a - b;
            d2[0] += d * d;
            b2[0] += b * b;
            a2[0] += a * a;
            nf[0] += (!(a.abs() < f32::INFINITY)) as u32;
        }
        let nonfinite: u32 = nf.iter().sum();
        let (mut d, mut b, mut a) = (lanes_f64(&d2), lanes_f64(&b2), lanes_f64(&a2));
        if !(d.is_finite() && b.is_finite() && a.is_finite()) && nonfinite == 0 {
            // f32 overflow of a square: redo this block in f64
            d = before.iter().zip(after).map(|(&x, &y)| (y as f64 - x as f64).powi(2)).sum();
            b = sumsq_f64(before);
            a = sumsq_f64(after);
        }
        self.delta_sq += d;
        self.before_sq += b;
        self.after_sq += a;
        self.nonfinite += nonfinite;
    }
}

/// Activation words (6–10, 14) of one layer from its z and a (rows, cols). `seen` is scratch of
/// at least `cols` flags.
pub fn activation_words(slot: &mut [f32], act: Act, z: &[f32], a: &[f32], cols: usize, seen: &mut [bool]) {
    let n = z.len();
    if n == 0 || cols == 0 {
        return;
    }
    let rows = n / cols;
    let seen = &mut seen[..cols];
    seen.fill(false);
    let (mut sa, mut sa2, mut sz) = (0.0f64, 0.0f64, 0.0f64);
    let mut nonfinite = 0u32;
    let mut saturated = 0u32;
    let relu_family = matches!(act, Act::Relu | Act::LeakyRelu(_) | Act::Elu(_) | Act::Selu);
    for (zr, ar) in z.chunks_exact(cols).zip(a.chunks_exact(cols)) {
        for ((&zi, &ai), s) in zr.iter().zip(ar).zip(seen.iter_mut()) {
            sa += ai as f64;
            sa2 += (ai as f64) * (ai as f64);
            sz += zi.abs() as f64;
            nonfinite += (!zi.is_finite()) as u32 + (!ai.is_finite()) as u32;
            *s |= ai > 0.0;
            saturated += matches!(act, Act::Sigmoid | Act::Tanh) as u32 * (zi.abs() >= SATURATION_Z) as u32;
        }
        if act == Act::Softmax {
            let m = ar.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
            saturated += (m >= SATURATION_SOFTMAX) as u32;
        }
    }
    let nf = n as f64;
    let mean = sa / nf;
    slot[w::DEAD_FRACTION] = if relu_family {
        seen.iter().filter(|&&s| !s).count() as f32 / cols as f32
    } else {
        0.0
    };
    slot[w::SATURATED_FRACTION] = match act {
        Act::Sigmoid | Act::Tanh => (saturated as f64 / nf) as f32,
        Act::Softmax => (saturated as f64 / rows as f64) as f32,
        _ => 0.0,
    };
    slot[w::ACT_MEAN] = mean as f32;
    slot[w::ACT_STD] = (sa2 / nf - mean * mean).max(0.0).sqrt() as f32;
    slot[w::NONFINITE_ACT] = nonfinite as f32;
    slot[w::PREACT_MEAN_ABS] = (sz / nf) as f32;
}

/// Gradient and weight words of every layer and the global words. `grad` and `upd` hold two
/// entries per layer (W then b; an absent bias has zeros). `sq_total` is the pre-clip global
/// Σg².
pub fn finish(block: &mut [f32], grad: &[GradTensor], upd: &[UpdAcc], loss: f32, clipped: bool) {
    let layers = grad.len() / 2;
    let (mut gsq, mut dsq, mut psq) = (0.0f64, 0.0f64, 0.0f64);
    for l in 0..layers {
        let (gw, gb) = (grad[2 * l], grad[2 * l + 1]);
        let (uw, ub) = (upd[2 * l], upd[2 * l + 1]);
        let slot = &mut block[l * LAYER_WORDS..(l + 1) * LAYER_WORDS];
        slot[w::GRAD_W_NORM] = gw.sumsq.sqrt() as f32;
        slot[w::GRAD_W_MAXABS] = gw.maxabs;
        slot[w::GRAD_B_NORM] = gb.sumsq.sqrt() as f32;
        slot[w::GRAD_B_MAXABS] = gb.maxabs;
        slot[w::W_NORM] = uw.after_sq.sqrt() as f32;
        slot[w::UPDATE_RATIO] = if uw.before_sq > 0.0 { (uw.delta_sq / uw.before_sq).sqrt() as f32 } else { 0.0 };
        slot[w::NONFINITE_GRAD] = (gw.nonfinite + gb.nonfinite) as f32;
        slot[w::NONFINITE_WEIGHT] = (uw.nonfinite + ub.nonfinite) as f32;
        slot[w::B_NORM] = ub.after_sq.sqrt() as f32;
        slot[15] = 0.0;
        gsq += gw.sumsq + gb.sumsq;
        dsq += uw.delta_sq + ub.delta_sq;
        psq += uw.after_sq + ub.after_sq;
    }
    let gl = &mut block[layers * LAYER_WORDS..layers * LAYER_WORDS + GLOBAL_WORDS];
    gl[g::GLOBAL_GRAD_NORM] = gsq.sqrt() as f32;
    gl[g::LOSS] = loss;
    gl[g::NONFINITE_LOSS] = (!loss.is_finite()) as u32 as f32;
    gl[g::CLIPPED] = clipped as u32 as f32;
    gl[g::UPDATE_NORM] = dsq.sqrt() as f32;
    gl[g::PARAM_NORM] = psq.sqrt() as f32;
    gl[6] = 0.0;
    gl[7] = 0.0;
}

//! The gradient-health statistics block (docs/abi.md, "Gradient-health statistics"):
//! 16 f32 words per layer, then 8 global words. Computed inside a training step only when
//! collection is on, from values the step already has at hand: the activation words from the
//! workspace right after the forward pass (still in cache), and the gradient and weight/update
//! words inside the optimizer's loop, block by block while each block is in L1 (`UpdAcc`,
//! `GradTensor::add_block`); with norm clipping on, the gradient words come instead from the
//! pass clipping needs anyway (they must be pre-clip).

use crate::activations::Act;
use crate::reduce;

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

/// The statistics reduce in blocks of BLOCK elements (crate::reduce): f32 partial sums inside a
/// block, each over at most BLOCK/8 = 32 terms (BLOCK/4 = 64 in the optimizer's fused simd128
/// pass; relative error ≲ 64·2⁻²⁴ ≈ 4e-6), then added to
/// f64 totals. A block sum is finite unless an entry is non-finite or a square overflowed f32
/// (entries beyond 1.8e19); only then are non-finite entries counted, and if there are none the
/// block is summed again in f64, so norms stay finite for finite inputs.
pub const BLOCK: usize = 256;

fn sumsq_f64(x: &[f32]) -> f64 {
    x.iter().map(|&v| (v as f64) * (v as f64)).sum()
}

fn count_nonfinite(x: &[f32]) -> u32 {
    x.iter().map(|&v| (!v.is_finite()) as u32).sum()
}

/// Σx² by blocks.
pub fn sumsq(x: &[f32]) -> f64 {
    x.chunks(BLOCK).map(|blk| {
        let s = reduce::sq(blk) as f64;
        if s.is_finite() || count_nonfinite(blk) > 0 { s } else { sumsq_f64(blk) }
    }).sum()
}

/// One pass over a gradient tensor.
pub fn grad_tensor(g: &[f32]) -> GradTensor {
    let mut out = GradTensor::default();
    g.chunks(BLOCK).for_each(|blk| out.add_block(blk));
    out
}

impl GradTensor {
    /// Adds another part's summary (a later segment of the same tensor).
    pub fn merge(&mut self, o: &GradTensor) {
        self.sumsq += o.sumsq;
        self.nonfinite += o.nonfinite;
        if o.maxabs > self.maxabs {
            self.maxabs = o.maxabs;
        }
    }

    /// Adds one block (≤ BLOCK elements; blocks start at multiples of BLOCK in the tensor so that
    /// every caller sums in the same order).
    pub fn add_block(&mut self, blk: &[f32]) {
        let (s, mx) = reduce::sq_max(blk);
        self.add_sums(blk, s, mx);
    }

    /// Adds one block whose `reduce::sq_max` (s, mx) the caller computed (the fused update).
    #[inline]
    pub fn add_sums(&mut self, blk: &[f32], s: f32, mx: f32) {
        let mut s = s as f64;
        if !s.is_finite() {
            let nonfinite = count_nonfinite(blk);
            self.nonfinite += nonfinite;
            if nonfinite == 0 {
                s = sumsq_f64(blk);
            }
        }
        self.sumsq += s;
        if mx > self.maxabs {
            self.maxabs = mx;
        }
    }
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
    /// Adds another part's sums (a later segment of the same tensor).
    pub fn merge(&mut self, o: &UpdAcc) {
        self.delta_sq += o.delta_sq;
        self.before_sq += o.before_sq;
        self.after_sq += o.after_sq;
        self.nonfinite += o.nonfinite;
    }

    /// Adds one block (≤ BLOCK elements) of θ_before and θ_after.
    pub fn add_block(&mut self, before: &[f32], after: &[f32]) {
        let (d, b, a) = reduce::diff3(before, after);
        self.add_sums(before, after, (d, b, a));
    }

    /// Adds one block whose `reduce::diff3` the caller computed (the fused update).
    #[inline]
    pub fn add_sums(&mut self, before: &[f32], after: &[f32], (d, b, a): (f32, f32, f32)) {
        let (mut d, mut b, mut a) = (d as f64, b as f64, a as f64);
        if !(d.is_finite() && b.is_finite() && a.is_finite()) {
            let nonfinite = count_nonfinite(after);
            self.nonfinite += nonfinite;
            if nonfinite == 0 && count_nonfinite(before) == 0 {
                d = before.iter().zip(after).map(|(&x, &y)| (y as f64 - x as f64).powi(2)).sum();
                b = sumsq_f64(before);
                a = sumsq_f64(after);
            }
        }
        self.delta_sq += d;
        self.before_sq += b;
        self.after_sq += a;
    }
}

/// Activation words (6–10, 14) of one layer from its z and a (rows, cols). `seen` is scratch of
/// at least `cols` flags.
pub fn activation_words(slot: &mut [f32], act: Act, z: &[f32], a: &[f32], cols: usize, seen: &mut [bool]) {
    let mut acc = ActAcc::default();
    if cols > 0 {
        seen[..cols].fill(false);
    }
    acc.add(act, z, a, cols, seen);
    acc.write(slot, act, cols, seen);
}

/// One layer's activation sums over some of a batch's rows: `add` rows, `merge` another part's
/// sums (in row order, for a split training step), `write` the words.
#[derive(Clone, Copy, Debug, Default)]
pub struct ActAcc {
    sa: f64,
    sa2: f64,
    sz: f64,
    nonfinite: u32,
    /// sigmoid/tanh: entries with |z| ≥ SATURATION_Z; softmax: rows with max a ≥ SATURATION_SOFTMAX.
    saturated: u32,
    n: usize,
    rows: usize,
}

impl ActAcc {
    /// Adds rows z, a (rows, cols). `seen[..cols]` collects (OR) which units were ever positive;
    /// the caller clears it once per layer.
    pub fn add(&mut self, act: Act, z: &[f32], a: &[f32], cols: usize, seen: &mut [bool]) {
        let n = z.len();
        if n == 0 || cols == 0 {
            return;
        }
        self.n += n;
        self.rows += n / cols;
        // Σa, Σa², Σ|z| by blocks (crate::reduce). They are finite unless an entry is non-finite
        // (or an f32 block sum overflowed): only then count the non-finite entries, and re-sum a
        // block without any in f64.
        for (zb, ab) in z.chunks(BLOCK).zip(a.chunks(BLOCK)) {
            let (s, q) = reduce::sum_sq(ab);
            let (mut s, mut q, mut t) = (s as f64, q as f64, reduce::abs_sum(zb) as f64);
            if !(s.is_finite() && q.is_finite() && t.is_finite()) {
                let bad = count_nonfinite(zb) + count_nonfinite(ab);
                self.nonfinite += bad;
                if bad == 0 {
                    s = ab.iter().map(|&v| v as f64).sum();
                    q = sumsq_f64(ab);
                    t = zb.iter().map(|&v| v.abs() as f64).sum();
                }
            }
            self.sa += s;
            self.sa2 += q;
            self.sz += t;
        }
        match act {
            Act::Relu | Act::LeakyRelu(_) | Act::Elu(_) | Act::Selu => {
                let seen = &mut seen[..cols];
                for ar in a.chunks_exact(cols) {
                    seen.iter_mut().zip(ar).for_each(|(s, &ai)| *s |= ai > 0.0);
                }
            }
            Act::Sigmoid | Act::Tanh => {
                self.saturated += z.iter().map(|v| (v.abs() >= SATURATION_Z) as u32).sum::<u32>();
            }
            Act::Softmax => {
                self.saturated += a.chunks_exact(cols)
                    .map(|r| (r.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v)) >= SATURATION_SOFTMAX) as u32)
                    .sum::<u32>();
            }
            Act::Linear => {}
        }
    }

    /// Adds a later part's sums (`seen` is OR-ed by the caller).
    pub fn merge(&mut self, o: &ActAcc) {
        self.sa += o.sa;
        self.sa2 += o.sa2;
        self.sz += o.sz;
        self.nonfinite += o.nonfinite;
        self.saturated += o.saturated;
        self.n += o.n;
        self.rows += o.rows;
    }

    /// Writes the words into the layer's slot; `seen[..cols]` as collected by `add`.
    pub fn write(&self, slot: &mut [f32], act: Act, cols: usize, seen: &[bool]) {
        if self.n == 0 || cols == 0 {
            return;
        }
        let nf = self.n as f64;
        let mean = self.sa / nf;
        slot[w::DEAD_FRACTION] = match act {
            Act::Relu | Act::LeakyRelu(_) | Act::Elu(_) | Act::Selu =>
                seen[..cols].iter().filter(|&&s| !s).count() as f32 / cols as f32,
            _ => 0.0,
        };
        slot[w::SATURATED_FRACTION] = match act {
            Act::Sigmoid | Act::Tanh => (self.saturated as f64 / nf) as f32,
            Act::Softmax => (self.saturated as f64 / self.rows as f64) as f32,
            _ => 0.0,
        };
        slot[w::ACT_MEAN] = mean as f32;
        slot[w::ACT_STD] = (self.sa2 / nf - mean * mean).max(0.0).sqrt() as f32;
        slot[w::NONFINITE_ACT] = self.nonfinite as f32;
        slot[w::PREACT_MEAN_ABS] = (self.sz / nf) as f32;
    }
}

/// Gradient and weight words of every layer and the global words. `grad` and `upd` hold two
/// entries per layer (W then b; an absent bias has zeros); `grad` is pre-clip.
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

//! The Model: a stack of dense and batch-normalization layers with a loss, over three flat f32
//! regions (parameters, gradients, optimizer state) and a workspace of activations sized for the
//! largest batch seen.
//!
//! Spec words and the layout are in docs/abi.md. Parameter layout: first the trainable part,
//! layer by layer W then b, contiguous (W is (in, out) row-major, b is (out); for batchnorm
//! W is γ (f) and b is β (f), each empty when scale/center is off); then the non-trainable part:
//! for each batchnorm layer in order, moving_mean (f) then moving_variance (f). The optimizer
//! and its state cover only the trainable part; the gradient region spans both (zeros in the
//! non-trainable part). The workspace keeps z (pre-activation) and a (output) of every layer for
//! one batch, x̂ of every batchnorm layer, plus two gradient buffers used in turn by the
//! backward pass; it grows only when a larger batch arrives, so steps never allocate.
use crate::activations::{self, Act};
use crate::buf::{try_zeroed, AlignedBuf};
use crate::batchnorm;
use crate::clip;
use crate::constraints::{self, Constraint};
use crate::dense;
use crate::loss::{self, Input, LossKind, Targets};
use crate::clip::Clip;
use crate::optim::{OptConfig, Optimizer, StatsAcc};
use crate::stats::{self, GradTensor, UpdAcc, GLOBAL_WORDS, LAYER_WORDS};
use core::ops::Range;

/// Upper bound on the parameter count: the three regions (1 + 1 + 2 floats per parameter)
/// must fit in a 4 GiB wasm32 memory.
const MAX_PARAMS: usize = 1 << 28;

/// A batchnorm layer's own numbers (docs/abi.md, spec version 2).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bn {
    pub momentum: f32,
    pub eps: f32,
    /// Offset of moving_mean in the parameter region (moving_variance follows, f floats later).
    pub mov: usize,
    /// Σ f of the batchnorm layers before this one: x̂ starts at batch·xh_off in the workspace,
    /// 1/sqrt(σ² + ε) at xh_off in `bn_inv`.
    xh_off: usize,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LayerKind {
    Dense,
    BatchNorm(Bn),
}

/// Which forward pass: training (batch statistics, moving statistics updated), probe (batch
/// statistics, moving statistics left alone: gg_forward_backward) or inference (moving
/// statistics).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Train,
    Probe,
    Infer,
}

#[derive(Clone, Debug)]
pub struct Layer {
    pub kind: LayerKind,
    pub inp: usize,
    pub out: usize,
    pub act: Act,
    /// Constraints on W and b, applied after each update (dense layers; None for batchnorm).
    pub kc: Constraint,
    pub bc: Constraint,
    /// W's range in the regions, then b's (empty without bias); b follows W directly.
    pub w: Range<usize>,
    pub b: Range<usize>,
    /// Σ out of the layers before this one: its z and a start at batch·act_off in the workspace.
    act_off: usize,
}

/// How the last layer meets the loss (docs/abi.md, the fused pairs).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Head {
    /// The loss's input form.
    input: Input,
    /// The loss reads z and replaces the activation (softmax + CE, sigmoid + BCE): dL/dz comes
    /// straight from the loss and the activation's backward is skipped. Otherwise the loss reads
    /// a and its gradient is chained through the activation.
    on_z: bool,
}

#[derive(Debug, Default)]
struct Workspace {
    /// Largest batch the buffers hold.
    batch: usize,
    z: Vec<f32>,
    a: Vec<f32>,
    d0: Vec<f32>,
    d1: Vec<f32>,
    /// x̂ of every batchnorm layer (batch, f), at batch·xh_off.
    xh: Vec<f32>,
}

#[derive(Debug)]
pub struct Model {
    layers: Vec<Layer>,
    loss: LossKind,
    head: Head,
    params: AlignedBuf,
    grads: AlignedBuf,
    /// Trainable parameters: the first n_train floats of the regions.
    n_train: usize,
    /// 2 × n_train: optimizer slots m then v.
    state: AlignedBuf,
    /// 1/sqrt(σ² + ε) of every batchnorm feature from the last forward pass.
    bn_inv: Vec<f32>,
    /// f64 scratch: 2 × the widest batchnorm (its sums), or the widest constrained column count.
    scratch: Vec<f64>,
    opt: Optimizer,
    ws: Workspace,
    /// W₀, b₀, W₁, b₁, … (b empty without bias): what clipnorm and the statistics see.
    tensors: Vec<Range<usize>>,
    grad_sum: Vec<GradTensor>,
    upd: Vec<UpdAcc>,
    sumsq: Vec<f64>,
    stats_on: bool,
    stats: AlignedBuf,
    /// Per-unit scratch for the dead-unit test.
    seen: Vec<bool>,
    last_correct: u32,
    /// Batch of the last forward pass (what `preactivation` reads).
    last_batch: usize,
}

impl Model {
    /// Parses and validates a spec (docs/abi.md); None if it is invalid or memory is short.
    pub fn new(spec: &[u32]) -> Option<Model> {
        // version 1: 6 words per layer (dense only); version 2: 16 (docs/abi.md)
        let lw = match spec.first() { Some(1) => 6, Some(2) => 16, _ => return None };
        if spec.len() < 4 {
            return None;
        }
        let nl = spec[1] as usize;
        // checked: on wasm32 a huge L would wrap 4 + lw·L around to the given length
        if nl == 0 || nl.checked_mul(lw).and_then(|v| v.checked_add(4)) != Some(spec.len()) {
            return None;
        }
        let loss = LossKind::from_code(spec[2])?;
        let from_logits = match spec[3] { 0 => false, 1 => true, _ => return None };
        let mut layers = Vec::with_capacity(nl);
        let mut off = 0usize;
        let mut act_off = 0usize;
        let mut xh_off = 0usize;
        let fw = |s: &[u32], i: usize| f32::from_bits(s[i]);
        for l in 0..nl {
            let s = &spec[4 + lw * l..4 + lw * (l + 1)];
            let (kind, inp, out) = (s[0], s[1] as usize, s[2] as usize);
            if inp == 0 || out == 0 {
                return None;
            }
            if l > 0 && layers.last().map(|p: &Layer| p.out) != Some(inp) {
                return None;
            }
            let act = Act::from_code(s[3], f32::from_bits(s[4]))?;
            let (kind, wl, bias, kc, bc) = match kind {
                0 => {
                    let bias = match s[5] { 0 => 0, 1 => out, _ => return None };
                    let (kc, bc) = if lw == 16 {
                        (Constraint::from_words(s[8], [fw(s, 9), fw(s, 10), fw(s, 11)])?,
                         Constraint::from_words(s[12], [fw(s, 13), fw(s, 14), fw(s, 15)])?)
                    } else {
                        (Constraint::None, Constraint::None)
                    };
                    (LayerKind::Dense, inp.checked_mul(out)?, bias, kc, bc)
                }
                1 if lw == 16 && inp == out && s[5] <= 3 && s[8..].iter().all(|&v| v == 0) => {
                    // flags: bit 0 center (β), bit 1 scale (γ)
                    let (momentum, eps) = (fw(s, 6), fw(s, 7));
                    if !(momentum.is_finite() && (0.0..=1.0).contains(&momentum) && eps.is_finite() && eps > 0.0) {
                        return None;
                    }
                    let bn = Bn { momentum, eps, mov: 0, xh_off };
                    xh_off = xh_off.checked_add(out)?;
                    let (center, scale) = (s[5] & 1 != 0, s[5] & 2 != 0);
                    (LayerKind::BatchNorm(bn), if scale { out } else { 0 }, if center { out } else { 0 },
                     Constraint::None, Constraint::None)
                }
                _ => return None,
            };
            let w = off..off.checked_add(wl)?;
            let b = w.end..w.end.checked_add(bias)?;
            off = b.end;
            if off > MAX_PARAMS {
                return None;
            }
            layers.push(Layer { kind, inp, out, act, kc, bc, w, b, act_off });
            act_off = act_off.checked_add(out)?;
        }
        // The non-trainable part: moving_mean, moving_variance of each batchnorm layer.
        let n_train = off;
        for layer in layers.iter_mut() {
            if let LayerKind::BatchNorm(bn) = &mut layer.kind {
                bn.mov = off;
                off = off.checked_add(2 * layer.out)?;
            }
        }
        if off > MAX_PARAMS {
            return None;
        }
        let last = layers.last()?.act;
        let ce = matches!(loss, LossKind::SparseCategoricalCrossentropy | LossKind::CategoricalCrossentropy);
        let bce = loss == LossKind::BinaryCrossentropy;
        let head = if from_logits && loss != LossKind::MeanSquaredError {
            Head { input: Input::Logits, on_z: false }
        } else if (ce && last == Act::Softmax) || (bce && last == Act::Sigmoid) {
            Head { input: Input::Logits, on_z: true }
        } else {
            Head { input: Input::Probs, on_z: false }
        };
        let n = off;
        let tensors: Vec<Range<usize>> = layers.iter().flat_map(|l| [l.w.clone(), l.b.clone()]).collect();
        let max_out = layers.iter().map(|l| l.out).max().unwrap_or(0);
        // constraint column norms need ≤ out (kernel) or 1 (bias); batchnorm sums 2f
        let scratch_len = 2 * max_out.max(1);
        let opt_cfg = OptConfig::default_sgd();
        let mut m = Model {
            loss,
            head,
            params: AlignedBuf::zeroed(n)?,
            grads: AlignedBuf::zeroed(n)?,
            n_train,
            state: AlignedBuf::zeroed(n_train.checked_mul(2)?)?,
            bn_inv: vec![0.0; xh_off],
            scratch: vec![0.0; scratch_len],
            opt: Optimizer::new(opt_cfg),
            ws: Workspace::default(),
            grad_sum: vec![GradTensor::default(); tensors.len()],
            upd: vec![UpdAcc::default(); tensors.len()],
            sumsq: vec![0.0; tensors.len()],
            tensors,
            stats_on: false,
            stats: AlignedBuf::zeroed(nl * LAYER_WORDS + GLOBAL_WORDS)?,
            seen: vec![false; max_out],
            last_correct: 0,
            last_batch: 0,
            layers,
        };
        m.opt.reset(m.state.as_mut_slice());
        // Keras's initial moving statistics: moving_mean 0, moving_variance 1.
        for l in &m.layers {
            if let LayerKind::BatchNorm(bn) = l.kind {
                m.params.as_mut_slice()[bn.mov + l.out..bn.mov + 2 * l.out].fill(1.0);
            }
        }
        Some(m)
    }

    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }
    pub fn param_count(&self) -> usize {
        self.params.len()
    }
    /// Trainable parameters: the first `trainable_count` floats of the regions.
    pub fn trainable_count(&self) -> usize {
        self.n_train
    }
    /// The optimizer state region (2 × trainable_count: slot m then slot v).
    pub fn opt_state(&self) -> &[f32] {
        self.state.as_slice()
    }
    pub fn opt_state_mut(&mut self) -> &mut [f32] {
        self.state.as_mut_slice()
    }
    pub fn opt_state_ptr(&self) -> *const f32 {
        self.state.as_ptr()
    }
    /// Updates applied so far (Keras's `iterations`; Adam's bias correction uses it + 1).
    pub fn opt_step(&self) -> u64 {
        self.opt.iterations
    }
    /// Sets the step counter (restoring a saved optimizer state with its slots).
    pub fn set_opt_step(&mut self, step: u64) {
        self.opt.iterations = step;
    }
    /// Per layer (offset, length) of its moving statistics (moving_mean then moving_variance,
    /// length 2f) in the parameter region; (0, 0) for a dense layer.
    pub fn moving_layout(&self) -> Vec<[u32; 2]> {
        self.layers.iter().map(|l| match l.kind {
            LayerKind::BatchNorm(bn) => [bn.mov as u32, 2 * l.out as u32],
            LayerKind::Dense => [0, 0],
        }).collect()
    }
    pub fn params(&self) -> &[f32] {
        self.params.as_slice()
    }
    pub fn params_mut(&mut self) -> &mut [f32] {
        self.params.as_mut_slice()
    }
    pub fn grads(&self) -> &[f32] {
        self.grads.as_slice()
    }
    pub fn stats(&self) -> &[f32] {
        self.stats.as_slice()
    }
    pub fn input_size(&self) -> usize {
        self.layers[0].inp
    }
    pub fn output_size(&self) -> usize {
        self.layers[self.layers.len() - 1].out
    }
    pub fn loss_kind(&self) -> LossKind {
        self.loss
    }
    pub fn last_correct(&self) -> u32 {
        self.last_correct
    }
    pub fn optimizer(&self) -> &Optimizer {
        &self.opt
    }
    /// Largest batch the workspace currently holds (0 before any step).
    pub fn workspace_batch(&self) -> usize {
        self.ws.batch
    }
    /// Layer l's pre-activation z (batch, out) from the last forward pass (for tests and
    /// diagnostics).
    pub fn preactivation(&self, l: usize) -> &[f32] {
        let layer = &self.layers[l];
        let b = self.last_batch;
        &self.ws.z[b * layer.act_off..b * (layer.act_off + layer.out)]
    }
    /// Pointers for the ABI layer.
    pub fn params_ptr(&self) -> *const f32 {
        self.params.as_ptr()
    }
    pub fn grads_ptr(&self) -> *const f32 {
        self.grads.as_ptr()
    }
    pub fn stats_ptr(&self) -> *const f32 {
        self.stats.as_ptr()
    }

    /// `w_off, w_len, b_off, b_len` per layer (docs/abi.md, gg_model_layout).
    pub fn layout(&self) -> Vec<[u32; 4]> {
        self.layers.iter().map(|l| [l.w.start as u32, l.w.len() as u32, l.b.start as u32, l.b.len() as u32]).collect()
    }

    /// Sets the optimizer (resets its slots and step counter). Err is the ABI status.
    pub fn set_optimizer(&mut self, kind: u32, cfg: &[f32]) -> Result<(), i32> {
        let c = OptConfig::parse(kind, cfg)?;
        self.opt = Optimizer::new(c);
        self.opt.reset(self.state.as_mut_slice());
        Ok(())
    }

    /// Changes only the learning rate; a negative or non-finite value is refused.
    pub fn set_lr(&mut self, lr: f32) -> bool {
        if lr.is_finite() && lr >= 0.0 {
            self.opt.cfg.lr = lr;
            true
        } else {
            false
        }
    }

    pub fn set_stats(&mut self, on: bool) {
        self.stats_on = on;
    }

    /// Grows the workspace to hold `batch` rows; false if memory cannot be had (the old
    /// workspace is kept). A batch no larger than before allocates nothing.
    fn ensure_batch(&mut self, batch: usize) -> bool {
        if batch <= self.ws.batch {
            return true;
        }
        let total: usize = self.layers.iter().map(|l| l.out).sum();
        let widest = self.layers.iter().map(|l| l.out).max().unwrap_or(0);
        let (Some(na), Some(nd)) = (batch.checked_mul(total), batch.checked_mul(widest)) else { return false };
        let Some(nx) = batch.checked_mul(self.bn_inv.len()) else { return false };
        let (Some(z), Some(a), Some(d0), Some(d1), Some(xh)) =
            (try_zeroed(na), try_zeroed(na), try_zeroed(nd), try_zeroed(nd), try_zeroed(nx)) else {
            return false;
        };
        self.ws = Workspace { batch, z, a, d0, d1, xh };
        true
    }

    /// Forward pass over the batch into the workspace (z and a of every layer, x̂ of every
    /// batchnorm layer). x is (batch, in₀). For batchnorm, z is y = γ·x̂ + β (what the
    /// activation reads).
    fn forward(&mut self, x: &[f32], batch: usize, mode: Mode) {
        self.last_batch = batch;
        let nt = self.n_train;
        let (pt, pm) = self.params.as_mut_slice().split_at_mut(nt);
        let ws = &mut self.ws;
        for (l, layer) in self.layers.iter().enumerate() {
            let off = batch * layer.act_off;
            let n = batch * layer.out;
            let (prev, cur) = ws.a.split_at_mut(off);
            let input: &[f32] = if l == 0 { x } else { &prev[off - batch * layer.inp..] };
            let (w, b) = (&pt[layer.w.clone()], &pt[layer.b.clone()]);
            match layer.kind {
                LayerKind::Dense => dense::forward(input, w, b, layer.act, batch, layer.inp, layer.out,
                    &mut ws.z[off..off + n], &mut cur[..n]),
                LayerKind::BatchNorm(bn) => {
                    let f = layer.out;
                    let z = &mut ws.z[off..off + n];
                    let inv = &mut self.bn_inv[bn.xh_off..bn.xh_off + f];
                    let mov = &mut pm[bn.mov - nt..bn.mov - nt + 2 * f];
                    if mode == Mode::Infer {
                        let (mm, mv) = mov.split_at(f);
                        batchnorm::forward_infer(input, batch, f, w, b, bn.eps, mm, mv, z, inv);
                    } else {
                        let xh = &mut ws.xh[batch * bn.xh_off..batch * (bn.xh_off + f)];
                        let moving = (mode == Mode::Train).then(|| mov.split_at_mut(f));
                        batchnorm::forward_train(input, batch, f, w, b, bn.eps, bn.momentum, moving, xh, z,
                            inv, &mut self.scratch);
                    }
                    activations::forward_bias(layer.act, z, &mut cur[..n], &[], f);
                }
            }
        }
    }

    /// The last layer's z and a (batch, out_L) after `forward`.
    fn last_za(&self, batch: usize) -> (&[f32], &[f32]) {
        let l = &self.layers[self.layers.len() - 1];
        let r = batch * l.act_off..batch * (l.act_off + l.out);
        (&self.ws.z[r.clone()], &self.ws.a[r])
    }

    /// Loss (sum over the batch) and backward pass: fills the gradient region. Assumes
    /// `forward` ran on the same x.
    fn backward(&mut self, x: &[f32], y: Targets, batch: usize) -> f64 {
        let nl = self.layers.len();
        let params = self.params.as_slice();
        let grads = self.grads.as_mut_slice();
        let Workspace { z, a, d0, d1, xh, .. } = &mut self.ws;
        let (mut dc, mut dn) = (&mut d0[..], &mut d1[..]);
        let last = &self.layers[nl - 1];
        let r = batch * last.act_off..batch * (last.act_off + last.out);
        let (zl, al) = (&z[r.clone()], &a[r]);
        let d = &mut dc[..batch * last.out];
        let head = self.head;
        let loss_in = if head.on_z { zl } else { al };
        let total = loss::loss_and_grad(self.loss, head.input, loss_in, y, last.out, Some(&mut *d));
        if !head.on_z {
            // a = f(z): dL/dz = dL/da · f'(z)
            activations::backward(last.act, d, zl, al, last.out);
        }
        for l in (0..nl).rev() {
            let layer = &self.layers[l];
            let input: &[f32] = if l == 0 { x } else {
                let p = &self.layers[l - 1];
                &a[batch * p.act_off..batch * (p.act_off + p.out)]
            };
            let (gw, gb) = grads[layer.w.start..layer.b.end].split_at_mut(layer.w.len());
            let dz = &dc[..batch * layer.out];
            let dx = if l > 0 { Some(&mut dn[..batch * layer.inp]) } else { None };
            match layer.kind {
                // z = x·W + b  →  dW = xᵀ·dz, db = Σ dz, dx = dz·Wᵀ
                LayerKind::Dense =>
                    dense::backward(input, &params[layer.w.clone()], dz, batch, layer.inp, layer.out, gw, gb, dx),
                // z = γ·x̂ + β, x̂ = (x − μ)/sqrt(σ² + ε) with batch μ, σ²  (see batchnorm::backward)
                LayerKind::BatchNorm(bn) => {
                    let f = layer.out;
                    batchnorm::backward(dz, &xh[batch * bn.xh_off..batch * (bn.xh_off + f)],
                        &self.bn_inv[bn.xh_off..bn.xh_off + f], &params[layer.w.clone()], batch, f, gw, gb, dx,
                        &mut self.scratch);
                }
            }
            if l > 0 {
                // x of this layer is a = f(z) of the previous one: dL/dz = dL/da · f'(z)
                let p = &self.layers[l - 1];
                let rr = batch * p.act_off..batch * (p.act_off + p.out);
                activations::backward(p.act, &mut dn[..batch * p.out], &z[rr.clone()], &a[rr], p.out);
            }
            core::mem::swap(&mut dc, &mut dn);
        }
        total
    }

    fn count_correct(&self, y: Targets, batch: usize) -> u32 {
        let (_, al) = self.last_za(batch);
        let thr = if self.head.input == Input::Logits && !self.head.on_z { 0.0 } else { 0.5 };
        loss::count_correct(al, y, self.output_size(), thr)
    }

    /// Forward, loss and backward: fills the gradient region, returns the mean loss (NaN if
    /// the workspace cannot grow). batch = 0 does nothing and returns 0.
    pub fn forward_backward(&mut self, x: &[f32], y: Targets, batch: usize) -> f32 {
        if batch == 0 {
            return 0.0;
        }
        if !self.ensure_batch(batch) {
            return f32::NAN;
        }
        self.forward(x, batch, Mode::Probe);
        let total = self.backward(x, y, batch);
        self.last_correct = self.count_correct(y, batch);
        (total / batch as f64) as f32
    }

    /// One training step: forward, loss, backward, (statistics,) clipping, optimizer update.
    /// Returns the mean loss over the batch.
    pub fn train_step(&mut self, x: &[f32], y: Targets, batch: usize) -> f32 {
        if batch == 0 {
            return 0.0;
        }
        if !self.ensure_batch(batch) {
            return f32::NAN;
        }
        let collect = self.stats_on;
        self.forward(x, batch, Mode::Train);
        if collect {
            self.activation_stats(batch);
        }
        let total = self.backward(x, y, batch);
        let loss = (total / batch as f64) as f32;
        self.last_correct = self.count_correct(y, batch);

        let clip = self.opt.cfg.clip;
        let grads = self.grads.as_mut_slice();
        // One pass over the gradients serves both the statistics and norm clipping; the same
        // function either way, so that collecting statistics never changes the clipped values.
        // Without clipping, the optimizer's loop summarises the gradients instead (fused).
        let fuse_grad = collect && clip == Clip::Off;
        if (collect && !fuse_grad) || clip.needs_norms() {
            for ((t, gs), sq) in self.tensors.iter().zip(self.grad_sum.iter_mut()).zip(self.sumsq.iter_mut()) {
                *gs = stats::grad_tensor(&grads[t.clone()]);
                *sq = gs.sumsq;
            }
        }
        let clipped = clip::apply(clip, grads, &self.tensors, &self.sumsq);
        let acc = collect.then(|| StatsAcc {
            upd: &mut self.upd[..],
            grad: if fuse_grad { Some(&mut self.grad_sum[..]) } else { None },
        });
        let nt = self.n_train;
        self.opt.update(&mut self.params.as_mut_slice()[..nt], &self.grads.as_slice()[..nt],
            self.state.as_mut_slice(), &self.tensors, acc);
        if collect {
            stats::finish(self.stats.as_mut_slice(), &self.grad_sum, &self.upd, loss, clipped);
        }
        self.apply_constraints();
        loss
    }

    /// Weight constraints after the update (crate::constraints): W as (in, out), norms per unit;
    /// b as (out, 1), one norm over the vector. The statistics' w_norm, update_ratio and
    /// param_norm are taken inside the update, before the constraints.
    fn apply_constraints(&mut self) {
        let params = self.params.as_mut_slice();
        for l in &self.layers {
            if l.kc != Constraint::None {
                constraints::apply(l.kc, &mut params[l.w.clone()], l.inp, l.out, &mut self.scratch);
            }
            if l.bc != Constraint::None && !l.b.is_empty() {
                constraints::apply(l.bc, &mut params[l.b.clone()], l.out, 1, &mut self.scratch);
            }
        }
    }

    fn activation_stats(&mut self, batch: usize) {
        let block = self.stats.as_mut_slice();
        for (l, layer) in self.layers.iter().enumerate() {
            let r = batch * layer.act_off..batch * (layer.act_off + layer.out);
            stats::activation_words(&mut block[l * LAYER_WORDS..(l + 1) * LAYER_WORDS], layer.act,
                &self.ws.z[r.clone()], &self.ws.a[r], layer.out, &mut self.seen);
        }
    }

    /// Rows per inference chunk: predict/evaluate run in chunks of max(largest training batch,
    /// INFER_CHUNK) rows, so evaluating a whole test set at once does not grow the workspace to
    /// its size (memory stays bounded by training, as docs/abi.md promises for small batches).
    pub const INFER_CHUNK: usize = 256;

    /// Grows the workspace for inference over `batch` rows; returns the chunk size, 0 if memory
    /// cannot be had.
    fn infer_chunk(&mut self, batch: usize) -> usize {
        let cap = self.ws.batch.max(Self::INFER_CHUNK);
        let chunk = batch.min(cap);
        if self.ensure_batch(chunk) { chunk } else { 0 }
    }

    /// Inference forward; writes (batch, out_L) into `out`. False if the workspace cannot grow.
    pub fn predict(&mut self, x: &[f32], batch: usize, out: &mut [f32]) -> bool {
        if batch == 0 {
            return true;
        }
        let chunk = self.infer_chunk(batch);
        if chunk == 0 {
            return false;
        }
        let (inp, o) = (self.input_size(), self.output_size());
        for (xc, oc) in x[..batch * inp].chunks(chunk * inp).zip(out[..batch * o].chunks_mut(chunk * o)) {
            let rows = xc.len() / inp;
            self.forward(xc, rows, Mode::Infer);
            oc.copy_from_slice(self.last_za(rows).1);
        }
        true
    }

    /// Inference forward and loss: (summed per-sample loss, number correct).
    pub fn evaluate(&mut self, x: &[f32], y: Targets, batch: usize) -> (f64, u32) {
        if batch == 0 {
            return (0.0, 0);
        }
        let chunk = self.infer_chunk(batch);
        if chunk == 0 {
            return (f64::NAN, 0);
        }
        let (inp, o) = (self.input_size(), self.output_size());
        let (mut total, mut correct) = (0.0f64, 0u32);
        let mut r0 = 0;
        while r0 < batch {
            let rows = chunk.min(batch - r0);
            let yc = match y {
                Targets::Sparse(l) => Targets::Sparse(&l[r0..r0 + rows]),
                Targets::Dense(t) => Targets::Dense(&t[r0 * o..(r0 + rows) * o]),
            };
            self.forward(&x[r0 * inp..(r0 + rows) * inp], rows, Mode::Infer);
            let (zl, al) = self.last_za(rows);
            let loss_in = if self.head.on_z { zl } else { al };
            total += loss::loss_and_grad(self.loss, self.head.input, loss_in, yc, o, None);
            correct += self.count_correct(yc, rows);
            r0 += rows;
        }
        (total, correct)
    }
}

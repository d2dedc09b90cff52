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
use crate::gemm::{self, Trans};
use crate::finite;
use crate::loss::{self, Input, LossKind, Targets};
use crate::clip::Clip;
use crate::optim::{self, OptConfig, Optimizer, SegAcc, StatsAcc};
use crate::pool::{self, SyncSlice};
use crate::stats::{self, ActAcc, GradTensor, UpdAcc, GLOBAL_WORDS, LAYER_WORDS};
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
    /// A split training step's gradient copies of chunks 1.. (chunks − 1 regions), sized by
    /// `ensure_step` for the largest split seen.
    cg: Vec<f32>,
    /// A split step's per-chunk loss sums.
    partial: Vec<f64>,
    /// A split step's activation statistics per chunk and layer (chunk-major), and per chunk
    /// the units seen positive (Σ out flags per chunk, at act_off).
    act: Vec<ActAcc>,
    seen: Vec<bool>,
    /// An input-split step's partial products x[:, part]·W₀[part, :] of parts 1.. (parts − 1
    /// blocks of (batch, out₀); part 0's goes straight to z₀), sized by `ensure_step`.
    zpart: Vec<f32>,
    /// An input-split step's dL/dz₀ (batch, out₀): written by its second pass, read by the
    /// third (possibly still running: pool::join first).
    dz0: Vec<f32>,
}

/// Rows [r0, r0 + n) of a batch of `batch` rows: layer l's z and a for them are rows r0.. of
/// its (batch, out) block at batch·act_off in the workspace.
#[derive(Clone, Copy, Debug)]
struct Rows {
    batch: usize,
    r0: usize,
    n: usize,
}

impl Rows {
    fn all(batch: usize) -> Rows {
        Rows { batch, r0: 0, n: batch }
    }
    /// Layer `l`'s rows in a workspace array.
    fn of(self, l: &Layer) -> Range<usize> {
        let lo = self.batch * l.act_off + self.r0 * l.out;
        lo..lo + self.n * l.out
    }
}

/// What only a whole-batch pass has: batchnorm's state and scratch (split steps never hold a
/// batchnorm layer, see `Model::step_chunks`).
struct BnCtx<'a> {
    mode: Mode,
    /// First non-trainable parameter's offset: `moving` starts there.
    nt: usize,
    moving: &'a mut [f32],
    inv: &'a mut [f32],
    xh: &'a mut [f32],
    scratch: &'a mut [f64],
}

/// Forward pass of `rows` into the workspace arrays z and a, layers `from`.. (their input for
/// from > 0: layer from − 1's a, already there). x is (rows.n, in₀); pt is the trainable part
/// of the parameters. `bn` must be given when a batchnorm layer is present (then rows must be
/// the whole batch).
#[allow(clippy::too_many_arguments)]
fn forward_rows(layers: &[Layer], from: usize, pt: &[f32], x: &[f32], rows: Rows, z: &SyncSlice<f32>,
                a: &SyncSlice<f32>, mut bn: Option<&mut BnCtx>) {
    let batch = rows.n;
    for (l, layer) in layers.iter().enumerate().skip(from) {
        let r = rows.of(layer);
        // SAFETY: these rows of layer l (and of layer l − 1 below) belong to this call alone;
        // the caller keeps concurrent calls on disjoint rows.
        let (zl, cur) = unsafe { (z.range(r.start, r.end), a.range(r.start, r.end)) };
        let input: &[f32] = if l == 0 { x } else {
            let p = rows.of(&layers[l - 1]);
            unsafe { a.slice(p.start, p.end) }
        };
        let (w, b) = (&pt[layer.w.clone()], &pt[layer.b.clone()]);
        match layer.kind {
            LayerKind::Dense => dense::forward(input, w, b, layer.act, batch, layer.inp, layer.out, zl, cur),
            LayerKind::BatchNorm(p) => {
                let c = bn.as_deref_mut().expect("batchnorm needs the whole-batch context");
                assert!(rows.r0 == 0 && rows.n == rows.batch, "batchnorm runs on whole batches");
                let f = layer.out;
                let inv = &mut c.inv[p.xh_off..p.xh_off + f];
                let mov = &mut c.moving[p.mov - c.nt..p.mov - c.nt + 2 * f];
                if c.mode == Mode::Infer {
                    let (mm, mv) = mov.split_at(f);
                    batchnorm::forward_infer(input, batch, f, w, b, p.eps, mm, mv, zl, inv);
                } else {
                    let xh = &mut c.xh[batch * p.xh_off..batch * (p.xh_off + f)];
                    let moving = (c.mode == Mode::Train).then(|| mov.split_at_mut(f));
                    batchnorm::forward_train(input, batch, f, w, b, p.eps, p.momentum, moving, xh, zl, inv,
                        c.scratch);
                }
                activations::forward_bias(layer.act, zl, cur, &[], f);
            }
        }
    }
}

/// Loss and backward pass of `rows` after `forward_rows` on the same x: writes the gradient
/// region `grads` of layers `to`.. (this rows' share of d(mean loss over rows.batch)/dθ) and
/// returns the loss summed over the rows. d0 and d1 are scratch of ≥ rows.n × widest layer each.
/// With to > 0, layer to − 1's dL/dz for the rows (rows.n, out) goes to `dz_out`.
#[allow(clippy::too_many_arguments)]
fn backward_rows(layers: &[Layer], to: usize, (head, loss): (Head, LossKind), pt: &[f32], x: &[f32], y: Targets,
                 rows: Rows, z: &SyncSlice<f32>, a: &SyncSlice<f32>, d0: &mut [f32], d1: &mut [f32],
                 grads: &mut [f32], mut bn: Option<&mut BnCtx>, dz_out: Option<&mut [f32]>) -> f64 {
    let nl = layers.len();
    let batch = rows.n;
    // SAFETY (every z/a read below): these rows were written by this call's forward_rows and
    // no concurrent call touches them.
    let za = |l: &Layer| unsafe { let r = rows.of(l); (z.slice(r.start, r.end), a.slice(r.start, r.end)) };
    let (mut dc, mut dn) = (d0, d1);
    let last = &layers[nl - 1];
    let (zl, al) = za(last);
    let d = &mut dc[..batch * last.out];
    let loss_in = if head.on_z { zl } else { al };
    let total = loss::loss_and_grad_of(loss, head.input, loss_in, y, last.out, rows.batch, Some(&mut *d));
    if !head.on_z {
        // a = f(z): dL/dz = dL/da · f'(z)
        activations::backward(last.act, d, zl, al, last.out);
    }
    for l in (to..nl).rev() {
        let layer = &layers[l];
        let input: &[f32] = if l == 0 { x } else { za(&layers[l - 1]).1 };
        let (gw, gb) = grads[layer.w.start..layer.b.end].split_at_mut(layer.w.len());
        let dz = &dc[..batch * layer.out];
        let dx = if l > 0 { Some(&mut dn[..batch * layer.inp]) } else { None };
        match layer.kind {
            // z = x·W + b  →  dW = xᵀ·dz, db = Σ dz, dx = dz·Wᵀ
            LayerKind::Dense =>
                dense::backward(input, &pt[layer.w.clone()], dz, batch, layer.inp, layer.out, gw, gb, dx),
            // z = γ·x̂ + β, x̂ = (x − μ)/sqrt(σ² + ε) with batch μ, σ²  (see batchnorm::backward)
            LayerKind::BatchNorm(p) => {
                let c = bn.as_deref_mut().expect("batchnorm needs the whole-batch context");
                let f = layer.out;
                batchnorm::backward(dz, &c.xh[batch * p.xh_off..batch * (p.xh_off + f)],
                    &c.inv[p.xh_off..p.xh_off + f], &pt[layer.w.clone()], batch, f, gw, gb, dx, c.scratch);
            }
        }
        if l > 0 {
            // x of this layer is a = f(z) of the previous one: dL/dz = dL/da · f'(z)
            let p = &layers[l - 1];
            let (zp, ap) = za(p);
            activations::backward(p.act, &mut dn[..batch * p.out], zp, ap, p.out);
        }
        core::mem::swap(&mut dc, &mut dn);
    }
    if let Some(out) = dz_out {
        let n = batch * layers[to - 1].out;
        out[..n].copy_from_slice(&dc[..n]);
    }
    total
}

/// A training step splits batches into chunks of about this many rows (see Model::step_chunks).
const STEP_ROWS: usize = 64;
const STEP_CHUNKS_MAX: usize = 8;
/// Floats of extra gradient copies a split step may hold: 32 Mi floats = 128 MiB.
const STEP_GRAD_FLOATS: usize = 1 << 25;
/// The split step's gradient reduction runs on the pool from this many added floats, in chunks
/// of REDUCE_CHUNK elements (64 KiB per array: the adds are memory-bound, and a hand-off to a
/// spinning helper costs a few µs, see pool.rs).
const REDUCE_PAR_MIN: usize = 64 * 1024;
const REDUCE_CHUNK: usize = 16 * 1024;

/// Pass 3 of `Model::input_split_step`: chunk i < blocks computes the first layer's gradient
/// for rows [i·rb, (i + 1)·rb) of W₀ (input features) and applies the update rule to them (the
/// last block also to b₀); chunk blocks + j applies the rule to the j-th 16 Ki-element chunk of
/// the other layers. p, g, m and v are over the trainable region. A deferred pass: Copy, and
/// it owns raw views of what it touches, which nothing else reads or writes until pool::join.
#[derive(Clone, Copy)]
struct InputSplitUpdate {
    /// (batch, inp): the step's x, which the host keeps until the next call (docs/abi.md)
    x: SyncSlice<f32>,
    /// (batch, o0)
    dz0: SyncSlice<f32>,
    p: SyncSlice<f32>,
    g: SyncSlice<f32>,
    m: SyncSlice<f32>,
    v: SyncSlice<f32>,
    batch: usize,
    inp: usize,
    o0: usize,
    /// Rows of W₀ per block (the last may have fewer): a quarter of a part, so that a thread
    /// that is free early (a helper, while the caller is back in the host staging the next
    /// batch) can take over some of the other thread's rows.
    rb: usize,
    /// W₀'s offset and b₀'s length (b₀ follows W₀; 0 without bias).
    w0: usize,
    b0: usize,
    /// Where the other layers start (b₀'s end).
    rest: usize,
}

impl InputSplitUpdate {
    /// Chunk i's gradient and its range [lo, hi) of the regions (see the struct). Not generic
    /// and not inlined: the GEMM and the bias sum exist once, not once per update rule.
    ///
    /// # Safety
    /// Chunk i of this pass alone may touch [lo, hi) of g; x and dz0 must not be written.
    #[inline(never)]
    unsafe fn grad_of(&self, i: usize, blocks: usize) -> (usize, usize) {
        let s = self;
        if i >= blocks {
            let lo = s.rest + (i - blocks) * optim::PAR_CHUNK;
            return (lo, (lo + optim::PAR_CHUNK).min(s.p.len()));
        }
        let (f0, f1) = (i * s.rb, ((i + 1) * s.rb).min(s.inp));
        let (lo, hi) = (s.w0 + f0 * s.o0, s.w0 + f1 * s.o0);
        // z₀ = x·W₀ + b₀  →  dW₀ = xᵀ·dz₀; rows F of it: x[:, F]ᵀ·dz₀
        gemm::sgemm(Trans::T, Trans::N, f1 - f0, s.o0, s.batch, 1.0, s.x.slice(f0, s.x.len()), s.inp,
            s.dz0.slice(0, s.dz0.len()), s.o0, 0.0, s.g.range(lo, hi), s.o0);
        if i + 1 < blocks || s.b0 == 0 {
            return (lo, hi);
        }
        dense::bias_grad(s.dz0.slice(0, s.dz0.len()), s.batch, s.o0, s.g.range(hi, hi + s.b0));
        (lo, hi + s.b0)
    }
}

impl optim::RuleFn for InputSplitUpdate {
    // Not inlined: one function per rule instead of all six inside train_step (see train_step).
    #[inline(never)]
    fn call<R: optim::Rule>(self, rule: R) {
        let s = self;
        let rest_chunks = pool::chunk_count(s.p.len() - s.rest, optim::PAR_CHUNK);
        let blocks = s.inp.div_ceil(s.rb);
        // Chunk order: the first half of W₀'s row blocks, the other layers' chunks, the other
        // half. The pool hands out chunks from both ends (caller: front, helpers: back), as in
        // pass 1, so each thread starts on the rows whose part it multiplied there, and the
        // short chunks in the middle go to whichever finishes its half first.
        let head = blocks.div_ceil(2);
        pool::for_each_chunk_deferred(blocks + rest_chunks, move |c| {
            let i = if c < head { c } else if c < head + rest_chunks { blocks + c - head } else { c - rest_chunks };
            // SAFETY: chunk i alone touches [lo, hi) of p, g, m and v (its rows of W₀, and b₀
            // for the last block, or its own chunk of the other layers); x and dz0 are only read.
            unsafe {
                let (lo, hi) = s.grad_of(i, blocks);
                optim::flat(s.p.range(lo, hi), s.g.slice(lo, hi), s.m.range(lo, hi), s.v.range(lo, hi), rule);
            }
        });
    }
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
    /// The update's per-segment statistics scratch (optim::StatsAcc::seg).
    seg: Vec<SegAcc>,
    sumsq: Vec<f64>,
    stats_on: bool,
    stats: AlignedBuf,
    /// Per-unit scratch for the dead-unit test.
    seen: Vec<bool>,
    last_correct: u32,
    /// 1 + the index in x of the first non-finite input value of the last train_step (which
    /// then changed nothing and returned NaN), or 0.
    bad_input: u32,
    /// Batch of the last forward pass (what `preactivation` reads).
    last_batch: usize,
}

/// A deferred update (pool::for_each_chunk_deferred) may still be writing this model's regions.
impl Drop for Model {
    fn drop(&mut self) {
        pool::join();
    }
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
            seg: vec![SegAcc::default(); optim::segments(&tensors)],
            sumsq: vec![0.0; tensors.len()],
            tensors,
            stats_on: false,
            stats: AlignedBuf::zeroed(nl * LAYER_WORDS + GLOBAL_WORDS)?,
            seen: vec![false; max_out],
            last_correct: 0,
            bad_input: 0,
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
        pool::join();
        self.state.as_slice()
    }
    pub fn opt_state_mut(&mut self) -> &mut [f32] {
        pool::join();
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
        pool::join();
        self.params.as_slice()
    }
    pub fn params_mut(&mut self) -> &mut [f32] {
        pool::join();
        self.params.as_mut_slice()
    }
    pub fn grads(&self) -> &[f32] {
        pool::join();
        self.grads.as_slice()
    }
    pub fn stats(&self) -> &[f32] {
        pool::join();
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
    /// Index in x (batch, in₀) of the first non-finite value the last train_step found, if any.
    pub fn bad_input(&self) -> Option<usize> {
        self.bad_input.checked_sub(1).map(|i| i as usize)
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
        pool::join();
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
        let old = core::mem::take(&mut self.ws);
        self.ws = Workspace { batch, z, a, d0, d1, xh, cg: old.cg, partial: old.partial, act: old.act, seen: old.seen,
            zpart: old.zpart, dz0: old.dz0 };
        true
    }

    /// `ensure_batch` plus the gradient copies of a step split into `chunks` and the buffers of
    /// an input split into `parts` (1: none); false if memory cannot be had.
    fn ensure_step(&mut self, batch: usize, chunks: usize, parts: usize) -> bool {
        if !self.ensure_batch(batch) {
            return false;
        }
        if parts > 1 {
            let o0 = self.layers[0].out;
            let (Some(nz), Some(nd)) = ((parts - 1).checked_mul(batch * o0), batch.checked_mul(o0)) else { return false };
            if nz > self.ws.zpart.len() {
                let Some(v) = try_zeroed(nz) else { return false };
                self.ws.zpart = v;
            }
            if nd > self.ws.dz0.len() {
                let Some(v) = try_zeroed(nd) else { return false };
                self.ws.dz0 = v;
            }
        }
        let Some(ng) = (chunks - 1).checked_mul(self.grads.len()) else { return false };
        if ng > self.ws.cg.len() {
            let Some(cg) = try_zeroed(ng) else { return false };
            self.ws.cg = cg;
        }
        if chunks > 1 && self.ws.partial.is_empty() {
            // per-chunk scratch for up to STEP_CHUNKS_MAX chunks, once
            let total: usize = self.layers.iter().map(|l| l.out).sum();
            self.ws.partial = vec![0.0; STEP_CHUNKS_MAX];
            self.ws.act = vec![ActAcc::default(); STEP_CHUNKS_MAX * self.layers.len()];
            self.ws.seen = vec![false; STEP_CHUNKS_MAX * total];
        }
        true
    }

    /// Forward pass over the batch into the workspace (z and a of every layer, x̂ of every
    /// batchnorm layer). x is (batch, in₀). For batchnorm, z is y = γ·x̂ + β (what the
    /// activation reads).
    fn forward(&mut self, x: &[f32], batch: usize, mode: Mode) {
        self.last_batch = batch;
        let (pt, pm) = self.params.as_mut_slice().split_at_mut(self.n_train);
        let (z, a) = (SyncSlice::new(&mut self.ws.z), SyncSlice::new(&mut self.ws.a));
        let mut bn = BnCtx { mode, nt: self.n_train, moving: pm, inv: &mut self.bn_inv, xh: &mut self.ws.xh,
            scratch: &mut self.scratch };
        forward_rows(&self.layers, 0, pt, x, Rows::all(batch), &z, &a, Some(&mut bn));
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
        let (pt, pm) = self.params.as_mut_slice().split_at_mut(self.n_train);
        let (z, a) = (SyncSlice::new(&mut self.ws.z), SyncSlice::new(&mut self.ws.a));
        let mut bn = BnCtx { mode: Mode::Train, nt: self.n_train, moving: pm, inv: &mut self.bn_inv,
            xh: &mut self.ws.xh, scratch: &mut self.scratch };
        let head = (self.head, self.loss);
        backward_rows(&self.layers, 0, head, pt, x, y, Rows::all(batch), &z, &a, &mut self.ws.d0, &mut self.ws.d1,
            self.grads.as_mut_slice(), Some(&mut bn), None)
    }

    /// Chunks of a training step's data-parallel split of a batch of `batch` rows (1 = no
    /// split). It depends only on the batch and the model, never on the thread count or the
    /// build, so every build and thread count computes the same chunks in the same order and
    /// gets the same bits; one thread runs them in turn. Why split at all: the per-operation
    /// splits (GEMM column blocks) of an MNIST-sized step are ~6 passes of 50–300 µs each, too
    /// short to share; one pass per step of whole forward+backward chunks is ~1 ms per chunk.
    /// - STEP_ROWS = 64 rows per chunk: at 64 rows the GEMMs keep their single-thread speed
    ///   (the packed panels of W are reused over 16 micro-tiles of rows), and batches of 32
    ///   (the usual default) stay whole, so their results are those of an unsplit step.
    /// - at most STEP_CHUNKS_MAX chunks, and the extra gradient copies (chunks − 1 of them) are
    ///   held to STEP_GRAD_FLOATS: they are the split's memory price.
    /// - batchnorm couples the rows of a batch (its mean and variance), so models with it are
    ///   never split.
    ///
    /// Why rows and not units: a split of every hidden layer by its units (each thread owning
    /// its columns of every W, their gradient and optimizer slots, so that no gradient copy or
    /// θ crosses between the cores; 4 passes per MNIST step, bit-identical to the unsplit step)
    /// was built and measured at batch 128: 0.86× of the row split's fit() loop on 2 threads
    /// (two interleaved runs) and 0.95× on one. Both threads read all of x (the helper from
    /// the caller's cache, where the host staged it), and on these VMs each block's update
    /// still ran ~4× its one-thread time with both threads updating at once, though nearly all
    /// of its data was its own core's: its columns are 256-byte pieces of every weight row, and
    /// on these VMs two cores writing that close together slow each other 5.5–6.3× (no byte
    /// shared; 64-byte aligned regions gave the same; bench/interleave.mjs), while contiguous
    /// regions of ≥ 64 KB per thread (this split's row chunks, the update's 16 Ki-element
    /// chunks) cost nothing. Nor does the
    /// first layer's weight gradient leave the chunks: taken over the whole batch by blocks of
    /// W₀'s rows and fused with their update in the deferred pass (the input split's pass 3;
    /// no gradient copy of W₀), the step ran 0.94–0.95× of this one on 2 threads at batch 128.
    ///
    /// What the row split still pays on these VMs (bench/threads.mjs's host check): its halves
    /// wait for each other every step (two step loops on models of their own, meeting at a
    /// barrier after every step, kept 1.69–1.88× of one core against 1.83–1.93× for two free
    /// processes), and every step's update writes all the weights both cores read in the forward
    /// pass. Writing a line the other core has read costs a round trip to that core, 13–31 ns
    /// more per 64-byte line (bench/cross-core.mjs): the 2-thread update of MNIST's 118,282
    /// parameters took 87–136 µs right after both cores had read θ against 55–84 µs after only
    /// the caller had (four probe runs). Measured and dropped against it (interleaved runs,
    /// both orders):
    /// - storing once into each 64-byte line of θ before the update's loop, to take ownership
    ///   ahead of it: 93 against 87 µs;
    /// - writing the summed gradient back into the copies too, so that the helper's next
    ///   backward pass writes lines the caller wrote, not lines it only read: 0.97× in fit()'s
    ///   loop at batch 128;
    /// - uneven chunks (68 and 60 rows, either way round): 0.92–1.03×;
    /// - the input split (`input_split_step`) at batch 128, which keeps W₀'s rows, their
    ///   gradient and update on one core: 0.80–0.89× (0.97× on one thread), its pass 2 on the
    ///   caller alone being ~17% of the step.
    fn step_chunks(&self, batch: usize) -> usize {
        if self.layers.iter().any(|l| l.kind != LayerKind::Dense) || batch <= STEP_ROWS {
            return 1;
        }
        let by_memory = 1 + STEP_GRAD_FLOATS / self.grads.len().max(1);
        batch.div_ceil(STEP_ROWS).min(STEP_CHUNKS_MAX).min(by_memory).max(1)
    }

    /// Forward, loss and backward of a split step (`chunks` > 1, dense layers only): each
    /// chunk of rows [c·batch/chunks, (c+1)·batch/chunks) runs forward and backward on its own
    /// rows of the workspace and its own gradient copy (chunk 0: the gradient region; chunk
    /// c > 0: copy c − 1 of ws.cg); then, with `sum`, the copies are added to the region in
    /// chunk order (g ← ((g₀ + g₁) + g₂) + …; without, the update adds them:
    /// Optimizer::update_summed). Returns the loss summed over the batch (chunk order).
    #[inline(never)] // see train_step
    fn split_pass(&mut self, x: &[f32], y: Targets, batch: usize, chunks: usize, collect: bool, sum: bool) -> f64 {
        let n = self.grads.len();
        let (nl, total) = (self.layers.len(), self.layers.iter().map(|l| l.out).sum::<usize>());
        let (acts, seen) = (SyncSlice::new(&mut self.ws.act), SyncSlice::new(&mut self.ws.seen));
        let (inp, out) = (self.input_size(), self.output_size());
        let widest = self.layers.iter().map(|l| l.out).max().unwrap_or(0);
        let pt = &self.params.as_slice()[..self.n_train];
        let head = (self.head, self.loss);
        let layers = &self.layers[..];
        let (z, a) = (SyncSlice::new(&mut self.ws.z), SyncSlice::new(&mut self.ws.a));
        let (d0, d1) = (SyncSlice::new(&mut self.ws.d0), SyncSlice::new(&mut self.ws.d1));
        let (g0, cg) = (SyncSlice::new(self.grads.as_mut_slice()), SyncSlice::new(&mut self.ws.cg));
        let partial = SyncSlice::new(&mut self.ws.partial[..chunks]);
        pool::for_each_chunk(chunks, |c| {
            let (r0, r1) = (c * batch / chunks, (c + 1) * batch / chunks);
            let rows = Rows { batch, r0, n: r1 - r0 };
            // SAFETY: chunk c alone touches rows [r0, r1) of z, a, d0 and d1 and its own
            // gradient copy; x, y and the parameters are only read.
            unsafe {
                let g = if c == 0 { g0.range(0, n) } else { cg.range((c - 1) * n, c * n) };
                forward_rows(layers, 0, pt, &x[r0 * inp..r1 * inp], rows, &z, &a, None);
                if collect {
                    // the activation statistics of these rows, while they are in this core's cache
                    let (acc, sn) = (acts.range(c * nl, (c + 1) * nl), seen.range(c * total, (c + 1) * total));
                    sn.fill(false);
                    for (layer, acc) in layers.iter().zip(acc.iter_mut()) {
                        let r = rows.of(layer);
                        *acc = ActAcc::default();
                        acc.add(layer.act, z.slice(r.start, r.end), a.slice(r.start, r.end), layer.out,
                            &mut sn[layer.act_off..layer.act_off + layer.out]);
                    }
                }
                let l = backward_rows(layers, 0, head, pt, &x[r0 * inp..r1 * inp], y.rows(r0, r1, out), rows, &z, &a,
                    d0.range(r0 * widest, r1 * widest), d1.range(r0 * widest, r1 * widest), g, None, None);
                partial.write(c, l);
            }
        });
        // g₀ += g_c for c = 1, 2, … per element: element-wise, so any split of the elements
        // (REDUCE_CHUNK) gives the same bits.
        if sum {
            let (g, copies) = (self.grads.as_mut_slice(), &self.ws.cg[..(chunks - 1) * n]);
            if pool::use_chunks(n * (chunks - 1), REDUCE_PAR_MIN) {
                let gs = SyncSlice::new(g);
                pool::for_each_chunk(pool::chunk_count(n, REDUCE_CHUNK), |i| {
                    let (lo, hi) = (i * REDUCE_CHUNK, ((i + 1) * REDUCE_CHUNK).min(n));
                    // SAFETY: chunk i alone writes [lo, hi) of the gradient region.
                    optim::add_copies(unsafe { gs.range(lo, hi) }, copies, n, lo);
                });
            } else {
                optim::add_copies(g, copies, n, 0);
            }
        }
        if collect {
            // merge the chunks' activation statistics in chunk order; chunk 0's flags collect
            // the others' (OR)
            let block = self.stats.as_mut_slice();
            let (head, rest) = self.ws.seen.split_at_mut(total);
            for (l, layer) in self.layers.iter().enumerate() {
                let mut acc = self.ws.act[l];
                let units = layer.act_off..layer.act_off + layer.out;
                for c in 1..chunks {
                    acc.merge(&self.ws.act[c * nl + l]);
                    let other = &rest[(c - 1) * total..c * total];
                    head[units.clone()].iter_mut().zip(&other[units.clone()]).for_each(|(s, &o)| *s |= o);
                }
                acc.write(&mut block[l * LAYER_WORDS..(l + 1) * LAYER_WORDS], layer.act, layer.out, &head[units]);
            }
        }
        self.ws.partial[..chunks].iter().sum()
    }

    /// Parts of an input-split step of `batch` rows: the k-blocks of the first layer's product
    /// (gemm::k_block); 1 (no split) for in₀ ≤ the GEMM's KC, a model with batchnorm, or when
    /// the parts' partial products ((parts − 1) × batch × out₀ floats) would exceed the memory a
    /// row split may take for its gradient copies (STEP_GRAD_FLOATS). See `input_split_step`.
    fn input_parts(&self, batch: usize) -> usize {
        if self.layers.iter().any(|l| l.kind != LayerKind::Dense) {
            return 1;
        }
        let (inp, o0) = (self.layers[0].inp, self.layers[0].out);
        let parts = inp.div_ceil(gemm::k_block(inp));
        if (parts - 1).saturating_mul(batch).saturating_mul(o0) > STEP_GRAD_FLOATS { 1 } else { parts }
    }

    /// A training step of one row chunk (batch ≤ STEP_ROWS; dense layers; no statistics or
    /// clipping; `parts` > 1) that shares its first layer, most of an MNIST-like model's work,
    /// between threads by input features, in three passes:
    /// 1. by part p (features F_p = the p-th k-block of in₀): x[:, F_p]·W₀[F_p, :] (part 0 into
    ///    z₀, the others into ws.zpart);
    /// 2. on the calling thread: z₀ = ((part 0 + part 1) + …), which is the unsplit product's
    ///    value bit for bit (gemm::k_block), bias and activation, the other layers' forward,
    ///    the loss, their backward into the gradient region, and dL/dz₀ into ws.dz0;
    /// 3. `InputSplitUpdate`: by block of W₀'s rows, dW₀ = xᵀ·dz₀ for those rows and the update
    ///    rule on them while they are in cache; by 16 Ki-element chunk, the rule on the other
    ///    layers. Left running on the pool as the step returns (pool::for_each_chunk_deferred):
    ///    it reads x, so the host stages the next batch into another buffer (docs/abi.md).
    ///
    /// Why: a batch of ≤ 64 rows is not split by rows (`step_chunks`), and its per-operation
    /// GEMM splits are too small to pay (gemm::PAR_MIN_MACS), so on 2 threads such a step ran at
    /// one thread's speed (MNIST at batch 32: 0.95× of the simd build in fit()). Split by input
    /// features, each thread keeps its own rows of W₀, their gradient and optimizer slots from
    /// step to step (the pool hands the caller the front chunks and helpers the back ones, and
    /// both passes order the work the same way); what crosses between cores is x's columns and
    /// dL/dz₀, (batch, out₀) floats. For larger batches the row split stays: in fit()-like
    /// loops at batch 128 and 256 this step ran 0.91–0.94× and 0.95–1.01× of the row split.
    ///
    /// Which thread runs a part or block never changes a value, and the step computes what the
    /// unsplit step computes (`forward`, `backward`, `Optimizer::update`), bit for bit: the
    /// product's blocks are summed in its own order, dW₀'s rows are independent dot products
    /// over the batch, db₀ is summed in row order, and the update is element-wise.
    #[inline(never)] // see train_step
    fn input_split_step(&mut self, x: &[f32], y: Targets, batch: usize, parts: usize) -> f64 {
        let nt = self.n_train;
        let (inp, o0) = (self.layers[0].inp, self.layers[0].out);
        let fb = gemm::k_block(inp);
        let x = &x[..batch * inp];
        let total;
        {
            let layers = &self.layers[..];
            let pt = &self.params.as_slice()[..nt];
            let (z, a) = (SyncSlice::new(&mut self.ws.z), SyncSlice::new(&mut self.ws.a));
            let zp = SyncSlice::new(&mut self.ws.zpart);
            // Pass 1. z = x·W + b → z₀ before the bias, one input part at a time.
            let w0 = &pt[layers[0].w.clone()];
            pool::for_each_chunk(parts, |p| {
                let (f0, f1) = (p * fb, ((p + 1) * fb).min(inp));
                // SAFETY: part p alone writes its block (z₀'s first batch·out₀ floats for p = 0).
                let c = unsafe {
                    if p == 0 { z.range(0, batch * o0) } else { zp.range((p - 1) * batch * o0, p * batch * o0) }
                };
                gemm::sgemm(Trans::N, Trans::N, batch, o0, f1 - f0, 1.0, &x[f0..], inp, &w0[f0 * o0..], o0, 0.0, c, o0);
            });
            // Pass 2 (no pass is running: the SyncSlices are this thread's alone).
            // SAFETY: z₀ and a₀ are layer 0's blocks, disjoint from zpart; forward_rows and
            // backward_rows touch the other layers' blocks.
            unsafe {
                let z0 = z.range(0, batch * o0);
                for p in 1..parts {
                    let o = (p - 1) * batch * o0;
                    z0.iter_mut().zip(zp.slice(o, o + batch * o0)).for_each(|(zi, &v)| *zi += v);
                }
                activations::forward_bias(layers[0].act, z0, a.range(0, batch * o0), &pt[layers[0].b.clone()], o0);
            }
            let rows = Rows::all(batch);
            forward_rows(layers, 1, pt, x, rows, &z, &a, None);
            total = backward_rows(layers, 1, (self.head, self.loss), pt, x, y, rows, &z, &a, &mut self.ws.d0,
                &mut self.ws.d1, self.grads.as_mut_slice(), None, Some(&mut self.ws.dz0[..batch * o0]));
        }
        // Pass 3.
        let l0 = &self.layers[0];
        let (m, v) = self.state.as_mut_slice().split_at_mut(nt);
        self.opt.with_rule(InputSplitUpdate {
            x: SyncSlice::shared(x), dz0: SyncSlice::shared(&self.ws.dz0[..batch * o0]),
            p: SyncSlice::new(&mut self.params.as_mut_slice()[..nt]), g: SyncSlice::new(&mut self.grads.as_mut_slice()[..nt]),
            m: SyncSlice::new(m), v: SyncSlice::new(&mut v[..nt]),
            batch, inp, o0, rb: fb.div_ceil(4), w0: l0.w.start, b0: l0.b.len(), rest: l0.b.end,
        });
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
        pool::join();
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
    /// Returns the mean loss over the batch. In the threaded build the update of a split step
    /// without statistics, clipping or constraints may still be running on the pool when this
    /// returns (pool::for_each_chunk_deferred); every accessor of the regions, and the next
    /// step, completes it first (pool::join).
    ///
    /// x is (batch, in₀). A NaN or ±Inf in it is the caller's mistake, not a training event: the
    /// step then changes nothing (not even the gradient region), returns NaN and records where
    /// (`bad_input`).
    ///
    /// Code size: a fresh process runs its first steps in V8's baseline code until the
    /// optimising tier (TurboFan) has compiled the hot functions in the background, and that
    /// compile time grows faster than a function's size. With everything inlined, this function
    /// was 22 KB of wasm (118 ms to compile) and the GEMM's loop nest 16 KB (107 ms), so the
    /// first ~75 steps of MNIST at batch 32 ran at 9–19k samples/s against ~65k: 155–218 ms
    /// lost per process. The split paths, the update rules (`RuleFn::call`) and the GEMM's edge
    /// tiles are therefore not inlined (one call per step, per pass or per edge tile): the
    /// largest hot function is now 6 KB (~50–60 ms), 73–136 ms are lost (`npm start`'s first
    /// epoch: 0.02–0.11 s slower than its second, against 0.12–0.14 s), and the steady state
    /// did not slow (fit()'s loop, four interleaved runs each: 1.03× at batch 32, 1.00× at 128,
    /// 0.99× on 2 threads at 128; the n = 10 GEMMs unchanged). test/wasm-code-size.test.ts
    /// keeps every function of every build at ≤ 8 KiB.
    pub fn train_step(&mut self, x: &[f32], y: Targets, batch: usize) -> f32 {
        pool::join();
        self.bad_input = 0;
        if batch == 0 {
            return 0.0;
        }
        if let Some(i) = finite::first_non_finite(&x[..batch * self.input_size()]) {
            // i < batch·in₀ floats, which fit in wasm32 memory: i + 1 fits in u32
            self.bad_input = i as u32 + 1;
            return f32::NAN;
        }
        let chunks = self.step_chunks(batch);
        let collect = self.stats_on;
        let clip = self.opt.cfg.clip;
        // One row chunk without statistics or clipping (they need the whole gradient before the
        // update) may split its first layer by inputs instead.
        let mut parts = if chunks == 1 && !collect && clip == Clip::Off { self.input_parts(batch) } else { 1 };
        if !self.ensure_step(batch, chunks, parts) {
            // the split's buffers are an extra: without them the unsplit step computes the same
            parts = 1;
            if !self.ensure_step(batch, chunks, 1) {
                return f32::NAN;
            }
        }
        if parts > 1 {
            self.last_batch = batch;
            let total = self.input_split_step(x, y, batch, parts);
            self.last_correct = self.count_correct(y, batch);
            if self.layers.iter().any(|l| l.kc != Constraint::None || l.bc != Constraint::None) {
                // the constraints act on the updated weights: the update must be done
                pool::join();
                self.apply_constraints();
            }
            return (total / batch as f64) as f32;
        }
        // A split step without statistics or clipping leaves the gradient copies to the update
        // (Optimizer::update_summed), which may then run on as the step returns
        // (Optimizer::defer) unless constraints still have to follow it.
        let summed = chunks > 1 && !collect && clip == Clip::Off;
        let total = if chunks > 1 {
            self.last_batch = batch;
            self.split_pass(x, y, batch, chunks, collect, !summed)
        } else {
            self.forward(x, batch, Mode::Train);
            if collect {
                self.activation_stats(batch);
            }
            self.backward(x, y, batch)
        };
        let loss = (total / batch as f64) as f32;
        self.last_correct = self.count_correct(y, batch);

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
            seg: &mut self.seg[..],
        });
        let nt = self.n_train;
        self.opt.parallel = chunks > 1;
        self.opt.defer = summed && self.layers.iter().all(|l| l.kc == Constraint::None && l.bc == Constraint::None);
        if summed {
            // split steps are dense-only: the trainable part is the whole gradient region
            debug_assert_eq!(nt, self.grads.len());
            let copies = &self.ws.cg[..(chunks - 1) * self.grads.len()];
            self.opt.update_summed(&mut self.params.as_mut_slice()[..nt], &mut self.grads.as_mut_slice()[..nt],
                copies, self.state.as_mut_slice());
        } else {
            self.opt.update(&mut self.params.as_mut_slice()[..nt], &self.grads.as_slice()[..nt],
                self.state.as_mut_slice(), &self.tensors, acc);
        }
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
        pool::join();
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
        pool::join();
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
            let yc = y.rows(r0, r0 + rows, o);
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

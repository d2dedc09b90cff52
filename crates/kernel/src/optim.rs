//! Optimizers: Keras 3's update equations, one flat loop over the whole parameter region.
//!
//! Order within a step, as keras/src/optimizers/base_optimizer.py `apply`: gradients are
//! clipped first (crate::clip), then decoupled weight decay θ ← θ − θ·wd·lr
//! (`_apply_weight_decay`, every optimizer when weight_decay > 0), then the update below.
//! t counts steps from 1 (`iterations + 1`).
//!
//! SGD (keras/src/optimizers/sgd.py):
//!   momentum = 0:  θ ← θ − lr·g
//!   else:          m ← μ·m − lr·g;  θ ← θ + m,  or with Nesterov  θ ← θ + μ·m − lr·g
//!   (PyTorch keeps b ← μb + g and steps −lr·b: equal at constant lr, differs once lr changes.)
//! RMSprop (keras/src/optimizers/rmsprop.py, centered = False):
//!   v ← ρ·v + (1 − ρ)·g²;  inc = lr·g / sqrt(v + ε)
//!   momentum = 0: θ ← θ − inc;  else m ← μ·m + inc; θ ← θ − m
//!   (PyTorch: lr·g / (sqrt(v) + ε), ε outside the root.)
//! Adagrad (keras/src/optimizers/adagrad.py): v starts at initial_accumulator_value,
//!   v ← v + g²;  θ ← θ − lr·g / sqrt(v + ε)
//!   (PyTorch: starts at 0, divides by sqrt(v) + ε.)
//! Adam (keras/src/optimizers/adam.py):
//!   α = lr·sqrt(1 − β₂ᵗ)/(1 − β₁ᵗ);  m ← m + (g − m)(1 − β₁);  v ← v + (g² − v)(1 − β₂)
//!   θ ← θ − α·m / (sqrt(v) + ε)
//!   (ε is Kingma & Ba's "ε-hat": PyTorch adds ε to sqrt(v̂) = sqrt(v)/sqrt(1 − β₂ᵗ), so the two
//!   differ when sqrt(v) is comparable to ε. PyTorch's Adam weight_decay is an L2 term added
//!   to g; Keras 3's is decoupled, as above.)
//! AdamW (keras/src/optimizers/adamw.py): Adam with decoupled weight decay (Keras default
//!   0.004; PyTorch's AdamW multiplies θ by (1 − lr·wd) first, which is the same).
//!
//! Optimizer state lives in one flat region of 2 × param_count floats: slot m = [0, n),
//! slot v = [n, 2n), in the parameter layout.
//!
//! Slots are stored flush-to-zero: a new slot value below f32::MIN_POSITIVE in magnitude (a
//! subnormal) is stored as 0 (`Lane::ftz`), and the step uses the stored value. TensorFlow's
//! CPU kernels (Keras's usual backend) compute with the CPU's flush-to-zero flags set and flush
//! the same values (tensorflow/python/kernel_tests/denormal_test.py); wasm cannot set them, and x86
//! takes a microcode assist on every subnormal operand. Why it matters: a slot that decays
//! (Adam's m by β₁ = 0.9 a step where its gradient is 0, e.g. the weights of a rarely lit MNIST
//! pixel) passes ~150 steps as a subnormal. After 1–3 MNIST epochs 2.4–3% of the Adam slots
//! were subnormal, and one update of the 118,282-parameter model took 128 µs against 86 µs
//! with the flush (one thread), ~8% of a batch-32 step: fit()'s loop at batch 32 ran 1.05×
//! faster with it (six interleaved runs in both orders, 0.99–1.10 each), ~1.02× at batch 128.
//! A flushed slot changes θ by α·m/(√v + ε) with |m| < 1.2·10⁻³⁸: nothing, for any θ that is
//! not itself within a few ulps of the subnormals.
use crate::pool::SyncSlice;
use crate::clip::Clip;
use crate::stats::{GradTensor, UpdAcc, BLOCK};

/// Statistics the update loop fills when collection is on: one `UpdAcc` per tensor and, when
/// the gradients reach the update unclipped, their per-tensor summaries too (saving the
/// separate pass over the gradients).
pub struct StatsAcc<'a> {
    pub upd: &'a mut [UpdAcc],
    pub grad: Option<&'a mut [GradTensor]>,
    /// Scratch of at least `segments(tensors)` entries: each tensor's loop runs in segments of
    /// SEG elements, each summing into its own entry, merged in segment order, so that the
    /// segments can run on the pool. (A tensor of at most SEG elements is one segment, and its
    /// sums have the bits of one pass over it.)
    pub seg: &'a mut [SegAcc],
}

/// One segment's accumulators (see `StatsAcc::seg`).
#[derive(Clone, Copy, Debug, Default)]
pub struct SegAcc {
    pub upd: UpdAcc,
    pub grad: GradTensor,
}

/// Elements per statistics segment: a multiple of BLOCK (so a tensor's blocks start at the same
/// offsets either way), 16 Ki like the flat update's chunks.
pub const SEG: usize = 16 * 1024;

/// Number of SEG-element segments covering `tensors` (each tensor on its own).
pub fn segments(tensors: &[Range<usize>]) -> usize {
    tensors.iter().map(|r| crate::pool::chunk_count(r.len(), SEG)).sum()
}
use core::ops::Range;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OptKind {
    Sgd,
    RmsProp,
    Adagrad,
    Adam,
    AdamW,
}

/// Resolved configuration (docs/abi.md, cfg words 0–11).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OptConfig {
    pub kind: OptKind,
    pub lr: f32,
    pub beta_1: f32,
    pub beta_2: f32,
    pub epsilon: f32,
    pub momentum: f32,
    pub nesterov: bool,
    pub weight_decay: f32,
    pub rho: f32,
    pub initial_accumulator_value: f32,
    pub clip: Clip,
}

pub const CFG_WORDS: usize = 12;
/// Status codes of `parse` (returned through gg_model_set_optimizer).
pub const ERR_KIND: i32 = -1;
pub const ERR_LEN: i32 = -2;
/// An invalid value in cfg word i gives `ERR_WORD - i`.
pub const ERR_WORD: i32 = -100;
/// More than one clipping option non-zero.
pub const ERR_CLIP: i32 = -200;

impl OptConfig {
    /// Keras's SGD defaults (lr 0.01, no momentum): the optimizer of a model nobody configured.
    pub fn default_sgd() -> Self {
        OptConfig {
            kind: OptKind::Sgd, lr: 0.01, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7, momentum: 0.0,
            nesterov: false, weight_decay: 0.0, rho: 0.9, initial_accumulator_value: 0.1, clip: Clip::Off,
        }
    }

    /// Validates the words the kind uses; unused words are ignored.
    pub fn parse(kind: u32, cfg: &[f32]) -> Result<Self, i32> {
        let kind = match kind {
            0 => OptKind::Sgd,
            1 => OptKind::RmsProp,
            2 => OptKind::Adagrad,
            3 => OptKind::Adam,
            4 => OptKind::AdamW,
            _ => return Err(ERR_KIND),
        };
        if cfg.len() < CFG_WORDS {
            return Err(ERR_LEN);
        }
        let word = |i: usize, ok: &dyn Fn(f32) -> bool| -> Result<f32, i32> {
            let v = cfg[i];
            if v.is_finite() && ok(v) { Ok(v) } else { Err(ERR_WORD - i as i32) }
        };
        let nonneg = |v: f32| v >= 0.0;
        let unit_open = |v: f32| (0.0..1.0).contains(&v);
        let unit = |v: f32| (0.0..=1.0).contains(&v);
        let uses = |ks: &[OptKind]| ks.contains(&kind);
        use OptKind::*;
        let d = Self::default_sgd();
        let c = OptConfig {
            kind,
            lr: word(0, &nonneg)?,
            beta_1: if uses(&[Adam, AdamW]) { word(1, &unit_open)? } else { d.beta_1 },
            beta_2: if uses(&[Adam, AdamW]) { word(2, &unit_open)? } else { d.beta_2 },
            epsilon: if uses(&[RmsProp, Adagrad, Adam, AdamW]) { word(3, &nonneg)? } else { d.epsilon },
            momentum: if uses(&[Sgd, RmsProp]) { word(4, &unit)? } else { 0.0 },
            nesterov: if uses(&[Sgd]) { word(5, &|v| v == 0.0 || v == 1.0)? == 1.0 } else { false },
            weight_decay: word(6, &nonneg)?,
            rho: if uses(&[RmsProp]) { word(7, &unit)? } else { d.rho },
            initial_accumulator_value: if uses(&[Adagrad]) { word(8, &nonneg)? } else { 0.0 },
            clip: Clip::Off,
        };
        let cv = word(9, &nonneg)?;
        let cn = word(10, &nonneg)?;
        let cg = word(11, &nonneg)?;
        let clip = match (cv > 0.0, cn > 0.0, cg > 0.0) {
            (false, false, false) => Clip::Off,
            (true, false, false) => Clip::Value(cv),
            (false, true, false) => Clip::Norm(cn),
            (false, false, true) => Clip::GlobalNorm(cg),
            _ => return Err(ERR_CLIP),
        };
        Ok(OptConfig { clip, ..c })
    }
}

/// An optimizer: configuration plus the step counter. Its slots live in the model's state region.
#[derive(Clone, Debug)]
pub struct Optimizer {
    pub cfg: OptConfig,
    /// Updates applied so far (Keras's `iterations`).
    pub iterations: u64,
    /// Whether an update may run on the pool (from PAR_MIN parameters; default true). The model
    /// clears it for steps that ran on one thread (batches of ≤ 64 rows): there a shared update
    /// left half of θ, m and v in the other core's cache for the next step's forward pass, and
    /// MNIST at batch 32 ran 0.79–0.88× of one thread.
    pub parallel: bool,
    /// Whether a parallel update may be left running on the pool's helpers when `update`
    /// returns (pool::for_each_chunk_deferred): the model sets it for split steps whose update
    /// is the step's last work (no statistics to finish, no constraints to apply).
    pub defer: bool,
}

impl Optimizer {
    pub fn new(cfg: OptConfig) -> Self {
        Optimizer { cfg, iterations: 0, parallel: true, defer: false }
    }

    /// Resets the slots (state is 2n: m then v) and the step counter: m = 0, v = 0 except
    /// Adagrad's accumulator, which starts at initial_accumulator_value.
    pub fn reset(&mut self, state: &mut [f32]) {
        self.iterations = 0;
        let n = state.len() / 2;
        let (m, v) = state.split_at_mut(n);
        m.fill(0.0);
        v.fill(if self.cfg.kind == OptKind::Adagrad { self.cfg.initial_accumulator_value } else { 0.0 });
    }

    /// One update of `params` from `grads` (already clipped). `state` is 2 × params.len().
    /// With `acc`, the loop runs tensor by tensor (`tensors`, one accumulator each) and records
    /// Δθ and ‖θ‖ (and the gradients' summaries if asked) for the statistics; without, it is one
    /// flat loop over the whole region.
    pub fn update(&mut self, params: &mut [f32], grads: &[f32], state: &mut [f32],
                  tensors: &[Range<usize>], acc: Option<StatsAcc>) {
        self.update_from(params, Grads::Whole(grads), state, tensors, acc)
    }

    /// A split step's update without statistics: first g ← ((g + c₀) + c₁) + … per element,
    /// where `copies` holds the other chunks' gradients (whole regions of grads.len() floats,
    /// one after the other), then the update from the summed g, which stays in `grads` (the
    /// bits of adding the copies in a pass of their own and then calling `update`). Why fused:
    /// each 16 Ki-element chunk of g is summed and used while it is in cache, and a deferred
    /// update (`defer`) takes the sum off the step's critical path too.
    pub fn update_summed(&mut self, params: &mut [f32], grads: &mut [f32], copies: &[f32], state: &mut [f32]) {
        assert!(copies.len() % grads.len().max(1) == 0, "update_summed: copies are whole regions");
        self.update_from(params, Grads::Summed(grads, copies), state, &[], None)
    }

    fn update_from(&mut self, params: &mut [f32], grads: Grads, state: &mut [f32],
                   tensors: &[Range<usize>], acc: Option<StatsAcc>) {
        let n = params.len();
        let (m, v) = state.split_at_mut(n);
        let par = if !self.parallel { Par::Off } else if self.defer { Par::Deferred } else { Par::On };
        self.with_rule(Drive { p: params, g: grads, m, v, tensors, acc, par });
    }

    /// Builds this step's update rule (step t = iterations + 1, decoupled weight decay folded
    /// in) and hands it to `f`, then counts the step. For callers that apply the rule to their
    /// own ranges (a split step's fused update, model.rs); `update` is the usual way in.
    pub(crate) fn with_rule<F: RuleFn>(&mut self, f: F) {
        let c = self.cfg;
        let t = self.iterations + 1;
        let (lr, eps, mu) = (c.lr, c.epsilon, c.momentum);
        let wd = c.weight_decay * c.lr; // θ ← θ − θ·wd·lr
        // One monomorphised loop per rule (a `match` inside the element loop would not vectorise).
        match c.kind {
            OptKind::Sgd if mu == 0.0 => decayed(f, wd, Sgd { lr }),
            OptKind::Sgd if c.nesterov => decayed(f, wd, Nesterov { lr, mu }),
            OptKind::Sgd => decayed(f, wd, Momentum { lr, mu }),
            OptKind::RmsProp if mu > 0.0 => decayed(f, wd, RmsPropMomentum { lr, mu, rho: c.rho, k: 1.0 - c.rho, eps }),
            OptKind::RmsProp => decayed(f, wd, RmsProp { lr, rho: c.rho, k: 1.0 - c.rho, eps }),
            OptKind::Adagrad => decayed(f, wd, Adagrad { lr, eps }),
            OptKind::Adam | OptKind::AdamW => {
                let (b1, b2) = (c.beta_1, c.beta_2);
                let tf = t as f64;
                let alpha = (lr as f64 * (1.0 - (b2 as f64).powf(tf)).sqrt() / (1.0 - (b1 as f64).powf(tf))) as f32;
                decayed(f, wd, Adam { alpha, k1: 1.0 - b1, k2: 1.0 - b2, eps })
            }
        }
        self.iterations = t;
    }
}

/// Work to do with a step's update rule, monomorphised per rule (`Optimizer::with_rule`).
pub(crate) trait RuleFn {
    fn call<R: Rule>(self, rule: R);
}

/// `rule`, behind decoupled weight decay when `wd` (wd·lr) is not 0.
#[inline(always)]
fn decayed<F: RuleFn, R: Rule>(f: F, wd: f32, rule: R) {
    if wd != 0.0 { f.call(Decay { wd, rule }) } else { f.call(rule) }
}

/// The update over whole regions (`Optimizer::update_from`).
struct Drive<'a> {
    p: &'a mut [f32],
    g: Grads<'a>,
    m: &'a mut [f32],
    v: &'a mut [f32],
    tensors: &'a [Range<usize>],
    acc: Option<StatsAcc<'a>>,
    par: Par,
}

impl RuleFn for Drive<'_> {
    // Not inlined, so that each rule's loops are a function of their own (one call per step):
    // V8 compiles a hot wasm function with its optimising tier as a whole, in a time that grows
    // faster than its size, and with every rule inlined `with_rule` was 31 KB (see
    // `Model::train_step`, "Code size").
    #[inline(never)]
    fn call<R: Rule>(self, rule: R) {
        drive_rule(self.p, self.g, self.m, self.v, self.tensors, self.acc, self.par, rule)
    }
}

/// The arithmetic an update rule needs, on one f32 (the flat loop, which LLVM vectorises) or on
/// an f32x4 of four parameters (the fused statistics loop, `stats_block`). IEEE f32 add, sub,
/// mul, div and sqrt round the same per lane as on scalars, and wasm never contracts a mul and
/// an add into an FMA, so both give the same bits: collecting statistics never changes training.
pub(crate) trait Lane: Copy {
    fn splat(x: f32) -> Self;
    fn add(self, o: Self) -> Self;
    fn sub(self, o: Self) -> Self;
    fn mul(self, o: Self) -> Self;
    fn div(self, o: Self) -> Self;
    fn sqrt(self) -> Self;
    /// 0 for a subnormal (|x| < f32::MIN_POSITIVE, ±0 included), else x: a slot's stored
    /// value (module comment). NaN and ±Inf pass unchanged.
    fn ftz(self) -> Self;
}

impl Lane for f32 {
    #[inline(always)] fn splat(x: f32) -> Self { x }
    #[inline(always)] fn add(self, o: Self) -> Self { self + o }
    #[inline(always)] fn sub(self, o: Self) -> Self { self - o }
    #[inline(always)] fn mul(self, o: Self) -> Self { self * o }
    #[inline(always)] fn div(self, o: Self) -> Self { self / o }
    #[inline(always)] fn sqrt(self) -> Self { f32::sqrt(self) }
    #[inline(always)] fn ftz(self) -> Self { if self.abs() < f32::MIN_POSITIVE { 0.0 } else { self } }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
impl Lane for core::arch::wasm32::v128 {
    #[inline(always)] fn splat(x: f32) -> Self { core::arch::wasm32::f32x4_splat(x) }
    #[inline(always)] fn add(self, o: Self) -> Self { core::arch::wasm32::f32x4_add(self, o) }
    #[inline(always)] fn sub(self, o: Self) -> Self { core::arch::wasm32::f32x4_sub(self, o) }
    #[inline(always)] fn mul(self, o: Self) -> Self { core::arch::wasm32::f32x4_mul(self, o) }
    #[inline(always)] fn div(self, o: Self) -> Self { core::arch::wasm32::f32x4_div(self, o) }
    #[inline(always)] fn sqrt(self) -> Self { core::arch::wasm32::f32x4_sqrt(self) }
    #[inline(always)] fn ftz(self) -> Self {
        use core::arch::wasm32::{f32x4_abs, f32x4_lt, f32x4_splat, v128_andnot};
        // lanes with |x| < MIN_POSITIVE cleared to +0, as the f32 version
        v128_andnot(self, f32x4_lt(f32x4_abs(self), f32x4_splat(f32::MIN_POSITIVE)))
    }
}

/// An update rule: θ_new from (θ after weight decay, g), updating its slots m, v in place. The
/// equations are those of the module comment, in the order written there (a·b·c is (a·b)·c);
/// every slot is stored flush-to-zero (`Lane::ftz`) before the step reads it.
pub(crate) trait Rule: Copy + Send + Sync + 'static {
    fn step<L: Lane>(self, p: L, g: L, m: &mut L, v: &mut L) -> L;
}

/// SGD, momentum 0: θ − lr·g
#[derive(Clone, Copy)]
struct Sgd { lr: f32 }
impl Rule for Sgd {
    #[inline(always)]
    fn step<L: Lane>(self, p: L, g: L, _m: &mut L, _v: &mut L) -> L {
        p.sub(L::splat(self.lr).mul(g))
    }
}

/// SGD with Nesterov momentum: m ← μ·m − lr·g; θ + (μ·m − lr·g)
#[derive(Clone, Copy)]
struct Nesterov { lr: f32, mu: f32 }
impl Rule for Nesterov {
    #[inline(always)]
    fn step<L: Lane>(self, p: L, g: L, m: &mut L, _v: &mut L) -> L {
        let (mu, lr) = (L::splat(self.mu), L::splat(self.lr));
        *m = mu.mul(*m).sub(lr.mul(g)).ftz();
        p.add(mu.mul(*m).sub(lr.mul(g)))
    }
}

/// SGD with momentum: m ← μ·m − lr·g; θ + m
#[derive(Clone, Copy)]
struct Momentum { lr: f32, mu: f32 }
impl Rule for Momentum {
    #[inline(always)]
    fn step<L: Lane>(self, p: L, g: L, m: &mut L, _v: &mut L) -> L {
        *m = L::splat(self.mu).mul(*m).sub(L::splat(self.lr).mul(g)).ftz();
        p.add(*m)
    }
}

/// RMSprop with momentum: v ← ρ·v + (1 − ρ)·g·g; m ← μ·m + lr·g / sqrt(v + ε); θ − m
#[derive(Clone, Copy)]
struct RmsPropMomentum { lr: f32, mu: f32, rho: f32, k: f32, eps: f32 }
impl Rule for RmsPropMomentum {
    #[inline(always)]
    fn step<L: Lane>(self, p: L, g: L, m: &mut L, v: &mut L) -> L {
        *v = L::splat(self.rho).mul(*v).add(L::splat(self.k).mul(g).mul(g)).ftz();
        *m = L::splat(self.mu).mul(*m).add(L::splat(self.lr).mul(g).div(v.add(L::splat(self.eps)).sqrt())).ftz();
        p.sub(*m)
    }
}

/// RMSprop: v ← ρ·v + (1 − ρ)·g·g; θ − lr·g / sqrt(v + ε)
#[derive(Clone, Copy)]
struct RmsProp { lr: f32, rho: f32, k: f32, eps: f32 }
impl Rule for RmsProp {
    #[inline(always)]
    fn step<L: Lane>(self, p: L, g: L, _m: &mut L, v: &mut L) -> L {
        *v = L::splat(self.rho).mul(*v).add(L::splat(self.k).mul(g).mul(g)).ftz();
        p.sub(L::splat(self.lr).mul(g).div(v.add(L::splat(self.eps)).sqrt()))
    }
}

/// Adagrad: v ← v + g·g; θ − lr·g / sqrt(v + ε)
#[derive(Clone, Copy)]
struct Adagrad { lr: f32, eps: f32 }
impl Rule for Adagrad {
    #[inline(always)]
    fn step<L: Lane>(self, p: L, g: L, _m: &mut L, v: &mut L) -> L {
        *v = v.add(g.mul(g)).ftz();
        p.sub(L::splat(self.lr).mul(g).div(v.add(L::splat(self.eps)).sqrt()))
    }
}

/// Adam/AdamW: m ← m + (g − m)(1 − β₁); v ← v + (g·g − v)(1 − β₂); θ − α·m / (sqrt(v) + ε)
#[derive(Clone, Copy)]
struct Adam { alpha: f32, k1: f32, k2: f32, eps: f32 }
impl Rule for Adam {
    #[inline(always)]
    fn step<L: Lane>(self, p: L, g: L, m: &mut L, v: &mut L) -> L {
        *m = m.add(g.sub(*m).mul(L::splat(self.k1))).ftz();
        *v = v.add(g.mul(g).sub(*v).mul(L::splat(self.k2))).ftz();
        p.sub(L::splat(self.alpha).mul(*m).div(v.sqrt().add(L::splat(self.eps))))
    }
}

/// Decoupled weight decay before a rule: θ ← θ − θ·(wd·lr), then the rule.
#[derive(Clone, Copy)]
struct Decay<R> { wd: f32, rule: R }
impl<R: Rule> Rule for Decay<R> {
    #[inline(always)]
    fn step<L: Lane>(self, p: L, g: L, m: &mut L, v: &mut L) -> L {
        self.rule.step(p.sub(p.mul(L::splat(self.wd))), g, m, v)
    }
}

/// The gradients an update reads (see `Optimizer::update_summed`).
enum Grads<'a> {
    Whole(&'a [f32]),
    /// The region and the split step's other gradient copies, to be added in first.
    Summed(&'a mut [f32], &'a [f32]),
}

/// How an update may use the pool (see `Optimizer::parallel`, `Optimizer::defer`).
#[derive(Clone, Copy, PartialEq)]
enum Par { Off, On, Deferred }

#[inline(always)]
fn drive_rule<R: Rule>(
    p: &mut [f32], g: Grads, m: &mut [f32], v: &mut [f32], tensors: &[Range<usize>],
    acc: Option<StatsAcc>, par: Par, rule: R,
) {
    match acc {
        None => par_flat(p, g, m, v, par, rule),
        Some(StatsAcc { upd: acc, mut grad, seg }) => {
            let Grads::Whole(g) = g else { unreachable!("update_summed collects no statistics") };
            let with_grad = grad.is_some();
            let count = segments(tensors);
            assert!(seg.len() >= count, "StatsAcc::seg holds {} entries, the tensors need {count}", seg.len());
            // Block by block (BLOCK elements, starting at multiples of BLOCK in each tensor):
            // the update and the block's sums in one pass (`stats_block`).
            // Elements [lo, hi) of the regions; the caller owns them alone.
            let run = |lo: usize, hi: usize, p: &mut [f32], m: &mut [f32], v: &mut [f32]| {
                let mut out = SegAcc::default();
                let blocks = p.chunks_mut(BLOCK).zip(g[lo..hi].chunks(BLOCK)).zip(m.chunks_mut(BLOCK))
                    .zip(v.chunks_mut(BLOCK));
                for (((pb, gb), mb), vb) in blocks {
                    stats_block(pb, gb, mb, vb, rule, with_grad.then_some(&mut out.grad), &mut out.upd);
                }
                out
            };
            for (t, a) in acc.iter_mut().enumerate() {
                *a = UpdAcc::default();
                if let Some(gs) = grad.as_deref_mut() {
                    gs[t] = GradTensor::default();
                }
            }
            // Segment i of the flattened list → (its range); tensors are few, a scan is enough.
            let range_of = |mut i: usize| {
                for r in tensors {
                    let k = crate::pool::chunk_count(r.len(), SEG);
                    if i < k {
                        let lo = r.start + i * SEG;
                        return lo..(lo + SEG).min(r.end);
                    }
                    i -= k;
                }
                unreachable!("segment index past the tensors")
            };
            let (ps, ms, vs, out) = (SyncSlice::new(p), SyncSlice::new(m), SyncSlice::new(v), SyncSlice::new(seg));
            let body = |i: usize| {
                let r = range_of(i);
                // SAFETY: segment i alone touches r of p, m, v and entry i of seg.
                unsafe {
                    let o = run(r.start, r.end, ps.range(r.start, r.end), ms.range(r.start, r.end), vs.range(r.start, r.end));
                    out.write(i, o);
                }
            };
            if par != Par::Off && crate::pool::use_chunks(g.len(), PAR_MIN) {
                crate::pool::for_each_chunk(count, body);
            } else {
                (0..count).for_each(body);
            }
            // Merge in segment order: sums in order, max by the same rule as add_block.
            let mut i = 0;
            for (t, r) in tensors.iter().enumerate() {
                for _ in 0..crate::pool::chunk_count(r.len(), SEG) {
                    let o = seg[i];
                    acc[t].merge(&o.upd);
                    if let Some(gs) = grad.as_deref_mut() {
                        gs[t].merge(&o.grad);
                    }
                    i += 1;
                }
            }
        }
    }
}

/// One block of the statistics path: θ, m, v of the block updated by `rule` (the bits of the
/// flat loop), and its sums — Σg² and max |g| into `grad` (when given) and Σ(Δθ)², Σθ_before²,
/// Σθ_after² into `upd`, with the non-finite handling of `GradTensor::add_block` and
/// `UpdAcc::add_block`.
///
/// simd128: one fused pass, one f32x4 at a time; the sums keep one f32x4 accumulator each
/// (reduce::SqMax, reduce::Diff3), so their f32 partials group the terms differently from the
/// block reductions (the last bits of a statistic, never of training). Why fused: Adam's update
/// is bound by the divider (one sqrt and one div per element, ~2 cycles per parameter), and the
/// separate passes (copy θ, Σg², the update, then the three sums) made collecting statistics
/// every step cost 8–14% of an MNIST batch-32 step (7.4–8.2% fused, same-build A/B). Since the
/// slots' flush-to-zero made the step itself faster, the same sums (about 11 vector operations
/// per f32x4 on top of the rule's) cost 8.5–10% of a `trainStep` in noisy minutes of these
/// shared VMs but 0.99–1.01× in calm ones, where they hide behind the divider; in `fit()` 0–2%
/// (bench/stats-cost.mjs). The three passes per 256-element block (the other builds' version
/// below) measured the same as fused in a noisy minute (9.8–11.7%). θ_before
/// still goes to a block buffer: the f64 re-sum of a block whose f32 sums overflowed needs it.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn stats_block<R: Rule>(p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], rule: R,
                        grad: Option<&mut GradTensor>, upd: &mut UpdAcc) {
    // Two loops, with and without the gradient's sums (a per-iteration test kept V8 selecting
    // between accumulators every step).
    match grad {
        Some(gt) => stats_block_simd::<R, true>(p, g, m, v, rule, Some(gt), upd),
        None => stats_block_simd::<R, false>(p, g, m, v, rule, None, upd),
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn stats_block_simd<R: Rule, const WITH_GRAD: bool>(p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32],
                                                    rule: R, grad: Option<&mut GradTensor>, upd: &mut UpdAcc) {
    use core::arch::wasm32::{v128, v128_load, v128_store};
    use crate::reduce::{Diff3, SqMax};
    let n = p.len();
    debug_assert!(n <= BLOCK && g.len() == n && m.len() == n && v.len() == n);
    let mut before = [0.0f32; BLOCK];
    let (mut sq, mut d3) = (SqMax::new(), Diff3::new());
    let full = n / 4 * 4;
    let mut i = 0;
    // SAFETY: i + 4 ≤ full ≤ n for every access; unaligned v128 loads and stores are allowed.
    unsafe {
        let ld = |x: *const f32| v128_load(x as *const v128);
        let st = |x: *mut f32, y: v128| v128_store(x as *mut v128, y);
        while i < full {
            let (pp, gp, mp, vp) = (p.as_mut_ptr().add(i), g.as_ptr().add(i), m.as_mut_ptr().add(i), v.as_mut_ptr().add(i));
            let (x, gv) = (ld(pp), ld(gp));
            let (mut mv, mut vv) = (ld(mp), ld(vp));
            let y = rule.step(x, gv, &mut mv, &mut vv);
            st(pp, y);
            st(mp, mv);
            st(vp, vv);
            st(before.as_mut_ptr().add(i), x);
            if WITH_GRAD {
                sq.add(gv);
            }
            d3.add(x, y);
            i += 4;
        }
    }
    before[full..n].copy_from_slice(&p[full..]);
    flat(&mut p[full..], &g[full..], &mut m[full..], &mut v[full..], rule);
    if let Some(gt) = grad {
        let (s, mx) = sq.finish(&g[full..]);
        gt.add_sums(g, s, mx);
    }
    let sums = d3.finish(&before[full..n], &p[full..]);
    upd.add_sums(&before[..n], p, sums);
}

/// Other builds: the three passes (the portable reductions vectorise no better fused).
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline(always)]
fn stats_block<R: Rule>(p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], rule: R,
                        grad: Option<&mut GradTensor>, upd: &mut UpdAcc) {
    if let Some(gt) = grad {
        gt.add_block(g);
    }
    let mut before = [0.0f32; BLOCK];
    let b = &mut before[..p.len()];
    b.copy_from_slice(p);
    flat(p, g, m, v, rule);
    upd.add_block(b, p);
}

/// Elements per chunk of a threaded flat update: 16 Ki elements = 4 arrays × 64 KiB, big enough
/// that claiming a chunk (an atomic compare-and-swap, pool.rs) is nothing next to its work.
pub(crate) const PAR_CHUNK: usize = 16 * 1024;
/// Regions shorter than this stay on the calling thread. With the pool's spinning helpers a
/// hand-off costs a few µs (pool.rs), and an Adam update of 64 Ki parameters takes ~40 µs, so
/// the MNIST seed model's update (118,282 parameters, 8 chunks) is shared, after a split step
/// (see `Optimizer::parallel`).
const PAR_MIN: usize = 64 * 1024;

/// g += each gradient copy's elements [lo, lo + g.len()), copy after copy: g ← ((g + c₀) + c₁) + …
/// `copies` holds whole regions of n floats, one after the other. The one summation order of a
/// split step's gradients, whether the model adds them in a pass of its own (statistics,
/// clipping) or the update does (`update_summed`): the two must give the same bits. Not
/// inlined: one copy of the loop instead of one per update rule and caller (simd build 301 →
/// 287 KB), for one call per 16 Ki-element chunk.
#[inline(never)]
pub(crate) fn add_copies(g: &mut [f32], copies: &[f32], n: usize, lo: usize) {
    let hi = lo + g.len();
    for c in 0..copies.len() / n.max(1) {
        g.iter_mut().zip(&copies[c * n + lo..c * n + hi]).for_each(|(gi, &ci)| *gi += ci);
    }
}

/// `flat` over fixed chunks of PAR_CHUNK elements, on the pool when there is one (build
/// `simd-threads`), each chunk first adding the gradient copies of `Grads::Summed` to its
/// elements. Element-wise, so the result is the same for any split and any thread count.
#[inline(always)]
fn par_flat<R: Rule>(p: &mut [f32], g: Grads, m: &mut [f32], v: &mut [f32], par: Par, f: R) {
    let n = p.len();
    // Every path runs the same chunk closure (the sequential one too, with the same bits as
    // one pass): the rule's loop is then compiled once per rule, not once per path (~25 KB).
    let (gs, cs) = match g {
        Grads::Whole(g) => (SyncSlice::shared(g), SyncSlice::shared(&[])),
        Grads::Summed(g, c) => (SyncSlice::new(g), SyncSlice::shared(c)),
    };
    let (ps, ms, vs) = (SyncSlice::new(p), SyncSlice::new(m), SyncSlice::new(v));
    let count = crate::pool::chunk_count(n, PAR_CHUNK);
    let body = move |i: usize| {
        let (lo, hi) = (i * PAR_CHUNK, ((i + 1) * PAR_CHUNK).min(n));
        // SAFETY: chunk i alone touches [lo, hi) of p, g, m and v; the copies are only read.
        unsafe {
            if !cs.is_empty() {
                // Grads::Summed: gs is over the mutable region (Whole has no copies)
                add_copies(gs.range(lo, hi), cs.slice(0, cs.len()), n, lo);
            }
            flat(ps.range(lo, hi), gs.slice(lo, hi), ms.range(lo, hi), vs.range(lo, hi), f)
        }
    };
    if par == Par::Off || !crate::pool::use_chunks(n, PAR_MIN) {
        (0..count).for_each(body);
    } else if par == Par::Deferred {
        crate::pool::for_each_chunk_deferred(count, body);
    } else {
        crate::pool::for_each_chunk(count, body);
    }
}

#[inline(always)]
pub(crate) fn flat<R: Rule>(p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], rule: R) {
    for (((pi, &gi), mi), vi) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
        *pi = rule.step(*pi, gi, mi, vi);
    }
}

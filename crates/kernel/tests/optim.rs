//! Every optimizer over several steps against its update equations written out in f64 here
//! (Keras 3, keras/src/optimizers/*.py), learning-rate changes mid-run, weight decay, the
//! statistics path against the flat loop, and configuration validation.
//!
//! Tolerance: the kernel runs in f32; over 5 steps of O(0.1) updates the f32 result is within
//! a few ulps of the f64 one, so |Δ| ≤ 1e-6 + 1e-5·|θ| (θ are O(1)).
#![allow(clippy::too_many_arguments, clippy::single_range_in_vec_init)]
mod common;
use common::*;
use gradguard_kernel::optim::{segments, OptConfig, Optimizer, SegAcc, StatsAcc, ERR_CLIP, ERR_KIND, ERR_LEN, ERR_WORD, SEG};
use gradguard_kernel::stats::{grad_tensor, GradTensor, UpdAcc};
use std::ops::Range;

const N: usize = 7;

/// cfg words (docs/abi.md): lr, β1, β2, ε, momentum, nesterov, wd, ρ, init_acc, clips.
fn cfg(lr: f32, b1: f32, b2: f32, eps: f32, mu: f32, nest: f32, wd: f32, rho: f32, acc0: f32) -> [f32; 12] {
    [lr, b1, b2, eps, mu, nest, wd, rho, acc0, 0.0, 0.0, 0.0]
}

/// The reference: same equations, f64, written from the Keras sources.
struct Ref {
    kind: u32,
    c: [f64; 12],
    p: Vec<f64>,
    m: Vec<f64>,
    v: Vec<f64>,
    t: i32,
}

impl Ref {
    fn new(kind: u32, c: &[f32; 12], p: &[f32]) -> Self {
        let c: Vec<f64> = c.iter().map(|&v| v as f64).collect();
        let v0 = if kind == 2 { c[8] } else { 0.0 };
        Ref { kind, c: c.try_into().unwrap(), p: p.iter().map(|&v| v as f64).collect(), m: vec![0.0; p.len()], v: vec![v0; p.len()], t: 0 }
    }
    fn step(&mut self, g: &[f32]) {
        self.t += 1;
        let [lr, b1, b2, eps, mu, nest, wd, rho, ..] = self.c;
        for i in 0..self.p.len() {
            let g = g[i] as f64;
            let mut p = self.p[i];
            p -= p * wd * lr; // decoupled weight decay, before the update
            let (m, v) = (&mut self.m[i], &mut self.v[i]);
            match self.kind {
                0 => {
                    if mu == 0.0 {
                        p -= lr * g;
                    } else {
                        *m = mu * *m - lr * g;
                        p += if nest == 1.0 { mu * *m - lr * g } else { *m };
                    }
                }
                1 => {
                    *v = rho * *v + (1.0 - rho) * g * g;
                    let inc = lr * g / (*v + eps).sqrt();
                    if mu > 0.0 {
                        *m = mu * *m + inc;
                        p -= *m;
                    } else {
                        p -= inc;
                    }
                }
                2 => {
                    *v += g * g;
                    p -= lr * g / (*v + eps).sqrt();
                }
                _ => {
                    let alpha = lr * (1.0 - b2.powi(self.t)).sqrt() / (1.0 - b1.powi(self.t));
                    *m += (g - *m) * (1.0 - b1);
                    *v += (g * g - *v) * (1.0 - b2);
                    p -= alpha * *m / (v.sqrt() + eps);
                }
            }
            self.p[i] = p;
        }
    }
}

fn run(name: &str, kind: u32, c: [f32; 12], steps: usize, lr_change: Option<(usize, f32)>) {
    let p0 = rand_vec(N, 1.0, 11);
    let mut opt = Optimizer::new(OptConfig::parse(kind, &c).unwrap_or_else(|e| panic!("{name}: status {e}")));
    let mut state = vec![f32::NAN; 2 * N];
    opt.reset(&mut state);
    let mut p = p0.clone();
    let mut r = Ref::new(kind, &c, &p0);
    for s in 0..steps {
        if let Some((at, lr)) = lr_change {
            if s == at {
                opt.cfg.lr = lr;
                r.c[0] = lr as f64;
            }
        }
        // gradients of mixed sign and size, one exactly 0
        let mut g = rand_vec(N, 0.5 + s as f32, 100 + s as u32);
        g[3] = 0.0;
        opt.update(&mut p, &g, &mut state, &[0..N], None);
        r.step(&g);
        assert_close(&format!("{name} step {}", s + 1), &p, &r.p, 1e-6, 1e-5);
    }
    assert_eq!(opt.iterations, steps as u64);
}

#[test]
fn sgd_plain_momentum_nesterov() {
    run("sgd", 0, cfg(0.1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0), 5, None);
    run("sgd momentum", 0, cfg(0.1, 0.0, 0.0, 0.0, 0.9, 0.0, 0.0, 0.0, 0.0), 5, None);
    run("sgd nesterov", 0, cfg(0.1, 0.0, 0.0, 0.0, 0.9, 1.0, 0.0, 0.0, 0.0), 5, None);
    run("sgd momentum + wd", 0, cfg(0.1, 0.0, 0.0, 0.0, 0.5, 0.0, 0.01, 0.0, 0.0), 5, None);
}

#[test]
fn rmsprop_with_and_without_momentum() {
    run("rmsprop", 1, cfg(0.01, 0.0, 0.0, 1e-7, 0.0, 0.0, 0.0, 0.9, 0.0), 5, None);
    run("rmsprop momentum", 1, cfg(0.01, 0.0, 0.0, 1e-7, 0.5, 0.0, 0.0, 0.8, 0.0), 5, None);
}

#[test]
fn adagrad_starts_from_initial_accumulator() {
    run("adagrad", 2, cfg(0.1, 0.0, 0.0, 1e-7, 0.0, 0.0, 0.0, 0.0, 0.1), 5, None);
    run("adagrad acc0 0", 2, cfg(0.1, 0.0, 0.0, 1e-7, 0.0, 0.0, 0.0, 0.0, 0.0), 5, None);
}

#[test]
fn adam_and_adamw_with_bias_correction_and_eps_hat() {
    run("adam", 3, cfg(1e-2, 0.9, 0.999, 1e-7, 0.0, 0.0, 0.0, 0.0, 0.0), 6, None);
    // a large ε makes its placement (outside the bias correction) visible
    run("adam eps 0.1", 3, cfg(1e-2, 0.9, 0.999, 0.1, 0.0, 0.0, 0.0, 0.0, 0.0), 6, None);
    run("adamw", 4, cfg(1e-2, 0.9, 0.999, 1e-7, 0.0, 0.0, 0.004, 0.0, 0.0), 6, None);
    run("adamw wd 0.5", 4, cfg(1e-1, 0.8, 0.99, 1e-7, 0.0, 0.0, 0.5, 0.0, 0.0), 6, None);
}

#[test]
fn learning_rate_changes_take_effect_at_the_next_step() {
    run("sgd momentum lr↓", 0, cfg(0.1, 0.0, 0.0, 0.0, 0.9, 0.0, 0.0, 0.0, 0.0), 6, Some((3, 0.01)));
    run("rmsprop lr↓", 1, cfg(0.01, 0.0, 0.0, 1e-7, 0.0, 0.0, 0.0, 0.9, 0.0), 6, Some((2, 0.001)));
    run("adam lr↑", 3, cfg(1e-3, 0.9, 0.999, 1e-7, 0.0, 0.0, 0.0, 0.0, 0.0), 6, Some((4, 1e-2)));
    run("adamw lr 0", 4, cfg(1e-2, 0.9, 0.999, 1e-7, 0.0, 0.0, 0.1, 0.0, 0.0), 6, Some((2, 0.0)));
}

/// Two copies of one optimizer and model: `a` updated by the flat loop, `b` by the statistics
/// path.
struct Twin {
    a: Vec<f32>,
    b: Vec<f32>,
    oa: Optimizer,
    ob: Optimizer,
    sa: Vec<f32>,
    sb: Vec<f32>,
}

impl Twin {
    fn new(kind: u32, c: &[f32; 12], n: usize, seed: u32) -> Twin {
        let p0 = rand_vec(n, 1.0, seed);
        let oa = Optimizer::new(OptConfig::parse(kind, c).unwrap());
        let mut tw = Twin { a: p0.clone(), b: p0, ob: oa.clone(), oa, sa: vec![0.0; 2 * n], sb: vec![0.0; 2 * n] };
        tw.oa.reset(&mut tw.sa);
        tw.ob.reset(&mut tw.sb);
        tw
    }

    /// One update of both from `g`; asserts that parameters and slots agree bit for bit and
    /// returns b's parameters before the update.
    fn step(&mut self, g: &[f32], tensors: &[Range<usize>], acc: StatsAcc, what: &str) -> Vec<f32> {
        let before = self.b.clone();
        self.oa.update(&mut self.a, g, &mut self.sa, tensors, None);
        self.ob.update(&mut self.b, g, &mut self.sb, tensors, Some(acc));
        assert!(self.a.iter().zip(&self.b).all(|(x, y)| x.to_bits() == y.to_bits()), "{what}: parameters");
        assert!(self.sa.iter().zip(&self.sb).all(|(x, y)| x.to_bits() == y.to_bits()), "{what}: slots");
        before
    }
}

#[test]
fn statistics_path_updates_exactly_like_the_flat_loop() {
    for (kind, c) in [(0, cfg(0.1, 0.0, 0.0, 0.0, 0.9, 1.0, 0.01, 0.0, 0.0)),
                      (1, cfg(0.01, 0.0, 0.0, 1e-7, 0.3, 0.0, 0.0, 0.9, 0.0)),
                      (2, cfg(0.1, 0.0, 0.0, 1e-7, 0.0, 0.0, 0.0, 0.0, 0.1)),
                      (4, cfg(1e-2, 0.9, 0.999, 1e-7, 0.0, 0.0, 0.004, 0.0, 0.0))] {
        let n = 13;
        let tensors = [0..5, 5..5, 5..13];
        let mut tw = Twin::new(kind, &c, n, 1);
        let mut acc = [UpdAcc::default(); 3];
        let mut gacc = [GradTensor::default(); 3];
        let mut seg = [SegAcc::default(); 2]; // one segment each for the non-empty tensors
        for s in 0..4 {
            let g = rand_vec(n, 1.0, 50 + s);
            let before = tw.step(&g, &tensors, StatsAcc { upd: &mut acc, grad: Some(&mut gacc), seg: &mut seg },
                &format!("kind {kind} step {s}"));
            let b = &tw.b;
            for (t, r) in tensors.iter().enumerate() {
                assert_eq!(gacc[t], grad_tensor(&g[r.clone()]), "fused gradient summary, tensor {t}");
            }
            // the accumulators describe the update of each tensor
            for (t, r) in tensors.iter().enumerate() {
                let d: f64 = r.clone().map(|i| ((b[i] - before[i]) as f64).powi(2)).sum();
                let w: f64 = r.clone().map(|i| (b[i] as f64).powi(2)).sum();
                let w0: f64 = r.clone().map(|i| (before[i] as f64).powi(2)).sum();
                // f32 partial sums inside blocks (crate::stats::BLOCK): relative error ≲ 2e-6
                assert!((acc[t].delta_sq - d).abs() <= 1e-5 * d, "delta² {t}: {} vs {d}", acc[t].delta_sq);
                assert!((acc[t].after_sq - w).abs() <= 1e-5 * w);
                assert!((acc[t].before_sq - w0).abs() <= 1e-5 * w0);
                assert_eq!(acc[t].nonfinite, 0);
            }
        }
    }
}

/// The segmented statistics path (what the model uses: segments of SEG elements that the pool
/// may run in parallel, merged in order) updates exactly like the flat loop and its sums agree
/// with f64 sums; a tensor over SEG elements sums in other groupings, so only within the
/// block-sum tolerance (1e-5 relative, see the module comment), and max |g| exactly.
#[test]
fn segmented_statistics_path_updates_exactly_like_the_flat_loop() {
    let c = cfg(1e-2, 0.9, 0.999, 1e-7, 0.0, 0.0, 0.004, 0.0, 0.0);
    let n = 2 * SEG + 777;
    // a tensor crossing two segment borders at an odd offset, an empty one, a short one
    let tensors = [0..2 * SEG + 700, 2 * SEG + 700..2 * SEG + 700, 2 * SEG + 700..n];
    assert_eq!(segments(&tensors), 4);
    let mut tw = Twin::new(4, &c, n, 3);
    let mut acc = [UpdAcc::default(); 3];
    let mut gacc = [GradTensor::default(); 3];
    let mut seg = vec![SegAcc::default(); 4];
    for s in 0..3 {
        let g = rand_vec(n, 1.0, 70 + s);
        let before = tw.step(&g, &tensors, StatsAcc { upd: &mut acc, grad: Some(&mut gacc), seg: &mut seg },
            &format!("step {s}"));
        let b = &tw.b;
        for (t, r) in tensors.iter().enumerate() {
            let whole = grad_tensor(&g[r.clone()]);
            assert_eq!(gacc[t].maxabs.to_bits(), whole.maxabs.to_bits(), "max |g| {t}");
            assert!((gacc[t].sumsq - whole.sumsq).abs() <= 1e-5 * whole.sumsq, "Σg² {t}");
            let d: f64 = r.clone().map(|i| ((b[i] - before[i]) as f64).powi(2)).sum();
            let w: f64 = r.clone().map(|i| (b[i] as f64).powi(2)).sum();
            assert!((acc[t].delta_sq - d).abs() <= 1e-5 * d, "delta² {t}: {} vs {d}", acc[t].delta_sq);
            assert!((acc[t].after_sq - w).abs() <= 1e-5 * w, "θ² {t}");
            assert_eq!(r.is_empty(), acc[t].after_sq == 0.0);
        }
    }
}

/// Slots are stored flush-to-zero (optim.rs module comment), on the flat loop and the
/// statistics path alike. Per rule, one step from seeded slots: elements 0–4 have g = 0 and
/// slots just above f32::MIN_POSITIVE, which every decaying slot (β₁, β₂, ρ, μ ≤ 0.999) takes
/// below it; element 5 has g = 1e-20 from zero slots, so g² (1e-40) is subnormal; elements 6–8
/// have g = 0 and slots 10·MIN_POSITIVE, which stay normal after one decay. Without the flush,
/// elements 0–5 would hold subnormals, which the first assertion catches.
#[test]
fn slots_are_stored_flush_to_zero() {
    let tiny = f32::MIN_POSITIVE;
    let rules = [("sgd momentum", 0, cfg(0.1, 0.0, 0.0, 0.0, 0.9, 0.0, 0.0, 0.0, 0.0)),
                 ("sgd nesterov", 0, cfg(0.1, 0.0, 0.0, 0.0, 0.9, 1.0, 0.0, 0.0, 0.0)),
                 ("rmsprop", 1, cfg(0.01, 0.0, 0.0, 1e-7, 0.0, 0.0, 0.0, 0.9, 0.0)),
                 ("rmsprop momentum", 1, cfg(0.01, 0.0, 0.0, 1e-7, 0.5, 0.0, 0.0, 0.9, 0.0)),
                 ("adagrad acc0 0", 2, cfg(0.1, 0.0, 0.0, 1e-7, 0.0, 0.0, 0.0, 0.0, 0.0)),
                 ("adam", 3, cfg(1e-3, 0.9, 0.999, 1e-7, 0.0, 0.0, 0.0, 0.0, 0.0)),
                 ("adamw", 4, cfg(1e-3, 0.9, 0.999, 1e-7, 0.0, 0.0, 0.004, 0.0, 0.0))];
    let n = 9;
    let mut g = vec![0.0f32; n];
    g[5] = 1e-20;
    for (name, kind, c) in rules {
        let mut tw = Twin::new(kind, &c, n, 5);
        for st in [&mut tw.sa, &mut tw.sb] {
            for i in 0..n {
                let seed = match i { 0..=4 => 1.0005 * tiny, 5 => 0.0, _ => 10.0 * tiny };
                // slot m (unused by rmsprop without momentum and adagrad) and slot v
                st[i] = if i % 2 == 0 { seed } else { -seed };
                st[n + i] = seed.abs();
            }
        }
        let (mut acc, mut gacc, mut seg) = ([UpdAcc::default(); 1], [GradTensor::default(); 1], [SegAcc::default(); 1]);
        tw.step(&g, &[0..n], StatsAcc { upd: &mut acc, grad: Some(&mut gacc), seg: &mut seg }, name);
        let st = &tw.sb;
        assert!(st.iter().all(|&v| v == 0.0 || v.abs() >= tiny), "{name}: a subnormal slot was stored: {st:?}");
        // which slots the rule keeps: m for momentum/Adam, v for RMSprop/Adagrad/Adam
        let (uses_m, uses_v) = match (kind, c[4] > 0.0) {
            (0, _) => (true, false),
            (1, mu) => (mu, true),
            (2, _) => (false, true),
            _ => (true, true),
        };
        for i in 0..n {
            for (used, v, slot) in [(uses_m, st[i], "m"), (uses_v, st[n + i], "v")] {
                if !used {
                    continue;
                }
                match i {
                    // Adagrad's accumulator never decays: 1.0005·MIN_POSITIVE + 0 stays
                    0..=4 if kind == 2 => assert_eq!(v, 1.0005 * tiny, "{name}: {slot}[{i}]"),
                    0..=4 => assert_eq!(v.to_bits(), 0, "{name}: {slot}[{i}] = {v:e} should flush to +0"),
                    // g = 1e-20 from zero slots: g² terms flush, Adam's m = 1e-21 and momentum's −lr·g stay
                    5 if slot == "v" => assert_eq!(v, 0.0, "{name}: v[5] = {v:e}"),
                    5 => assert!(v != 0.0, "{name}: m[5] flushed but is normal"),
                    _ => assert!(v.abs() >= tiny, "{name}: {slot}[{i}] = {v:e} was flushed but is normal"),
                }
            }
        }
    }
}

#[test]
fn set_optimizer_resets_state_and_counter() {
    let c = cfg(1e-2, 0.9, 0.999, 1e-7, 0.0, 0.0, 0.0, 0.0, 0.0);
    let mut o = Optimizer::new(OptConfig::parse(3, &c).unwrap());
    let mut st = vec![0.0; 6];
    let mut p = vec![1.0, 2.0, 3.0];
    o.update(&mut p, &[1.0, 1.0, 1.0], &mut st, &[0..3], None);
    assert!(st.iter().any(|&v| v != 0.0));
    let c2 = cfg(0.1, 0.0, 0.0, 1e-7, 0.0, 0.0, 0.0, 0.0, 0.25);
    let mut o = Optimizer::new(OptConfig::parse(2, &c2).unwrap());
    o.reset(&mut st);
    assert_eq!(o.iterations, 0);
    assert_eq!(st, vec![0.0, 0.0, 0.0, 0.25, 0.25, 0.25]);
}

#[test]
fn invalid_configurations_give_the_documented_status() {
    let ok = cfg(1e-3, 0.9, 0.999, 1e-7, 0.0, 0.0, 0.0, 0.9, 0.1);
    assert!(OptConfig::parse(3, &ok).is_ok());
    assert_eq!(OptConfig::parse(5, &ok), Err(ERR_KIND));
    assert_eq!(OptConfig::parse(3, &ok[..11]), Err(ERR_LEN));
    let bad = |i: usize, v: f32| { let mut c = ok; c[i] = v; c };
    assert_eq!(OptConfig::parse(3, &bad(0, f32::NAN)), Err(ERR_WORD));
    assert_eq!(OptConfig::parse(3, &bad(0, -1.0)), Err(ERR_WORD));
    assert_eq!(OptConfig::parse(3, &bad(1, 1.0)), Err(ERR_WORD - 1));
    assert_eq!(OptConfig::parse(4, &bad(2, -0.1)), Err(ERR_WORD - 2));
    assert_eq!(OptConfig::parse(1, &bad(3, f32::INFINITY)), Err(ERR_WORD - 3));
    assert_eq!(OptConfig::parse(0, &bad(4, 1.5)), Err(ERR_WORD - 4));
    assert_eq!(OptConfig::parse(0, &bad(5, 0.5)), Err(ERR_WORD - 5));
    assert_eq!(OptConfig::parse(3, &bad(6, -0.01)), Err(ERR_WORD - 6));
    assert_eq!(OptConfig::parse(1, &bad(7, 2.0)), Err(ERR_WORD - 7));
    assert_eq!(OptConfig::parse(2, &bad(8, -1.0)), Err(ERR_WORD - 8));
    assert_eq!(OptConfig::parse(3, &bad(9, -1.0)), Err(ERR_WORD - 9));
    // words a kind does not use are ignored (β1 = 1 is fine for SGD)
    assert!(OptConfig::parse(0, &bad(1, 1.0)).is_ok());
    let mut two = ok;
    two[9] = 1.0;
    two[11] = 1.0;
    assert_eq!(OptConfig::parse(3, &two), Err(ERR_CLIP));
}

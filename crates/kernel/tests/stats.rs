//! The statistics block (docs/abi.md) on a handmade two-layer network whose every value is
//! derived by hand below, plus non-finite counting and softmax saturation. Also checks the
//! hand-derived gradients themselves (a dense/relu/sigmoid-BCE backward worked on paper).
//!
//! Tolerance: values are O(1) computed in f32; 1e-6 absolute + 1e-5 relative.
mod common;
use common::*;
use gradguard_kernel::loss::Targets;
use gradguard_kernel::model::Model;
use gradguard_kernel::stats::{g, w, GLOBAL_WORDS, LAYER_WORDS};

fn sig(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

fn close(what: &str, got: f32, want: f64) {
    assert!((got as f64 - want).abs() <= 1e-6 + 1e-5 * want.abs(), "{what}: got {got}, want {want}");
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

#[test]
fn handmade_network_statistics() {
    // Layer 0: 2 → 3 relu, W0 = [[1,0,0],[0,1,0]], b0 = [0,0,−10]
    // Layer 1: 3 → 1 sigmoid, W1 = [[2],[−1],[0]], b1 = [0]; binary cross-entropy (fused).
    let s = spec(2, false, &[(2, 3, 1, 0.0, true), (3, 1, 5, 0.0, true)]);
    let mut m = Model::new(&s).unwrap();
    let p0: Vec<f32> = vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0, /*b0*/ 0.0, 0.0, -10.0, /*W1*/ 2.0, -1.0, 0.0, /*b1*/ 0.0];
    m.params_mut().copy_from_slice(&p0);
    // SGD, lr 0.1, no momentum: Δθ = −0.1·g
    m.set_optimizer(0, &[0.1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]).unwrap();
    m.set_stats(true);
    let x = [1.0f32, 2.0, 3.0, -1.0];
    let y = [1.0f32, 0.0];
    let loss = m.train_step(&x, Targets::Dense(&y), 2);

    // Forward: z0 = [[1,2,−10],[3,−1,−10]], a0 = [[1,2,0],[3,0,0]]; z1 = [0, 6].
    let s6 = sig(6.0);
    let want_loss = (2f64.ln() + 6.0 + (-6f64).exp().ln_1p()) / 2.0;
    close("loss", loss, want_loss);
    // Backward: dz1 = (σ(z1) − y)/2 = [−0.25, σ6/2]
    let dw1 = [-0.25 + 3.0 * s6 / 2.0, -0.5, 0.0];
    let db1 = [-0.25 + s6 / 2.0];
    // da0 = dz1·W1ᵀ masked by z0 > 0: dz0 = [[−0.5, 0.25, 0], [σ6, 0, 0]]
    let dw0 = [-0.5 + 3.0 * s6, 0.25, 0.0, -1.0 - s6, 0.5, 0.0];
    let db0 = [-0.5 + s6, 0.25, 0.0];
    let mut want_g: Vec<f64> = dw0.to_vec();
    want_g.extend(db0);
    want_g.extend(dw1);
    want_g.extend(db1);
    // the gradient region is what the update used (no clipping here)
    assert_close("grads", m.grads(), &want_g, 1e-6, 1e-5);
    let want_p: Vec<f64> = p0.iter().zip(&want_g).map(|(&p, &g)| p as f64 - 0.1 * g).collect();
    assert_close("params after SGD", m.params(), &want_p, 1e-6, 1e-5);

    let st = m.stats();
    assert_eq!(st.len(), 2 * LAYER_WORDS + GLOBAL_WORDS);
    let (l0, l1, gl) = (&st[..16], &st[16..32], &st[32..]);
    // layer 0
    close("l0 grad_w_norm", l0[w::GRAD_W_NORM], norm(&dw0));
    close("l0 grad_w_maxabs", l0[w::GRAD_W_MAXABS], -0.5 + 3.0 * s6);
    close("l0 grad_b_norm", l0[w::GRAD_B_NORM], norm(&db0));
    close("l0 grad_b_maxabs", l0[w::GRAD_B_MAXABS], -0.5 + s6);
    close("l0 w_norm", l0[w::W_NORM], norm(&want_p[..6]));
    close("l0 update_ratio", l0[w::UPDATE_RATIO], 0.1 * norm(&dw0) / 2f64.sqrt());
    close("l0 dead_fraction", l0[w::DEAD_FRACTION], 1.0 / 3.0); // unit 2 never positive
    close("l0 saturated", l0[w::SATURATED_FRACTION], 0.0); // relu: not applicable
    close("l0 act_mean", l0[w::ACT_MEAN], 1.0); // a0 = 1,2,0,3,0,0
    close("l0 act_std", l0[w::ACT_STD], (8.0f64 / 6.0).sqrt());
    close("l0 nonfinite_act", l0[w::NONFINITE_ACT], 0.0);
    close("l0 nonfinite_grad", l0[w::NONFINITE_GRAD], 0.0);
    close("l0 nonfinite_weight", l0[w::NONFINITE_WEIGHT], 0.0);
    close("l0 b_norm", l0[w::B_NORM], norm(&want_p[6..9]));
    close("l0 preact_mean_abs", l0[w::PREACT_MEAN_ABS], 27.0 / 6.0);
    close("l0 reserved", l0[15], 0.0);
    // layer 1: sigmoid, z1 = [0, 6]: half of the entries have |z| ≥ 5
    close("l1 grad_w_norm", l1[w::GRAD_W_NORM], norm(&dw1));
    close("l1 grad_b_norm", l1[w::GRAD_B_NORM], db1[0].abs());
    close("l1 dead_fraction", l1[w::DEAD_FRACTION], 0.0);
    close("l1 saturated", l1[w::SATURATED_FRACTION], 0.5);
    close("l1 act_mean", l1[w::ACT_MEAN], (0.5 + s6) / 2.0);
    close("l1 act_std", l1[w::ACT_STD], (s6 - 0.5) / 2.0);
    close("l1 preact_mean_abs", l1[w::PREACT_MEAN_ABS], 3.0);
    close("l1 update_ratio", l1[w::UPDATE_RATIO], 0.1 * norm(&dw1) / 5f64.sqrt());
    // global
    close("global grad norm", gl[g::GLOBAL_GRAD_NORM], norm(&want_g));
    close("global loss", gl[g::LOSS], want_loss);
    close("nonfinite_loss", gl[g::NONFINITE_LOSS], 0.0);
    close("clipped", gl[g::CLIPPED], 0.0);
    close("update_norm", gl[g::UPDATE_NORM], 0.1 * norm(&want_g));
    close("param_norm", gl[g::PARAM_NORM], norm(&want_p));
}

#[test]
fn statistics_are_only_computed_when_on() {
    let s = spec(3, false, &[(2, 2, 6, 0.0, true)]);
    let mut m = Model::new(&s).unwrap();
    init_model(&mut m, 4);
    let (x, y) = ([0.5f32, -0.5], [0.1f32, 0.2]);
    m.train_step(&x, Targets::Dense(&y), 1);
    assert!(m.stats().iter().all(|&v| v == 0.0), "stats written while off");
    m.set_stats(true);
    m.train_step(&x, Targets::Dense(&y), 1);
    let snapshot = m.stats().to_vec();
    assert!(snapshot[0] > 0.0);
    m.set_stats(false);
    m.train_step(&[5.0, 5.0], Targets::Dense(&y), 1);
    assert_eq!(m.stats(), &snapshot[..], "stats changed while off");
}

#[test]
fn non_finite_values_are_counted_not_fatal() {
    let s = spec(3, false, &[(2, 3, 1, 0.0, true), (3, 1, 0, 0.0, true)]);
    let mut m = Model::new(&s).unwrap();
    init_model(&mut m, 4);
    m.set_stats(true);
    // A NaN input is refused before anything runs (tests/finite.rs), so the NaN comes from the
    // weights: W₀ is (in, out) row-major, and row 0 (input 0 to all 3 units) set to NaN makes
    // every sample's z and a of layer 0 NaN (relu keeps NaN, as TensorFlow): 2 samples ×
    // (3 + 3) entries; layer 1's z and a for both samples: 2 × (1 + 1).
    let wo = m.layout()[0][0] as usize;
    m.params_mut()[wo..wo + 3].fill(f32::NAN);
    let loss = m.train_step(&[1.0, 1.0, 0.5, 0.5], Targets::Dense(&[0.0, 1.0]), 2);
    assert!(loss.is_nan());
    assert_eq!(m.bad_input(), None);
    let st = m.stats();
    assert_eq!(st[w::NONFINITE_ACT], 12.0);
    assert_eq!(st[LAYER_WORDS + w::NONFINITE_ACT], 4.0);
    assert!(st[w::NONFINITE_GRAD] > 0.0, "dW0 = xᵀ·dz has NaN entries");
    assert!(st[w::NONFINITE_WEIGHT] > 0.0);
    assert_eq!(st[2 * LAYER_WORDS + g::NONFINITE_LOSS], 1.0);
    // NaN in the targets alone (finite weights and inputs) gives a NaN loss too
    let mut m = Model::new(&s).unwrap();
    init_model(&mut m, 4);
    m.set_stats(true);
    let loss = m.train_step(&[1.0, 1.0], Targets::Dense(&[f32::NAN]), 1);
    assert!(loss.is_nan());
    assert_eq!(m.stats()[2 * LAYER_WORDS + g::NONFINITE_LOSS], 1.0);
    assert_eq!(m.stats()[w::NONFINITE_ACT], 0.0);
}

#[test]
fn softmax_saturation_counts_rows() {
    // Two rows: one with a logit gap of 40 (max p = 1 in f32), one uniform.
    let s = spec(0, false, &[(2, 3, 7, 0.0, false)]);
    let mut m = Model::new(&s).unwrap();
    m.params_mut().copy_from_slice(&[40.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
    m.set_stats(true);
    m.train_step(&[1.0, 0.0, 0.0, 1.0], Targets::Sparse(&[0, 1]), 2);
    assert_eq!(m.stats()[w::SATURATED_FRACTION], 0.5);
}

#[test]
fn block_sums_agree_with_f64_and_survive_f32_overflow() {
    use gradguard_kernel::stats::{grad_tensor, UpdAcc, BLOCK};
    // sizes around the block and lane boundaries
    for n in [1usize, 7, 8, 9, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 5, 1031] {
        let gv = rand_vec(n, 3.0, n as u32);
        let s = grad_tensor(&gv);
        let want: f64 = gv.iter().map(|&v| (v as f64).powi(2)).sum();
        assert!((s.sumsq - want).abs() <= 1e-5 * want, "n {n}: {} vs {want}", s.sumsq);
        let mx = gv.iter().fold(0.0f32, |m, &v| m.max(v.abs()));
        assert_eq!(s.maxabs, mx);
        assert_eq!(s.nonfinite, 0);
        let after: Vec<f32> = gv.iter().map(|v| v * 0.5).collect();
        let mut a = UpdAcc::default();
        a.add_block(&gv[..n.min(BLOCK)], &after[..n.min(BLOCK)]);
        let m = n.min(BLOCK);
        let d2: f64 = gv[..m].iter().map(|&v| (0.5 * v as f64).powi(2)).sum();
        assert!((a.delta_sq - d2).abs() <= 1e-5 * d2 && (a.after_sq - d2).abs() <= 1e-5 * d2);
    }
    // |g| = 1e20: g² overflows f32 but the norm is finite (f64 re-sum of that block)
    let mut gv = vec![1.0f32; 300];
    gv[260] = 1e20;
    let s = grad_tensor(&gv);
    assert!(s.sumsq.is_finite() && (s.sumsq.sqrt() / 1e20 - 1.0).abs() < 1e-6, "{}", s.sumsq);
    gv[3] = f32::NAN;
    gv[4] = f32::NEG_INFINITY;
    let s = grad_tensor(&gv);
    assert_eq!(s.nonfinite, 2);
    assert_eq!(s.maxabs, f32::INFINITY);
}

#[test]
fn collecting_statistics_does_not_change_training() {
    // Same model, data and optimizer, stats on in one copy: bit-identical parameters after
    // several steps, for every optimizer kind, with weight decay and clipping.
    let s = spec(0, false, &[(9, 17, 1, 0.0, true), (17, 4, 7, 0.0, true)]);
    let x = rand_vec(6 * 9, 1.0, 1);
    let y = rand_labels(6, 4, 2);
    for (kind, cfg) in [
        (0u32, [0.1f32, 0.0, 0.0, 0.0, 0.9, 1.0, 0.01, 0.0, 0.0, 0.0, 0.0, 0.5]),
        (1, [0.01, 0.0, 0.0, 1e-7, 0.0, 0.0, 0.0, 0.9, 0.0, 0.01, 0.0, 0.0]),
        (2, [0.1, 0.0, 0.0, 1e-7, 0.0, 0.0, 0.0, 0.0, 0.1, 0.0, 0.3, 0.0]),
        (3, [1e-2, 0.9, 0.999, 1e-7, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]),
        (4, [1e-2, 0.9, 0.999, 1e-7, 0.0, 0.0, 0.004, 0.0, 0.0, 0.0, 0.0, 0.0]),
    ] {
        let mut a = Model::new(&s).unwrap();
        init_model(&mut a, 3);
        let mut b = Model::new(&s).unwrap();
        b.params_mut().copy_from_slice(a.params());
        a.set_optimizer(kind, &cfg).unwrap();
        b.set_optimizer(kind, &cfg).unwrap();
        b.set_stats(true);
        for step in 0..4 {
            let la = a.train_step(&x, Targets::Sparse(&y), 6);
            let lb = b.train_step(&x, Targets::Sparse(&y), 6);
            assert_eq!(la.to_bits(), lb.to_bits(), "kind {kind} step {step}");
            assert_eq!(a.params(), b.params(), "kind {kind} step {step}");
        }
    }
}

#[test]
fn fused_and_separate_gradient_summaries_agree() {
    // Without clipping the optimizer's loop summarises the gradients; with clipnorm a separate
    // pass does (before clipping). Both must equal grad_tensor over the unclipped gradients.
    use gradguard_kernel::stats::grad_tensor;
    let s = spec(3, false, &[(300, 9, 6, 0.0, true), (9, 2, 0, 0.0, true)]); // W₀ spans 11 blocks
    let x = rand_vec(3 * 300, 1.0, 1);
    let y = rand_vec(3 * 2, 1.0, 2);
    for clipnorm in [0.0f32, 1e6] {
        let mut m = Model::new(&s).unwrap();
        init_model(&mut m, 3);
        m.forward_backward(&x, Targets::Dense(&y), 3);
        let g0 = m.grads().to_vec();
        m.set_optimizer(0, &[0.1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, clipnorm, 0.0]).unwrap();
        m.set_stats(true);
        m.train_step(&x, Targets::Dense(&y), 3);
        let st = m.stats();
        for (l, &[wo, wl, bo, bl]) in m.layout().iter().enumerate() {
            let gw = grad_tensor(&g0[wo as usize..(wo + wl) as usize]);
            let gb = grad_tensor(&g0[bo as usize..(bo + bl) as usize]);
            let slot = &st[l * LAYER_WORDS..];
            assert_eq!(slot[w::GRAD_W_NORM], gw.sumsq.sqrt() as f32, "clipnorm {clipnorm} layer {l}");
            assert_eq!(slot[w::GRAD_W_MAXABS], gw.maxabs);
            assert_eq!(slot[w::GRAD_B_NORM], gb.sumsq.sqrt() as f32);
            assert_eq!(slot[w::GRAD_B_MAXABS], gb.maxabs);
        }
    }
}

//! Central finite-difference checks of the whole backward pass (dense layers, every
//! activation, every loss and input form), and the fused loss paths against the general ones.
//!
//! The kernel computes in f32, so the differences are taken on f32 forward passes whose
//! per-sample losses are summed in f64. With step h = 1e-2·max(1, |θ|) the rounding error of a
//! difference quotient is about 1e-7·|L|/h ≈ 1e-5 and the truncation error h²·|L'''|/6 about
//! 1e-5, so |analytic − numeric| ≤ 1e-3 + 1e-2·|numeric| has a wide margin while a wrong
//! derivative (a missing factor, sign or term) is off by far more. Points where a kinked
//! activation (relu family) has a pre-activation within h·|x| of its kink would make the
//! quotient meaningless: there the step shrinks (÷10, down to 1e-4, where rounding is still
//! below 1e-3) until no pre-activation of a kinked layer changes sign within [θ−h, θ+h].
mod common;
use common::*;
use gradguard_kernel::activations::{self, Act};
use gradguard_kernel::loss::{self, Input, LossKind, Targets};
use gradguard_kernel::model::Model;

const ACTS: [(u32, f32, &str); 9] = [
    (0, 0.0, "linear"), (1, 0.0, "relu"), (2, 0.2, "leaky_relu"), (2, 0.0, "leaky_relu(0)"),
    (3, 1.0, "elu"), (3, 0.5, "elu(0.5)"), (4, 0.0, "selu"), (5, 0.0, "sigmoid"), (6, 0.0, "tanh"),
];
const SOFTMAX: u32 = 7;


fn targets(loss: u32, batch: usize, cols: usize, seed: u32) -> Y {
    match loss {
        0 => Y::S(rand_labels(batch, cols as u32, seed)),
        1 => {
            // soft labels (rows sum to 1) exercise the general p·Σy − y form
            let mut v = rand_unit(batch * cols, seed);
            for r in v.chunks_mut(cols) {
                let s: f32 = r.iter().sum();
                r.iter_mut().for_each(|x| *x /= s);
            }
            Y::D(v)
        }
        2 => Y::D(rand_unit(batch * cols, seed)),
        _ => Y::D(rand_vec(batch * cols, 1.0, seed)),
    }
}

/// Returns the worst |analytic − numeric| / (1e-3 + 1e-2·|numeric|) over all parameters.
fn fd_check(name: &str, s: &[u32], batch: usize, seed: u32) -> f64 {
    let mut m = Model::new(s).unwrap_or_else(|| panic!("{name}: spec rejected"));
    init_model(&mut m, seed);
    let inp = m.input_size();
    let out = m.output_size();
    let x = rand_vec(batch * inp, 1.0, seed ^ 0x55);
    let y = targets(s[2], batch, out, seed ^ 0xaa);
    let l0 = m.forward_backward(&x, y.t(), batch);
    assert!(l0.is_finite(), "{name}: loss {l0}");
    let g = m.grads().to_vec();
    let kinked: Vec<usize> = m.layers().iter().enumerate()
        .filter(|(_, l)| matches!(l.act, Act::Relu | Act::LeakyRelu(_) | Act::Elu(_) | Act::Selu))
        .map(|(i, _)| i).collect();
    let signs = |m: &Model| -> Vec<bool> {
        kinked.iter().flat_map(|&l| m.preactivation(l).iter().map(|&z| z > 0.0).collect::<Vec<_>>()).collect()
    };
    m.evaluate(&x, y.t(), batch);
    let s0 = signs(&m);
    let mut worst = 0.0f64;
    for i in 0..m.param_count() {
        let th = m.params()[i];
        let mut h = 1e-2 * th.abs().max(1.0);
        let (lp, lm) = loop {
            m.params_mut()[i] = th + h;
            let lp = m.evaluate(&x, y.t(), batch).0 / batch as f64;
            let sp = signs(&m);
            m.params_mut()[i] = th - h;
            let lm = m.evaluate(&x, y.t(), batch).0 / batch as f64;
            let sm = signs(&m);
            if (sp == s0 && sm == s0) || h < 2e-4 {
                assert!(sp == s0 && sm == s0, "{name}: param {i}: a pre-activation sits on a kink");
                break (lp, lm);
            }
            h /= 10.0;
        };
        m.params_mut()[i] = th;
        let num = (lp - lm) / (((th + h) as f64) - ((th - h) as f64));
        let err = (g[i] as f64 - num).abs() / (1e-3 + 1e-2 * num.abs());
        assert!(err <= 1.0, "{name}: param {i}: analytic {} vs numeric {num}", g[i]);
        worst = worst.max(err);
    }
    worst
}

/// (loss, out activation code, act_param, from_logits, description)
fn heads() -> Vec<(u32, u32, f32, bool, &'static str)> {
    vec![
        (0, SOFTMAX, 0.0, false, "softmax + sparse CE (fused)"),
        (0, 0, 0.0, true, "linear + sparse CE from_logits"),
        (0, 5, 0.0, false, "sigmoid + sparse CE on probabilities"),
        (1, SOFTMAX, 0.0, false, "softmax + CE (fused)"),
        (1, 0, 0.0, true, "linear + CE from_logits"),
        (1, 6, 0.0, true, "tanh + CE from_logits (chained)"),
        (1, 5, 0.0, false, "sigmoid + CE on probabilities"),
        (2, 5, 0.0, false, "sigmoid + BCE (fused)"),
        (2, 0, 0.0, true, "linear + BCE from_logits"),
        (2, SOFTMAX, 0.0, false, "softmax + BCE on probabilities"),
        (2, 3, 1.0, true, "elu + BCE from_logits (chained)"),
        (3, 0, 0.0, false, "linear + MSE"),
        (3, 6, 0.0, false, "tanh + MSE"),
        (3, 4, 0.0, false, "selu + MSE"),
        (3, SOFTMAX, 0.0, false, "softmax + MSE"),
    ]
}

#[test]
fn every_hidden_activation_with_every_loss_head_matches_finite_differences() {
    let mut hidden: Vec<(u32, f32, &str)> = ACTS.to_vec();
    hidden.push((SOFTMAX, 0.0, "softmax"));
    let mut worst = 0.0f64;
    for (k, &(act, p, an)) in hidden.iter().enumerate() {
        for (j, &(loss, oact, op, logits, hn)) in heads().iter().enumerate() {
            // odd sizes: in 3, hidden 5, out 3 (1 for a BCE head to cover the single-output case)
            let out = if loss == 2 && j % 2 == 0 { 1 } else { 3 };
            let out = if oact == SOFTMAX && out == 1 { 3 } else { out };
            let s = spec(loss, logits, &[(3, 5, act, p, true), (5, out, oact, op, (j + k) % 3 != 0)]);
            let name = format!("hidden {an} / {hn}");
            worst = worst.max(fd_check(&name, &s, 4, 100 + 17 * k as u32 + j as u32));
        }
    }
    eprintln!("worst normalised FD error: {worst:.3}");
}

#[test]
fn deeper_stack_with_batch_one_and_prime_sizes() {
    let s = spec(0, false, &[(7, 11, 1, 0.0, true), (11, 13, 6, 0.0, true), (13, 5, 2, 0.2, false), (5, 3, SOFTMAX, 0.0, true)]);
    fd_check("4 layers, batch 1", &s, 1, 9);
    fd_check("4 layers, batch 7", &s, 7, 10);
}

/// Reference softmax in f64.
fn softmax64(z: &[f32]) -> Vec<f64> {
    let m = z.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
    let e: Vec<f64> = z.iter().map(|&v| (v as f64 - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

#[test]
fn fused_softmax_ce_equals_general_probability_path() {
    // Logits form on z against: softmax forward, CE on probabilities (normalised and clipped),
    // then the softmax backward. Equal in exact arithmetic while no probability is clipped;
    // in f32 agreement to 1e-5 (values are O(1), a few roundings apart).
    let (batch, cols) = (5, 7);
    let z = rand_vec(batch * cols, 3.0, 21);
    let mut zz = z.clone();
    let mut p = vec![0.0; batch * cols];
    activations::forward_bias(Act::Softmax, &mut zz, &mut p, &[], cols);
    for (kind, y) in [(LossKind::SparseCategoricalCrossentropy, targets(0, batch, cols, 3)),
                      (LossKind::CategoricalCrossentropy, targets(1, batch, cols, 4))] {
        let mut g_fused = vec![0.0; batch * cols];
        let l_fused = loss::loss_and_grad(kind, Input::Logits, &z, y.t(), cols, Some(&mut g_fused));
        let mut g_gen = vec![0.0; batch * cols];
        let l_gen = loss::loss_and_grad(kind, Input::Probs, &p, y.t(), cols, Some(&mut g_gen));
        activations::backward(Act::Softmax, &mut g_gen, &zz, &p, cols);
        assert!((l_fused - l_gen).abs() < 1e-5 * l_fused.abs(), "{kind:?}: {l_fused} vs {l_gen}");
        let want: Vec<f64> = g_gen.iter().map(|&v| v as f64).collect();
        assert_close(&format!("{kind:?} grad"), &g_fused, &want, 1e-6, 1e-4);
        // and the fused gradient against the formula (p − y)/batch in f64
        let mut want = Vec::new();
        for r in 0..batch {
            let pr = softmax64(&z[r * cols..(r + 1) * cols]);
            for c in 0..cols {
                let yc = match y.t() {
                    Targets::Sparse(l) => (l[r] == c as i32) as u32 as f64,
                    Targets::Dense(t) => t[r * cols + c] as f64,
                };
                let sy: f64 = match y.t() {
                    Targets::Sparse(_) => 1.0,
                    Targets::Dense(t) => t[r * cols..(r + 1) * cols].iter().map(|&v| v as f64).sum(),
                };
                want.push((pr[c] * sy - yc) / batch as f64);
            }
        }
        assert_close(&format!("{kind:?} (p − y)/batch"), &g_fused, &want, 1e-7, 1e-5);
    }
}

#[test]
fn fused_sigmoid_bce_equals_general_probability_path() {
    let (batch, cols) = (3, 5);
    let z = rand_vec(batch * cols, 4.0, 31);
    let mut zz = z.clone();
    let mut p = vec![0.0; batch * cols];
    activations::forward_bias(Act::Sigmoid, &mut zz, &mut p, &[], cols);
    let y = targets(2, batch, cols, 5);
    let mut g_fused = vec![0.0; batch * cols];
    let l_fused = loss::loss_and_grad(LossKind::BinaryCrossentropy, Input::Logits, &z, y.t(), cols, Some(&mut g_fused));
    let mut g_gen = vec![0.0; batch * cols];
    let l_gen = loss::loss_and_grad(LossKind::BinaryCrossentropy, Input::Probs, &p, y.t(), cols, Some(&mut g_gen));
    activations::backward(Act::Sigmoid, &mut g_gen, &zz, &p, cols);
    assert!((l_fused - l_gen).abs() < 1e-5 * l_fused.abs(), "{l_fused} vs {l_gen}");
    let want: Vec<f64> = g_gen.iter().map(|&v| v as f64).collect();
    assert_close("BCE grad", &g_fused, &want, 1e-6, 1e-4);
}

#[test]
fn fused_logits_stay_finite_where_probabilities_saturate() {
    // z = ±200: softmax/sigmoid outputs are exactly 0 or 1 in f32. The fused forms still give
    // the exact loss (log-sum-exp / softplus), the probability forms the clipped −ln(1e-7).
    let z = [200.0f32, -200.0, 0.0];
    let l = loss::loss_and_grad(LossKind::SparseCategoricalCrossentropy, Input::Logits, &z, Targets::Sparse(&[1]), 3, None);
    assert!((l - 400.0).abs() < 1e-3, "{l}");
    let l = loss::loss_and_grad(LossKind::BinaryCrossentropy, Input::Logits, &[200.0], Targets::Dense(&[0.0]), 1, None);
    assert!((l - 200.0).abs() < 1e-3, "{l}");
    // p = 1 is clipped to 1 − 1e-7, which rounds to 1 − 2⁻²³ in f32, so ℓ = −ln(2⁻²³) = 23 ln 2
    let l = loss::loss_and_grad(LossKind::BinaryCrossentropy, Input::Probs, &[1.0], Targets::Dense(&[0.0]), 1, None);
    assert!((l - 23.0 * 2f64.ln()).abs() < 1e-4, "clipped BCE {l}");
}

#[test]
fn linear_from_logits_equals_softmax_output_model() {
    // The same parameters in a softmax+CE model and a linear+from_logits model give the same
    // loss and gradients (both reach the log-sum-exp form on z).
    let a = spec(0, false, &[(6, 4, 1, 0.0, true), (4, 3, SOFTMAX, 0.0, true)]);
    let b = spec(0, true, &[(6, 4, 1, 0.0, true), (4, 3, 0, 0.0, true)]);
    let (mut ma, mut mb) = (Model::new(&a).unwrap(), Model::new(&b).unwrap());
    init_model(&mut ma, 3);
    mb.params_mut().copy_from_slice(ma.params());
    let x = rand_vec(5 * 6, 1.0, 4);
    let y = rand_labels(5, 3, 5);
    let la = ma.forward_backward(&x, Targets::Sparse(&y), 5);
    let lb = mb.forward_backward(&x, Targets::Sparse(&y), 5);
    assert_eq!(la.to_bits(), lb.to_bits());
    assert_eq!(ma.grads(), mb.grads());
}

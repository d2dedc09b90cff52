//! Forward values of activations and losses against their closed forms (f64 here), stability
//! at extreme inputs, and accuracy counting. Tolerance 1e-6 relative (single f32 operations).
mod common;
use common::*;
use gradguard_kernel::activations::{forward_bias, Act, SELU_ALPHA, SELU_SCALE};
use gradguard_kernel::loss::{count_correct, loss_and_grad, Input, LossKind, Targets};

fn act_of(act: Act, z: &[f32]) -> Vec<f32> {
    let mut zz = z.to_vec();
    let mut a = vec![f32::NAN; z.len()];
    forward_bias(act, &mut zz, &mut a, &[], z.len());
    a
}

#[test]
fn elementwise_activations_match_formulas() {
    let z = [-100.0f32, -5.0, -1.5, -0.25, 0.0, 0.25, 1.5, 5.0, 100.0];
    let cases: [(Act, fn(f64) -> f64); 8] = [
        (Act::Linear, |z| z),
        (Act::Relu, |z| z.max(0.0)),
        (Act::LeakyRelu(0.2), |z| if z > 0.0 { z } else { 0.2 * z }),
        (Act::Elu(1.0), |z| if z > 0.0 { z } else { z.exp_m1() }),
        (Act::Elu(0.5), |z| if z > 0.0 { z } else { 0.5 * z.exp_m1() }),
        (Act::Selu, |z| if z > 0.0 { 1.0507009873554805 * z } else { 1.0507009873554805 * 1.6732632423543772 * z.exp_m1() }),
        (Act::Sigmoid, |z| 1.0 / (1.0 + (-z).exp())),
        (Act::Tanh, |z| z.tanh()),
    ];
    for (act, f) in cases {
        let got = act_of(act, &z);
        let want: Vec<f64> = z.iter().map(|&v| f(v as f64)).collect();
        assert_close(&format!("{act:?}"), &got, &want, 1e-30, 1e-6);
    }
    assert!((SELU_ALPHA as f64 - 1.6732632423543772).abs() < 1e-7);
    assert!((SELU_SCALE as f64 - 1.0507009873554805).abs() < 1e-7);
}

#[test]
fn sigmoid_and_softmax_are_stable_at_extremes() {
    let a = act_of(Act::Sigmoid, &[-1000.0, 1000.0, -88.0]);
    assert_eq!(a[0], 0.0);
    assert_eq!(a[1], 1.0);
    assert!(a[2] > 0.0 && a[2].is_finite());
    let p = act_of(Act::Softmax, &[1000.0, 999.0, -1000.0]);
    let e = (-1.0f64).exp();
    assert_close("softmax", &p, &[1.0 / (1.0 + e), e / (1.0 + e), 0.0], 1e-30, 1e-6);
}

#[test]
fn bias_is_added_before_the_activation() {
    let mut z = vec![1.0f32, -2.0, 0.5, 3.0];
    let mut a = vec![0.0; 4];
    forward_bias(Act::Relu, &mut z, &mut a, &[-2.0, 3.0], 2);
    assert_eq!(z, vec![-1.0, 1.0, -1.5, 6.0]);
    assert_eq!(a, vec![0.0, 1.0, 0.0, 6.0]);
}

#[test]
fn loss_values_match_closed_forms() {
    // uniform logits over 7 classes: CE = ln 7 per sample, summed over 3 samples
    let z = vec![0.3f32; 21];
    let l = loss_and_grad(LossKind::SparseCategoricalCrossentropy, Input::Logits, &z, Targets::Sparse(&[0, 3, 6]), 7, None);
    assert!((l - 3.0 * 7f64.ln()).abs() < 1e-5, "{l}");
    // CE on probabilities = −Σ y ln p (rows already normalised)
    let p = [0.2f32, 0.3, 0.5];
    let l = loss_and_grad(LossKind::CategoricalCrossentropy, Input::Probs, &p, Targets::Dense(&[0.0, 1.0, 0.0]), 3, None);
    assert!((l + 0.3f64.ln()).abs() < 1e-6, "{l}");
    // and rows are normalised first, as Keras does: [2, 3, 5] is the same distribution
    let l2 = loss_and_grad(LossKind::CategoricalCrossentropy, Input::Probs, &[2.0, 3.0, 5.0], Targets::Dense(&[0.0, 1.0, 0.0]), 3, None);
    assert!((l2 - l).abs() < 1e-6);
    // BCE, mean over the 2 outputs: −(ln 0.8 + ln 0.6)/2
    let l = loss_and_grad(LossKind::BinaryCrossentropy, Input::Probs, &[0.8, 0.4], Targets::Dense(&[1.0, 0.0]), 2, None);
    assert!((l + (0.8f64.ln() + 0.6f64.ln()) / 2.0).abs() < 1e-6, "{l}");
    // BCE from logits at z = ln 4 (σ = 0.8), y = 1: −ln 0.8
    let l = loss_and_grad(LossKind::BinaryCrossentropy, Input::Logits, &[4f32.ln()], Targets::Dense(&[1.0]), 1, None);
    assert!((l + 0.8f64.ln()).abs() < 1e-6, "{l}");
    // MSE mean over outputs, summed over samples: ((1 + 4)/2) + ((0 + 9)/2)
    let l = loss_and_grad(LossKind::MeanSquaredError, Input::Probs, &[1.0, 2.0, 3.0, 0.0], Targets::Dense(&[0.0, 0.0, 3.0, 3.0]), 2, None);
    assert!((l - 7.0).abs() < 1e-6, "{l}");
}

#[test]
fn accuracy_counts_argmax_and_thresholds() {
    let out = [0.1f32, 0.7, 0.2, 0.5, 0.4, 0.1, 0.3, 0.3, 0.4];
    assert_eq!(count_correct(&out, Targets::Sparse(&[1, 0, 0]), 3, 0.5), 2);
    let onehot = one_hot(&[1, 1, 2], 3);
    assert_eq!(count_correct(&out, Targets::Dense(&onehot), 3, 0.5), 2);
    // single output: p ≥ 0.5 vs y ≥ 0.5; for logits the threshold is 0
    let p = [0.5f32, 0.49, 0.9, 0.1];
    assert_eq!(count_correct(&p, Targets::Dense(&[1.0, 0.0, 0.0, 0.0]), 1, 0.5), 3);
    let z = [0.0f32, -0.1, 2.0, -3.0];
    assert_eq!(count_correct(&z, Targets::Dense(&[1.0, 0.0, 1.0, 1.0]), 1, 0.0), 3);
}

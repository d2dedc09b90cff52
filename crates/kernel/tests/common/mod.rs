//! Helpers shared by the kernel's integration tests.
#![allow(dead_code)]
use gradguard_kernel::init::{init_fill, InitKind};
use gradguard_kernel::loss::Targets;
use gradguard_kernel::model::Model;
use gradguard_kernel::rng::{tensor_seed, Rng};

/// Spec words (docs/abi.md): layers are (in, out, activation code, act_param, use_bias).
pub fn spec(loss: u32, from_logits: bool, layers: &[(u32, u32, u32, f32, bool)]) -> Vec<u32> {
    let mut s = vec![1, layers.len() as u32, loss, from_logits as u32];
    for &(i, o, act, p, bias) in layers {
        s.extend_from_slice(&[0, i, o, act, p.to_bits(), bias as u32]);
    }
    s
}

/// Glorot-uniform weights, small random biases (non-zero so bias gradients are exercised).
pub fn init_model(m: &mut Model, seed: u32) {
    let lay = m.layout();
    let dims: Vec<(u32, u32)> = m.layers().iter().map(|l| (l.inp as u32, l.out as u32)).collect();
    let p = m.params_mut();
    for (l, (&[wo, wl, bo, bl], &(fi, fo))) in lay.iter().zip(&dims).enumerate() {
        let (wo, wl, bo, bl) = (wo as usize, wl as usize, bo as usize, bl as usize);
        init_fill(&mut p[wo..wo + wl], InitKind::GlorotUniform, fi, fo, 0.0, tensor_seed(seed, 2 * l as u32));
        init_fill(&mut p[bo..bo + bl], InitKind::RandomUniform, fi, fo, 0.1, tensor_seed(seed, 2 * l as u32 + 1));
    }
}

/// Uniform values in (−s, s) from the shared generator.
pub fn rand_vec(n: usize, s: f32, seed: u32) -> Vec<f32> {
    let mut r = Rng::new(seed);
    (0..n).map(|_| (s as f64 * (2.0 * r.uniform() - 1.0)) as f32).collect()
}

/// Integer labels in [0, classes).
pub fn rand_labels(n: usize, classes: u32, seed: u32) -> Vec<i32> {
    let mut r = Rng::new(seed);
    (0..n).map(|_| (r.next_u32() % classes) as i32).collect()
}

/// Random probability-like targets in (0, 1).
pub fn rand_unit(n: usize, seed: u32) -> Vec<f32> {
    let mut r = Rng::new(seed);
    (0..n).map(|_| (0.05 + 0.9 * r.uniform()) as f32).collect()
}

/// One-hot rows of `labels`.
pub fn one_hot(labels: &[i32], classes: usize) -> Vec<f32> {
    let mut v = vec![0.0; labels.len() * classes];
    for (r, &l) in labels.iter().enumerate() {
        v[r * classes + l as usize] = 1.0;
    }
    v
}

/// |a − b| ≤ atol + rtol·|b|, reporting the first mismatch and the worst difference.
pub fn assert_close(what: &str, got: &[f32], want: &[f64], atol: f64, rtol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let mut worst = 0.0f64;
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let d = (g as f64 - w).abs();
        worst = worst.max(d);
        assert!(d <= atol + rtol * w.abs(), "{what}[{i}]: got {g}, want {w} (|diff| {d:e})");
    }
    let _ = worst;
}

/// Owned targets for a loss: sparse labels or dense rows.
pub enum Y {
    S(Vec<i32>),
    D(Vec<f32>),
}
impl Y {
    pub fn t(&self) -> Targets<'_> {
        match self {
            Y::S(v) => Targets::Sparse(v),
            Y::D(v) => Targets::Dense(v),
        }
    }
}

//! BatchNormalization, weight constraints and optimizer-state save/restore (issue 3):
//! equations checked directly on the kernel (the TypeScript suite checks the same against the
//! f64 reference, test/bn-constraints.test.ts).
mod common;
use common::*;
use gradguard_kernel::batchnorm;
use gradguard_kernel::constraints::{self, Constraint, EPS};
use gradguard_kernel::loss::Targets;
use gradguard_kernel::model::Model;

/// Version-2 spec words for one layer (docs/abi.md): 16 words.
fn dense2(i: u32, o: u32, act: u32, bias: bool, kc: (u32, [f32; 3]), bc: (u32, [f32; 3])) -> [u32; 16] {
    let f = |v: f32| v.to_bits();
    [0, i, o, act, 0, bias as u32, 0, 0, kc.0, f(kc.1[0]), f(kc.1[1]), f(kc.1[2]), bc.0, f(bc.1[0]), f(bc.1[1]), f(bc.1[2])]
}
fn bn2(f: u32, act: u32, center: bool, scale: bool, momentum: f32, eps: f32) -> [u32; 16] {
    let mut w = [0u32; 16];
    w[0] = 1; w[1] = f; w[2] = f; w[3] = act;
    w[5] = center as u32 | (scale as u32) << 1;
    w[6] = momentum.to_bits(); w[7] = eps.to_bits();
    w
}
fn spec2(loss: u32, layers: &[[u32; 16]]) -> Vec<u32> {
    let mut s = vec![2, layers.len() as u32, loss, 0];
    for l in layers { s.extend_from_slice(l); }
    s
}
const NONE: (u32, [f32; 3]) = (0, [0.0; 3]);
/// Adam, lr 1e-2 (cfg words of docs/abi.md).
const ADAM: [f32; 12] = [1e-2, 0.9, 0.999, 1e-7, 0.0, 0.0, 0.0, 0.9, 0.1, 0.0, 0.0, 0.0];

/// Dense weights random, batchnorm γ = 1, β = 0 (Keras's initial values).
fn init(m: &mut Model, seed: u32) {
    init_model(m, seed);
    let lay = m.layout();
    let bns: Vec<bool> = m.layers().iter().map(|l| l.inp == l.out && matches!(l.kind, gradguard_kernel::model::LayerKind::BatchNorm(_))).collect();
    let p = m.params_mut();
    for (&[wo, wl, bo, bl], &is_bn) in lay.iter().zip(&bns) {
        if is_bn {
            p[wo as usize..(wo + wl) as usize].fill(1.0);
            p[bo as usize..(bo + bl) as usize].fill(0.0);
        }
    }
}

#[test]
fn optimizer_state_restores_the_run_bit_for_bit() {
    // Adam and SGD+momentum: both keep slots; Adam also depends on the step counter.
    for (kind, cfg) in [(3u32, ADAM), (0, [1e-2, 0.9, 0.999, 1e-7, 0.9, 0.0, 0.0, 0.9, 0.1, 0.0, 0.0, 0.0])] {
        let s = spec2(0, &[dense2(5, 7, 1, true, NONE, NONE), bn2(7, 1, true, true, 0.9, 1e-3), dense2(7, 3, 7, true, NONE, NONE)]);
        let mut m = Model::new(&s).unwrap();
        init(&mut m, 3);
        m.set_optimizer(kind, &cfg).unwrap();
        let x = rand_vec(11 * 5, 1.0, 4);
        let y = rand_labels(11, 3, 5);
        for _ in 0..3 { m.train_step(&x, Targets::Sparse(&y), 11); }
        let (p, st, step) = (m.params().to_vec(), m.opt_state().to_vec(), m.opt_step());
        assert_eq!(step, 3);
        assert_eq!(st.len(), 2 * m.trainable_count());
        assert!(st.iter().any(|&v| v != 0.0), "slots hold something after 3 steps");
        let run = |m: &mut Model| { for _ in 0..4 { m.train_step(&x, Targets::Sparse(&y), 11); } m.params().to_vec() };
        let want = run(&mut m);
        // Restore weights (incl. moving statistics) and the optimizer state, then replay.
        m.params_mut().copy_from_slice(&p);
        m.opt_state_mut().copy_from_slice(&st);
        m.set_opt_step(step);
        assert_eq!(run(&mut m), want, "kind {kind}: replay after restore is bit-identical");
        // Without the state (moments reset), the replay differs: the test can fail.
        m.params_mut().copy_from_slice(&p);
        m.set_optimizer(kind, &cfg).unwrap();
        assert_ne!(run(&mut m), want, "kind {kind}: a reset optimizer gives another run");
    }
}

/// Applies a constraint by Keras's equation, written independently of the kernel, in f64.
fn keras_constraint(c: Constraint, w: &[f32], rows: usize, cols: usize) -> Vec<f64> {
    let mut out: Vec<f64> = w.iter().map(|&v| v as f64).collect();
    for j in 0..cols {
        let n = (0..rows).map(|i| (w[i * cols + j] as f64).powi(2)).sum::<f64>().sqrt();
        for i in 0..rows {
            let v = w[i * cols + j] as f64;
            out[i * cols + j] = match c {
                Constraint::MaxNorm(m) => v * n.min(m as f64) / (EPS + n),
                Constraint::UnitNorm => v / (EPS + n),
                Constraint::MinMaxNorm { lo, hi, rate } =>
                    v * (rate as f64 * n.clamp(lo as f64, hi as f64) + (1.0 - rate as f64) * n) / (EPS + n),
                Constraint::NonNeg => if v >= 0.0 { v } else { 0.0 },
                Constraint::MinMaxValue { lo, hi } => v.clamp(lo as f64, hi as f64),
                Constraint::None => v,
            };
        }
    }
    out
}

#[test]
fn constraints_follow_keras_after_each_update() {
    // (code, params, Constraint): every kind on an odd-sized layer (13 → 5, bias 5).
    let cases = [
        (1, [0.3f32, 0.0, 0.0], Constraint::MaxNorm(0.3)),
        (2, [0.0; 3], Constraint::NonNeg),
        (3, [0.0; 3], Constraint::UnitNorm),
        (4, [0.2, 0.4, 0.7], Constraint::MinMaxNorm { lo: 0.2, hi: 0.4, rate: 0.7 }),
        (5, [-0.05, 0.02, 0.0], Constraint::MinMaxValue { lo: -0.05, hi: 0.02 }),
    ];
    let x = rand_vec(9 * 13, 1.0, 11);
    let y = rand_labels(9, 5, 12);
    for (code, p, c) in cases {
        // Same start, one step without and one with the constraint on W and b.
        let free = spec2(0, &[dense2(13, 5, 7, true, NONE, NONE)]);
        let cons = spec2(0, &[dense2(13, 5, 7, true, (code, p), (code, p))]);
        let (mut a, mut b) = (Model::new(&free).unwrap(), Model::new(&cons).unwrap());
        init(&mut a, 8);
        init(&mut b, 8);
        a.set_optimizer(3, &ADAM).unwrap();
        b.set_optimizer(3, &ADAM).unwrap();
        a.train_step(&x, Targets::Sparse(&y), 9);
        b.train_step(&x, Targets::Sparse(&y), 9);
        let (w, bias) = (&a.params()[..65], &a.params()[65..70]);
        // One f32 rounding of the scale and of the product: 2 ulp relative, plus 1e-9 for zeros.
        assert_close(&format!("{c:?} W"), &b.params()[..65], &keras_constraint(c, w, 13, 5), 1e-9, 3e-7);
        assert_close(&format!("{c:?} b"), &b.params()[65..70], &keras_constraint(c, bias, 5, 1), 1e-9, 3e-7);
        assert_ne!(a.params(), b.params(), "{c:?} changed something (else this test proves nothing)");
    }
    // MaxNorm's promise: every unit's incoming vector has norm ≤ max_value afterwards.
    let mut w = rand_vec(17 * 3, 2.0, 1);
    constraints::apply(Constraint::MaxNorm(1.5), &mut w, 17, 3, &mut [0.0; 3]);
    for j in 0..3 {
        let n: f64 = (0..17).map(|i| (w[i * 3 + j] as f64).powi(2)).sum::<f64>().sqrt();
        assert!(n <= 1.5 * (1.0 + 1e-6), "column {j} norm {n}");
    }
}

#[test]
fn constraint_and_batchnorm_specs_are_validated() {
    let ok = spec2(0, &[dense2(4, 4, 1, true, (1, [2.0, 0.0, 0.0]), NONE), bn2(4, 0, true, true, 0.99, 1e-3), dense2(4, 2, 7, true, NONE, NONE)]);
    assert!(Model::new(&ok).is_some());
    let bad: Vec<(&str, Vec<u32>)> = vec![
        ("max_norm < 0", spec2(0, &[dense2(4, 2, 7, true, (1, [-1.0, 0.0, 0.0]), NONE)])),
        ("max_norm NaN", spec2(0, &[dense2(4, 2, 7, true, (1, [f32::NAN, 0.0, 0.0]), NONE)])),
        ("min > max norm", spec2(0, &[dense2(4, 2, 7, true, (4, [2.0, 1.0, 1.0]), NONE)])),
        ("rate > 1", spec2(0, &[dense2(4, 2, 7, true, (4, [0.0, 1.0, 1.5]), NONE)])),
        ("min > max value", spec2(0, &[dense2(4, 2, 7, true, NONE, (5, [1.0, -1.0, 0.0]))])),
        ("unknown constraint", spec2(0, &[dense2(4, 2, 7, true, (9, [0.0; 3]), NONE)])),
        ("bn in ≠ out", { let mut l = bn2(4, 0, true, true, 0.99, 1e-3); l[2] = 3; spec2(0, &[l, dense2(3, 2, 7, true, NONE, NONE)]) }),
        ("bn momentum > 1", spec2(0, &[bn2(4, 0, true, true, 1.5, 1e-3), dense2(4, 2, 7, true, NONE, NONE)])),
        ("bn eps = 0", spec2(0, &[bn2(4, 0, true, true, 0.99, 0.0), dense2(4, 2, 7, true, NONE, NONE)])),
        ("bn flags", { let mut l = bn2(4, 0, true, true, 0.99, 1e-3); l[5] = 4; spec2(0, &[l]) }),
        ("bn constraint words", { let mut l = bn2(4, 0, true, true, 0.99, 1e-3); l[8] = 1; spec2(0, &[l]) }),
        ("bn in a v1 spec", vec![1, 1, 0, 0, 1, 4, 4, 0, 0, 1]),
    ];
    for (what, s) in bad {
        assert!(Model::new(&s).is_none(), "{what} must be rejected");
    }
}

#[test]
fn batchnorm_layout_and_initial_moving_statistics() {
    // scale off: no γ; center on: β. The moving statistics sit after all trainable parameters.
    let s = spec2(3, &[dense2(3, 5, 0, true, NONE, NONE), bn2(5, 1, true, false, 0.99, 1e-3), dense2(5, 2, 0, false, NONE, NONE)]);
    let m = Model::new(&s).unwrap();
    let lay = m.layout();
    assert_eq!(lay[1], [20, 0, 20, 5]);
    assert_eq!(m.trainable_count(), 20 + 5 + 10);
    assert_eq!(m.moving_layout(), vec![[0, 0], [35, 10], [0, 0]]);
    assert_eq!(m.param_count(), 45);
    assert_eq!(m.opt_state().len(), 2 * 35);
    assert_eq!(&m.params()[35..40], &[0.0; 5], "moving_mean starts at 0");
    assert_eq!(&m.params()[40..45], &[1.0; 5], "moving_variance starts at 1");
}

#[test]
fn batchnorm_train_step_normalises_and_updates_moving_statistics() {
    // x has per-feature means and scales far from 0 and 1; first layer BN (f = 7, batch 13).
    let (b, f) = (13usize, 7usize);
    let noise = rand_vec(b * f, 1.0, 21);
    let x: Vec<f32> = noise.iter().enumerate().map(|(i, &v)| 3.0 * (i % f) as f32 - 4.0 + (1.0 + (i % f) as f32) * v).collect();
    let s = spec2(3, &[bn2(7, 0, true, true, 0.9, 1e-3), dense2(7, 2, 0, true, NONE, NONE)]);
    let mut m = Model::new(&s).unwrap();
    init(&mut m, 2);
    m.set_optimizer(0, &[0.0; 12]).unwrap(); // lr 0: only the moving statistics move
    let y = rand_unit(b * 2, 3);
    m.train_step(&x, Targets::Dense(&y), b);
    let z = m.preactivation(0);
    let mov = m.moving_layout()[1 - 1][0] as usize;
    for j in 0..f {
        let col: Vec<f64> = (0..b).map(|i| x[i * f + j] as f64).collect();
        let mean = col.iter().sum::<f64>() / b as f64;
        let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / b as f64;
        // y = (x − μ)/sqrt(σ² + ε) with γ = 1, β = 0: f32 rounding of x̂ only (≈ 1e-6 relative).
        for i in 0..b {
            let want = (x[i * f + j] as f64 - mean) / (var + 1e-3).sqrt();
            assert!((z[i * f + j] as f64 - want).abs() <= 1e-5 * (1.0 + want.abs()), "y[{i},{j}] {} vs {want}", z[i * f + j]);
        }
        // moving = moving·0.9 + batch·0.1 from (0, 1); biased variance (Keras 3).
        let (mm, mv) = (m.params()[mov + j] as f64, m.params()[mov + f + j] as f64);
        assert!((mm - 0.1 * mean).abs() <= 1e-6 * (1.0 + mean.abs()), "moving_mean[{j}] {mm}");
        assert!((mv - (0.9 + 0.1 * var)).abs() <= 1e-6 * (1.0 + var), "moving_var[{j}] {mv}");
    }
    // forward_backward leaves the moving statistics alone.
    let before = m.params().to_vec();
    m.forward_backward(&x, Targets::Dense(&y), b);
    assert_eq!(m.params(), &before[..]);
    // Inference uses the moving statistics: set them, predict, compare with the equation.
    let p = m.params_mut();
    for j in 0..f { p[mov + j] = j as f32 - 3.0; p[mov + f + j] = 0.5 + j as f32; }
    let (gamma, beta): (Vec<f32>, Vec<f32>) = ((0..f).map(|j| 1.0 + 0.1 * j as f32).collect(), (0..f).map(|j| 0.2 * j as f32 - 0.5).collect());
    let lay = m.layout()[0];
    m.params_mut()[lay[0] as usize..(lay[0] + lay[1]) as usize].copy_from_slice(&gamma);
    m.params_mut()[lay[2] as usize..(lay[2] + lay[3]) as usize].copy_from_slice(&beta);
    let mut out = vec![0.0; b * 2];
    assert!(m.predict(&x, b, &mut out));
    let zi = m.preactivation(0);
    for i in 0..b {
        for j in 0..f {
            let want = gamma[j] as f64 * (x[i * f + j] as f64 - (j as f64 - 3.0)) / (0.5 + j as f64 + 1e-3).sqrt() + beta[j] as f64;
            assert!((zi[i * f + j] as f64 - want).abs() <= 1e-5 * (1.0 + want.abs()), "inference y[{i},{j}]");
        }
    }
}

#[test]
fn batchnorm_backward_matches_finite_differences() {
    // L = Σ c·y over (batch 5, f 3), γ, β non-trivial; central differences in f64 of the f32
    // forward with h = 1e-2: truncation O(h²)·|y'''| ≲ 1e-4, rounding 1e-7·|L|/h ≲ 1e-4, so 2e-3.
    let (b, f) = (5usize, 3usize);
    let x = rand_vec(b * f, 2.0, 31);
    let c = rand_vec(b * f, 1.0, 32);
    let gamma = [0.7f32, -1.3, 2.0];
    let beta = [0.1f32, 0.0, -0.4];
    let loss = |x: &[f32], g: &[f32], bt: &[f32]| -> f64 {
        let (mut xh, mut y, mut inv, mut sums) = (vec![0.0; b * f], vec![0.0; b * f], vec![0.0; f], vec![0.0; 2 * f]);
        batchnorm::forward_train(x, b, f, g, bt, 1e-3, 0.99, None, &mut xh, &mut y, &mut inv, &mut sums);
        y.iter().zip(&c).map(|(&a, &k)| a as f64 * k as f64).sum()
    };
    let (mut xh, mut y, mut inv, mut sums) = (vec![0.0; b * f], vec![0.0; b * f], vec![0.0; f], vec![0.0; 2 * f]);
    batchnorm::forward_train(&x, b, f, &gamma, &beta, 1e-3, 0.99, None, &mut xh, &mut y, &mut inv, &mut sums);
    let (mut dg, mut db, mut dx) = (vec![0.0; f], vec![0.0; f], vec![0.0; b * f]);
    batchnorm::backward(&c, &xh, &inv, &gamma, b, f, &mut dg, &mut db, Some(&mut dx), &mut sums);
    let h = 1e-2f32;
    let fd = |v: &[f32], k: usize, eval: &dyn Fn(&[f32]) -> f64| {
        let (mut p, mut q) = (v.to_vec(), v.to_vec());
        p[k] += h; q[k] -= h;
        (eval(&p) - eval(&q)) / (2.0 * h as f64)
    };
    for k in 0..b * f {
        let want = fd(&x, k, &|xv| loss(xv, &gamma, &beta));
        assert!((dx[k] as f64 - want).abs() <= 2e-3, "dx[{k}] {} vs {want}", dx[k]);
    }
    for j in 0..f {
        let wg = fd(&gamma, j, &|g| loss(&x, g, &beta));
        let wb = fd(&beta, j, &|bt| loss(&x, &gamma, bt));
        assert!((dg[j] as f64 - wg).abs() <= 2e-3, "dgamma[{j}] {} vs {wg}", dg[j]);
        assert!((db[j] as f64 - wb).abs() <= 2e-3, "dbeta[{j}] {} vs {wb}", db[j]);
    }
}

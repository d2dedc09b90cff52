//! Initialiser statistics against Keras's formulas (docs/abi.md, "Initialisers").
use gradguard_kernel::init::{init_fill, InitKind};

fn moments(v: &[f32]) -> (f64, f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().map(|&x| x as f64).sum::<f64>() / n;
    let var = v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
    let maxabs = v.iter().fold(0.0f64, |m, &x| m.max((x as f64).abs()));
    (mean, var, maxabs)
}

/// n = 60,001 samples: the standard error of the mean is σ/245 and of the variance about
/// var·sqrt(2/n) ≈ 0.6 % (less for uniforms), so 5 standard errors bound mean and variance.
const N: usize = 60_001;

#[test]
fn variance_scaling_kinds_have_keras_variance_and_bounds() {
    let (fi, fo) = (784u32, 128u32);
    // (kind, scale, fan, uniform?)
    let cases = [
        (InitKind::GlorotUniform, 1.0, (fi + fo) as f64 / 2.0, true),
        (InitKind::GlorotNormal, 1.0, (fi + fo) as f64 / 2.0, false),
        (InitKind::HeUniform, 2.0, fi as f64, true),
        (InitKind::HeNormal, 2.0, fi as f64, false),
        (InitKind::LecunUniform, 1.0, fi as f64, true),
        (InitKind::LecunNormal, 1.0, fi as f64, false),
    ];
    for (kind, scale, fan, uniform) in cases {
        let mut v = vec![f32::NAN; N];
        init_fill(&mut v, kind, fi, fo, 0.0, 1234);
        let (mean, var, maxabs) = moments(&v);
        let want_var: f64 = scale / fan; // both Keras families target variance scale/fan
        let sd = want_var.sqrt();
        assert!(mean.abs() < 5.0 * sd / (N as f64).sqrt(), "{kind:?}: mean {mean}");
        assert!((var / want_var - 1.0).abs() < 0.03, "{kind:?}: var {var}, want {want_var}");
        let bound = if uniform { (3.0 * want_var).sqrt() } else { 2.0 * sd / 0.879_625_661_034_239_8 };
        assert!(maxabs <= bound * (1.0 + 1e-6), "{kind:?}: max |w| {maxabs} beyond {bound}");
        assert!(maxabs > 0.95 * bound, "{kind:?}: max |w| {maxabs} should approach {bound}");
    }
}

#[test]
fn fixed_and_plain_random_kinds() {
    let mut v = vec![f32::NAN; 37];
    init_fill(&mut v, InitKind::Zeros, 1, 1, 5.0, 0);
    assert!(v.iter().all(|&x| x == 0.0));
    init_fill(&mut v, InitKind::Ones, 1, 1, 5.0, 0);
    assert!(v.iter().all(|&x| x == 1.0));
    init_fill(&mut v, InitKind::Constant, 1, 1, -2.5, 0);
    assert!(v.iter().all(|&x| x == -2.5));

    let mut u = vec![f32::NAN; N];
    init_fill(&mut u, InitKind::RandomUniform, 3, 3, 0.05, 9);
    let (mean, var, maxabs) = moments(&u);
    assert!(maxabs < 0.05 && mean.abs() < 5.0 * 0.05 / (3.0 * N as f64).sqrt());
    assert!((var / (0.05f64 * 0.05 / 3.0) - 1.0).abs() < 0.03, "var {var}");

    init_fill(&mut u, InitKind::RandomNormal, 3, 3, 0.05, 9);
    let (mean, var, maxabs) = moments(&u);
    assert!(mean.abs() < 5.0 * 0.05 / (N as f64).sqrt(), "mean {mean}");
    assert!((var / 0.0025 - 1.0).abs() < 0.03, "var {var}");
    assert!(maxabs > 2.5 * 0.05, "random_normal is not truncated: max {maxabs}");
}

#[test]
fn same_seed_same_values_other_seed_other_values() {
    let mut a = vec![0.0; 101];
    let mut b = vec![0.0; 101];
    init_fill(&mut a, InitKind::HeNormal, 13, 7, 0.0, 5);
    init_fill(&mut b, InitKind::HeNormal, 13, 7, 0.0, 5);
    assert_eq!(a, b);
    init_fill(&mut b, InitKind::HeNormal, 13, 7, 0.0, 6);
    assert_ne!(a, b);
}

#[test]
fn zero_fans_are_treated_as_one_like_keras() {
    let mut v = vec![0.0; 1001];
    init_fill(&mut v, InitKind::GlorotUniform, 0, 0, 0.0, 3);
    let (_, _, maxabs) = moments(&v);
    assert!(maxabs <= 3f64.sqrt() && maxabs > 1.6, "limit sqrt(3) expected, max {maxabs}");
}

//! Gradient clipping (Keras 3 semantics, crate::clip) alone and inside a training step.
//! Tolerance: norms of O(1) f32 vectors, 1e-6 relative.
#![allow(clippy::single_range_in_vec_init)]
mod common;
use common::*;
use gradguard_kernel::clip::{apply, sumsq, Clip};
use gradguard_kernel::loss::Targets;
use gradguard_kernel::model::Model;
use gradguard_kernel::stats::{g, LAYER_WORDS};

fn norm(v: &[f32]) -> f64 {
    sumsq(v).sqrt()
}

#[test]
fn clipvalue_clamps_each_entry() {
    let mut gr = vec![-3.0, -0.5, 0.0, 0.5, 3.0];
    assert!(apply(Clip::Value(1.0), &mut gr, &[0..5], &[]));
    assert_eq!(gr, vec![-1.0, -0.5, 0.0, 0.5, 1.0]);
    assert!(!apply(Clip::Value(1.0), &mut gr, &[0..5], &[]), "nothing left to clip");
}

#[test]
fn clipnorm_scales_each_tensor_above_the_bound_to_it() {
    // tensors: [3, 4] (norm 5), [] (empty), [0.1, 0.2, 0.2] (norm 0.3)
    let mut gr = vec![3.0, 4.0, 0.1, 0.2, 0.2];
    let t = [0..2, 2..2, 2..5];
    let sq: Vec<f64> = t.iter().map(|r| sumsq(&gr[r.clone()])).collect();
    assert!(apply(Clip::Norm(1.0), &mut gr, &t, &sq));
    assert!((norm(&gr[0..2]) - 1.0).abs() < 1e-6);
    assert!((gr[0] / gr[1] - 0.75).abs() < 1e-6, "direction kept");
    assert_eq!(&gr[2..], &[0.1, 0.2, 0.2], "tensor under the bound untouched");
}

#[test]
fn global_clipnorm_scales_all_tensors_together() {
    let mut gr = vec![3.0, 4.0, 12.0];
    let t = [0..2, 2..3];
    let sq: Vec<f64> = t.iter().map(|r| sumsq(&gr[r.clone()])).collect(); // global norm 13
    assert!(apply(Clip::GlobalNorm(2.6), &mut gr, &t, &sq));
    let want = [0.6, 0.8, 2.4];
    for (a, b) in gr.iter().zip(want) {
        assert!((a - b).abs() < 1e-6, "{gr:?}");
    }
    let sq: Vec<f64> = t.iter().map(|r| sumsq(&gr[r.clone()])).collect();
    assert!(!apply(Clip::GlobalNorm(13.0), &mut gr, &t, &sq), "under the bound: unchanged");
}

#[test]
fn non_finite_norm_leaves_gradients_for_the_monitor() {
    let mut gr = vec![f32::INFINITY, 1.0];
    let sq = [sumsq(&gr)];
    assert!(!apply(Clip::GlobalNorm(1.0), &mut gr, &[0..2], &sq));
    assert_eq!(gr[1], 1.0);
}

/// SGD lr 1 after global clipping: ‖Δθ‖ equals the bound; the stats report the pre-clip norm.
#[test]
fn train_step_clips_before_the_update_and_reports_the_pre_clip_norm() {
    let s = spec(3, false, &[(3, 4, 6, 0.0, true), (4, 2, 0, 0.0, true)]);
    for (word, name) in [(9usize, "clipvalue"), (10, "clipnorm"), (11, "global_clipnorm")] {
        let mut m = Model::new(&s).unwrap();
        init_model(&mut m, 2);
        let x = rand_vec(5 * 3, 1.0, 3);
        let y = rand_vec(5 * 2, 5.0, 4);
        // unclipped gradients first
        m.forward_backward(&x, Targets::Dense(&y), 5);
        let g0 = m.grads().to_vec();
        let pre = norm(&g0);
        let bound = (pre / 4.0) as f32;
        let mut cfg = [1.0f32, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        cfg[word] = if word == 9 { 0.05 } else { bound };
        m.set_optimizer(0, &cfg).unwrap();
        m.set_stats(true);
        let p0 = m.params().to_vec();
        m.train_step(&x, Targets::Dense(&y), 5);
        let delta: Vec<f32> = m.params().iter().zip(&p0).map(|(a, b)| b - a).collect();
        // Δθ = lr·clip(g) = clip(g): compare with the expected clipped gradient
        let lay = m.layout();
        let mut want = g0.clone();
        match word {
            9 => want.iter_mut().for_each(|v| *v = v.clamp(-0.05, 0.05)),
            10 => for &[wo, wl, bo, bl] in &lay {
                for r in [wo as usize..(wo + wl) as usize, bo as usize..(bo + bl) as usize] {
                    let n = norm(&want[r.clone()]);
                    if n > bound as f64 {
                        want[r].iter_mut().for_each(|v| *v = (*v as f64 * bound as f64 / n) as f32);
                    }
                }
            },
            _ => want.iter_mut().for_each(|v| *v = (*v as f64 * bound as f64 / pre) as f32),
        }
        let want: Vec<f64> = want.iter().map(|&v| v as f64).collect();
        assert_close(name, &delta, &want, 1e-6, 1e-4);
        if word == 11 {
            assert!((norm(&delta) - bound as f64).abs() < 1e-5 * bound as f64);
        }
        let st = m.stats();
        let gl = &st[2 * LAYER_WORDS..];
        assert!((gl[g::GLOBAL_GRAD_NORM] as f64 - pre).abs() < 1e-5 * pre, "{name}: pre-clip norm");
        assert_eq!(gl[g::CLIPPED], 1.0, "{name}");
    }
}

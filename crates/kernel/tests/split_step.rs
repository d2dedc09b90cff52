//! A training step on a batch of more than 64 rows is split into row chunks whose gradients are
//! added in chunk order (Model::step_chunks, model.rs). These tests hold the split step to the
//! unsplit computation (`forward_backward`, which never splits) on the same weights and data.
//!
//! Tolerance: the split changes only how each gradient element's sum over the batch rows is
//! grouped (per chunk, then across chunks). Both groupings carry f32 rounding of at most
//! γ_n = n·ε ≈ 577 · 1.2e-7 ≈ 7e-5 relative to the sum of the terms' magnitudes (Higham, 2002,
//! §4.2) for the largest batch here; we allow 1e-4 of the tensor's largest |g|. A wrong split (a
//! chunk dropped, counted twice, or scaled by its own size instead of the batch's) is off by
//! ≥ 1/8 of the values, a thousand times the bound. The loss sums per-row f32 losses in f64,
//! so only the f64 grouping differs: 1e-6 relative is ample.
mod common;
use common::*;
use gradguard_kernel::model::Model;

/// SGD with learning rate 0: the step computes and reduces the gradients but θ − 0·g = θ, so
/// the model stays where the reference model is.
const SGD_LR0: [f32; 12] = [0.0; 12];

/// (train_step's gradients and loss, forward_backward's) on fresh copies of one model.
fn both(s: &[u32], x: &[f32], y: &Y, batch: usize, seed: u32) -> ((Vec<f32>, f32, u32), (Vec<f32>, f32, u32)) {
    let mut split = Model::new(s).unwrap();
    init_model(&mut split, seed);
    split.set_optimizer(0, &SGD_LR0).unwrap();
    let before = split.params().to_vec();
    let l_split = split.train_step(x, y.t(), batch);
    assert_eq!(split.params(), &before[..], "SGD at lr 0 left the parameters unchanged");
    let mut whole = Model::new(s).unwrap();
    init_model(&mut whole, seed);
    let l_whole = whole.forward_backward(x, y.t(), batch);
    ((split.grads().to_vec(), l_split, split.last_correct()), (whole.grads().to_vec(), l_whole, whole.last_correct()))
}

#[test]
fn split_step_matches_the_unsplit_gradients() {
    // (loss code, layers): the three ways the last layer meets the loss (fused softmax + CE,
    // sigmoid + BCE, MSE chained through the activation), odd widths that don't divide the SIMD
    // width or NR.
    let models: [(u32, Vec<(u32, u32, u32, f32, bool)>); 3] = [
        (0, vec![(13, 17, 1, 0.0, true), (17, 11, 6, 0.0, true), (11, 5, 7, 0.0, true)]),
        (2, vec![(13, 9, 3, 1.0, true), (9, 3, 5, 0.0, false)]),
        (3, vec![(13, 19, 2, 0.1, true), (19, 1, 6, 0.0, true)]),
    ];
    let mut checked = 0;
    // 65: 2 chunks (32, 33); 128: 2 × 64; 131: 3 chunks (43, 44, 44); 577: 8 chunks (the cap).
    for &batch in &[65usize, 128, 131, 577] {
        for (mi, (loss, layers)) in models.iter().enumerate() {
            let s = spec(*loss, false, layers);
            let (inp, out) = (layers[0].0 as usize, layers.last().unwrap().1 as usize);
            let x = rand_vec(batch * inp, 1.5, 10 + batch as u32);
            let y = match loss {
                0 => Y::S(rand_labels(batch, out as u32, 20 + batch as u32)),
                _ => Y::D(rand_unit(batch * out, 30 + batch as u32)),
            };
            let ((g_split, l_split, c_split), (g_whole, l_whole, c_whole)) = both(&s, &x, &y, batch, 5 + mi as u32);
            assert!((l_split as f64 - l_whole as f64).abs() <= 1e-6 * (l_whole as f64).abs(),
                "model {mi}, batch {batch}: loss {l_split} vs {l_whole}");
            assert_eq!(c_split, c_whole, "model {mi}, batch {batch}: correct count");
            let m = Model::new(&s).unwrap();
            for (t, &[wo, wl, bo, bl]) in m.layout().iter().enumerate() {
                for (name, r) in [("W", wo as usize..(wo + wl) as usize), ("b", bo as usize..(bo + bl) as usize)] {
                    let want: Vec<f64> = g_whole[r.clone()].iter().map(|&v| v as f64).collect();
                    let scale = want.iter().fold(0.0f64, |a, &v| a.max(v.abs()));
                    assert!(r.is_empty() || scale > 0.0, "model {mi}, batch {batch}: {name}{t} has a zero gradient");
                    assert_close(&format!("model {mi}, batch {batch}, {name}{t}"), &g_split[r], &want, 1e-4 * scale, 0.0);
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 4 * (3 + 2 + 2) * 2);
}

#[test]
fn batches_of_at_most_64_rows_are_not_split() {
    // Unsplit, train_step runs the very same code as forward_backward: bit-identical gradients.
    let s = spec(0, false, &[(13, 17, 1, 0.0, true), (17, 5, 7, 0.0, true)]);
    for &batch in &[1usize, 33, 64] {
        let x = rand_vec(batch * 13, 1.0, 3);
        let y = Y::S(rand_labels(batch, 5, 4));
        let ((g_split, l_split, _), (g_whole, l_whole, _)) = both(&s, &x, &y, batch, 9);
        assert_eq!(l_split.to_bits(), l_whole.to_bits(), "batch {batch}");
        assert!(g_split.iter().zip(&g_whole).all(|(a, b)| a.to_bits() == b.to_bits()), "batch {batch}");
    }
}

#[test]
fn models_with_batchnorm_are_never_split() {
    // Batchnorm's batch mean and variance couple the rows, so a split step would be a different
    // (wrong) function; at batch 128 the step must still equal the whole-batch computation bit
    // for bit (forward_backward uses the same batch statistics, without moving-average updates).
    let f = |v: f32| v.to_bits();
    let dense = |i: u32, o: u32, act: u32| [0, i, o, act, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let mut bn = [0u32; 16];
    bn[..8].copy_from_slice(&[1, 9, 9, 1, 0, 3, f(0.9), f(1e-3)]);
    let mut s = vec![2, 3, 0, 0];
    for l in [dense(7, 9, 0), bn, dense(9, 4, 7)] {
        s.extend_from_slice(&l);
    }
    let batch = 128;
    let x = rand_vec(batch * 7, 1.0, 5);
    let y = Y::S(rand_labels(batch, 4, 6));
    let mut a = Model::new(&s).unwrap();
    let mut b = Model::new(&s).unwrap();
    for m in [&mut a, &mut b] {
        // dense weights random; γ, β as given by the zeroed region would zero the gradients of
        // the first layer, so γ = 1
        let lay = m.layout();
        let p = m.params_mut();
        p[..lay[0][1] as usize].copy_from_slice(&rand_vec(lay[0][1] as usize, 0.5, 7));
        p[lay[1][0] as usize..(lay[1][0] + lay[1][1]) as usize].fill(1.0);
        let (wo, wl) = (lay[2][0] as usize, lay[2][1] as usize);
        p[wo..wo + wl].copy_from_slice(&rand_vec(wl, 0.5, 8));
    }
    a.set_optimizer(0, &SGD_LR0).unwrap();
    let la = a.train_step(&x, y.t(), batch);
    let lb = b.forward_backward(&x, y.t(), batch);
    assert_eq!(la.to_bits(), lb.to_bits());
    assert!(b.grads()[..9 * 7].iter().any(|&g| g != 0.0), "the first layer has gradients");
    assert!(a.grads().iter().zip(b.grads()).all(|(x, y)| x.to_bits() == y.to_bits()));
}

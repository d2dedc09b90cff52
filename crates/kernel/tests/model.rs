//! The Model end to end: training reduces the loss, predict/evaluate agree with the step,
//! workspace growth, invalid specs.
mod common;
use common::*;
use gradguard_kernel::loss::Targets;
use gradguard_kernel::model::Model;

/// Three separable blobs in 7-d; the seed MNIST architecture in miniature, with Adam.
#[test]
fn adam_train_step_reduces_loss_on_toy_problem() {
    let (inp, classes, batch) = (7u32, 3u32, 33usize);
    let s = spec(0, false, &[(inp, 16, 1, 0.0, true), (16, 16, 1, 0.0, true), (16, classes, 7, 0.0, true)]);
    let mut m = Model::new(&s).expect("valid spec");
    init_model(&mut m, 42);
    let cfg = [1e-2, 0.9, 0.999, 1e-7, 0.0, 0.0, 0.0, 0.9, 0.1, 0.0, 0.0, 0.0];
    m.set_optimizer(3, &cfg).unwrap();
    let y = rand_labels(batch, classes, 7);
    // x = class centre + noise
    let noise = rand_vec(batch * inp as usize, 0.3, 8);
    let x: Vec<f32> = (0..batch * inp as usize).map(|i| {
        let (r, c) = (i / inp as usize, i % inp as usize);
        noise[i] + if c % classes as usize == y[r] as usize { 1.0 } else { 0.0 }
    }).collect();
    let first = m.train_step(&x, Targets::Sparse(&y), batch);
    let mut last = first;
    for _ in 0..60 {
        last = m.train_step(&x, Targets::Sparse(&y), batch);
    }
    assert!(first > 0.5, "initial loss {first} should be near ln 3");
    assert!(last < 0.1 * first, "loss went {first} -> {last}");
    assert_eq!(m.last_correct(), batch as u32, "all training samples right after fitting");
    // evaluate on the same data: summed loss/batch close to the last step's loss (one more update
    // happened in between, so only roughly), and everything correct.
    let (sum, correct) = m.evaluate(&x, Targets::Sparse(&y), batch);
    assert_eq!(correct, batch as u32);
    assert!((sum / batch as f64) < 0.1 * first as f64);
    // predict gives probability rows.
    let mut out = vec![f32::NAN; batch * classes as usize];
    assert!(m.predict(&x, batch, &mut out));
    for row in out.chunks(classes as usize) {
        let s: f32 = row.iter().sum();
        assert!((s - 1.0).abs() < 1e-5, "softmax row sums to {s}");
    }
}

#[test]
fn workspace_grows_for_larger_batch_and_is_reused_for_smaller() {
    let s = spec(3, false, &[(5, 4, 6, 0.0, true), (4, 2, 0, 0.0, false)]);
    let mut m = Model::new(&s).unwrap();
    init_model(&mut m, 1);
    let x = rand_vec(64 * 5, 1.0, 2);
    let y = rand_vec(64 * 2, 1.0, 3);
    assert_eq!(m.workspace_batch(), 0);
    m.train_step(&x[..8 * 5], Targets::Dense(&y[..8 * 2]), 8);
    assert_eq!(m.workspace_batch(), 8);
    m.train_step(&x, Targets::Dense(&y), 64);
    assert_eq!(m.workspace_batch(), 64);
    // A smaller batch after the larger one keeps the larger workspace (no reallocation) and
    // computes the same gradients as a fresh model would.
    let mut fresh = Model::new(&s).unwrap();
    fresh.params_mut().copy_from_slice(m.params());
    let l1 = m.forward_backward(&x[..3 * 5], Targets::Dense(&y[..3 * 2]), 3);
    let l2 = fresh.forward_backward(&x[..3 * 5], Targets::Dense(&y[..3 * 2]), 3);
    assert_eq!(m.workspace_batch(), 64);
    assert_eq!(fresh.workspace_batch(), 3);
    assert_eq!(l1.to_bits(), l2.to_bits());
    assert_eq!(m.grads(), fresh.grads());
}

#[test]
fn invalid_specs_give_none() {
    let good = spec(0, false, &[(4, 3, 1, 0.0, true), (3, 2, 7, 0.0, true)]);
    assert!(Model::new(&good).is_some());
    let mut bad: Vec<Vec<u32>> = vec![vec![], vec![1], good[..good.len() - 1].to_vec()];
    let mut v = good.clone(); v[0] = 2; bad.push(v); // version
    let mut v = good.clone(); v[1] = 0; bad.push(v); // no layers
    let mut v = good.clone(); v[1] = 3; bad.push(v); // length mismatch
    let mut v = good.clone(); v[2] = 4; bad.push(v); // loss kind
    let mut v = good.clone(); v[3] = 2; bad.push(v); // from_logits
    let mut v = good.clone(); v[4] = 1; bad.push(v); // layer kind (batchnorm reserved)
    let mut v = good.clone(); v[5] = 0; bad.push(v); // in = 0
    let mut v = good.clone(); v[6] = 0; bad.push(v); // out = 0
    let mut v = good.clone(); v[7] = 8; bad.push(v); // activation
    let mut v = good.clone(); v[8] = f32::NAN.to_bits(); bad.push(v); // act_param
    let mut v = good.clone(); v[9] = 2; bad.push(v); // use_bias
    let mut v = good.clone(); v[11] = 4; bad.push(v); // in ≠ previous out
    let mut v = good.clone(); v[5] = u32::MAX; v[6] = u32::MAX; bad.push(v); // overflow
    let mut v = good.clone(); v[1] = u32::MAX; bad.push(v); // 4 + 6·L overflows on 32 bits
    for (i, b) in bad.iter().enumerate() {
        assert!(Model::new(b).is_none(), "bad spec #{i} accepted: {b:?}");
    }
}

#[test]
fn layout_is_contiguous_w_then_b() {
    let s = spec(0, false, &[(4, 3, 1, 0.0, true), (3, 5, 1, 0.0, false), (5, 2, 7, 0.0, true)]);
    let m = Model::new(&s).unwrap();
    assert_eq!(m.layout(), vec![[0, 12, 12, 3], [15, 15, 30, 0], [30, 10, 40, 2]]);
    assert_eq!(m.param_count(), 42);
    assert_eq!(m.params_ptr() as usize % 16, 0);
    assert_eq!(m.grads_ptr() as usize % 16, 0);
}

#[test]
fn inference_runs_in_chunks_without_growing_past_the_training_batch() {
    let s = spec(1, false, &[(3, 5, 6, 0.0, true), (5, 4, 7, 0.0, true)]);
    let mut m = Model::new(&s).unwrap();
    init_model(&mut m, 8);
    let n = 2 * Model::INFER_CHUNK + 37; // three chunks, the last one partial
    let x = rand_vec(n * 3, 1.0, 9);
    let y = one_hot(&rand_labels(n, 4, 10), 4);
    let mut out = vec![f32::NAN; n * 4];
    assert!(m.predict(&x, n, &mut out));
    assert_eq!(m.workspace_batch(), Model::INFER_CHUNK);
    let (sum, correct) = m.evaluate(&x, Targets::Dense(&y), n);
    assert_eq!(m.workspace_batch(), Model::INFER_CHUNK);
    // row by row gives the same outputs, loss and count (to 1e-6: a GEMM may sum in another
    // order for a 1-row product than inside a tile)
    let (mut s1, mut c1) = (0.0f64, 0u32);
    for r in 0..n {
        let mut o = [0.0f32; 4];
        m.predict(&x[r * 3..r * 3 + 3], 1, &mut o);
        let want: Vec<f64> = out[r * 4..r * 4 + 4].iter().map(|&v| v as f64).collect();
        assert_close(&format!("row {r}"), &o, &want, 1e-6, 1e-6);
        let (l, c) = m.evaluate(&x[r * 3..r * 3 + 3], Targets::Dense(&y[r * 4..r * 4 + 4]), 1);
        s1 += l;
        c1 += c;
    }
    assert!((sum - s1).abs() < 1e-6 * s1.abs(), "{sum} vs {s1}");
    assert_eq!(correct, c1);
    // a training batch larger than the chunk makes inference use that size
    let big = Model::INFER_CHUNK + 10;
    m.forward_backward(&x[..big * 3], Targets::Dense(&y[..big * 4]), big);
    m.predict(&x, n, &mut out);
    assert_eq!(m.workspace_batch(), big);
}

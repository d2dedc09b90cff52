//! A training step of at most 64 rows whose first layer has more inputs than the GEMM's KC
//! (400) splits that layer by input features across threads (Model::input_split_step). It must
//! compute exactly what the unsplit step computes. The unsplit step still runs whenever
//! statistics are collected (collecting them never changes a bit of training: optim.rs), so
//! these tests train two copies of a model on the same batches, one collecting statistics, and
//! compare parameters, gradients, optimizer slots and losses bit for bit. No tolerance: every
//! sum is taken in the unsplit step's order (the first layer's product block by block, dW₀'s
//! rows as independent dot products over the batch, db₀ in row order).
//!
//! What they catch: the parts' partial products added in another order (three parts, so the
//! grouping shows), a row block of dW₀ or W₀'s update off by one row, b₀'s gradient summed in
//! another order or missed, the other layers' update skipped or doubled, x's columns misread.
mod common;
use common::*;
use gradguard_kernel::model::Model;

/// Spec version 2 (16 words per layer) of dense layers (in, out, activation, use_bias) with
/// a max-norm constraint of `max_norm` on every kernel (0: none).
fn spec_v2(loss: u32, layers: &[(u32, u32, u32, bool)], max_norm: f32) -> Vec<u32> {
    let mut s = vec![2, layers.len() as u32, loss, 0];
    for &(i, o, act, bias) in layers {
        let kc = if max_norm > 0.0 { 1 } else { 0 };
        s.extend_from_slice(&[0, i, o, act, 0, bias as u32, 0, 0, kc, max_norm.to_bits(), 0, 0, 0, 0, 0, 0]);
    }
    s
}

/// (kind, cfg) of every update rule the kernel has, weight decay on two of them.
fn optimizers() -> Vec<(u32, [f32; 12])> {
    let base = [0.01, 0.9, 0.999, 1e-7, 0.0, 0.0, 0.0, 0.9, 0.1, 0.0, 0.0, 0.0];
    let with = |i: usize, v: f32, b: [f32; 12]| { let mut c = b; c[i] = v; c };
    vec![
        (3, base),                                    // Adam
        (4, with(6, 0.004, base)),                    // AdamW
        (0, with(4, 0.9, with(5, 1.0, base))),        // SGD, Nesterov momentum
        (0, with(6, 0.01, base)),                     // SGD, plain, weight decay
        (1, with(4, 0.5, base)),                      // RMSprop with momentum
        (2, base),                                    // Adagrad
    ]
}

/// Trains `steps` steps on fresh batches; returns every loss and region as bits.
fn run(s: &[u32], opt: (u32, [f32; 12]), batch: usize, stats: bool, steps: usize) -> Vec<Vec<u32>> {
    let mut m = Model::new(s).unwrap();
    init_model(&mut m, 3);
    m.set_optimizer(opt.0, &opt.1).unwrap();
    m.set_stats(stats);
    let (inp, out) = (m.input_size(), m.output_size());
    let mut losses = Vec::new();
    for t in 0..steps {
        let x = rand_vec(batch * inp, 1.5, 100 + t as u32);
        let loss = match m.loss_kind() as u32 {
            0 => m.train_step(&x, Y::S(rand_labels(batch, out as u32, 200 + t as u32)).t(), batch),
            _ => m.train_step(&x, Y::D(rand_unit(batch * out, 300 + t as u32)).t(), batch),
        };
        assert!(loss.is_finite(), "step {t}: loss {loss}");
        losses.push(loss.to_bits());
    }
    let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<u32>>();
    vec![losses, bits(m.params()), bits(m.grads()), bits(m.opt_state()), vec![m.opt_step() as u32, m.last_correct()]]
}

fn assert_same(what: &str, split: &[Vec<u32>], whole: &[Vec<u32>]) {
    for (k, name) in ["losses", "params", "grads", "optimizer state", "steps, correct"].iter().enumerate() {
        let first = split[k].iter().zip(&whole[k]).position(|(a, b)| a != b);
        assert!(split[k].len() == whole[k].len() && first.is_none(),
            "{what}: {name} differ first at index {first:?} ({} values)", whole[k].len());
    }
}

#[test]
fn input_split_step_is_the_unsplit_step_bit_for_bit() {
    // (loss, layers): in₀ 401 (2 parts of 201 and 200 features), 784 (MNIST: 2 × 392),
    // 803 (3 parts of 268, 268, 267); first layers of 1, 13 and 64 units; with and without
    // biases; the three ways the last layer meets the loss; a single-layer model (no "other
    // layers" to update).
    let models: Vec<(u32, Vec<(u32, u32, u32, bool)>)> = vec![
        (0, vec![(784, 64, 1, true), (64, 13, 6, true), (13, 10, 7, true)]),
        (0, vec![(803, 13, 6, false), (13, 5, 7, true)]),
        (2, vec![(401, 1, 5, true)]),
        (3, vec![(803, 7, 2, true), (7, 3, 0, false)]),
    ];
    let mut checked = 0;
    for (mi, (loss, layers)) in models.iter().enumerate() {
        let s = spec_v2(*loss, layers, 0.0);
        for &batch in &[1usize, 7, 32, 64] {
            for (oi, &opt) in optimizers().iter().enumerate() {
                if batch != 32 && oi > 0 {
                    continue; // every rule at one batch size, every batch size with Adam
                }
                let what = format!("model {mi}, batch {batch}, optimizer {oi}");
                assert_same(&what, &run(&s, opt, batch, false, 3), &run(&s, opt, batch, true, 3));
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 4 * (4 + 5));
}

#[test]
fn input_split_step_with_constraints_applies_them_to_the_finished_update() {
    // max-norm 0.05 on every kernel binds on glorot weights of a 784-input layer
    let s = spec_v2(0, &[(784, 32, 1, true), (32, 10, 7, true)], 0.05);
    let adam = optimizers()[0];
    let (split, whole) = (run(&s, adam, 48, false, 4), run(&s, adam, 48, true, 4));
    assert_same("max-norm", &split, &whole);
    let unconstrained = run(&spec_v2(0, &[(784, 32, 1, true), (32, 10, 7, true)], 0.0), adam, 48, false, 4);
    assert_ne!(split[1], unconstrained[1], "the constraint changed the weights");
}

#[test]
fn larger_batches_and_small_inputs_keep_the_other_paths() {
    // The split applies only to one row chunk with in₀ > 400; these take the row split or the
    // unsplit step, which the statistics path matches too (the row split to its own bits).
    let big_in = spec_v2(0, &[(784, 16, 1, true), (16, 10, 7, true)], 0.0);
    let small_in = spec_v2(0, &[(400, 16, 1, true), (16, 10, 7, true)], 0.0);
    let adam = optimizers()[0];
    assert_same("in 784, batch 65", &run(&big_in, adam, 65, false, 2), &run(&big_in, adam, 65, true, 2));
    assert_same("in 400, batch 32", &run(&small_in, adam, 32, false, 2), &run(&small_in, adam, 32, true, 2));
}

//! train_step's check of its input batch (finite.rs, Model::train_step): the first NaN/±Inf of
//! x is found wherever it sits relative to the fast pass's blocks (512 values), and a step that
//! finds one changes nothing. Exact comparisons: nothing is computed, only located or left alone.
mod common;
use common::*;
use gradguard_kernel::finite::first_non_finite;
use gradguard_kernel::model::Model;

const BAD: [f32; 3] = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY];

#[test]
fn first_non_finite_at_every_kind_of_position() {
    // finite extremes must pass: largest, smallest normal, a subnormal, −0
    let edge = [f32::MAX, f32::MIN, f32::MIN_POSITIVE, 1e-45, -0.0];
    // 1, a prime, one block ± 1, several blocks and a tail
    for &n in &[1usize, 7, 511, 512, 513, 1031, 1536] {
        let mut x = rand_vec(n, 3.0, n as u32);
        for (i, &e) in edge.iter().enumerate() {
            x[(i * 97) % n] = e;
        }
        assert_eq!(first_non_finite(&x), None, "n {n}: all finite");
        let spots = [0, 1, n / 2, 511, 512, 1023, n - 1];
        for &at in spots.iter().filter(|&&at| at < n) {
            for bad in BAD {
                let mut y = x.clone();
                y[at] = bad;
                assert_eq!(first_non_finite(&y), Some(at), "n {n}: {bad} at {at}");
                // a second bad value later must not be the one reported
                if at + 1 < n {
                    y[n - 1] = f32::NAN;
                    assert_eq!(first_non_finite(&y), Some(at), "n {n}: first of two, {bad} at {at}");
                }
            }
        }
    }
    assert_eq!(first_non_finite(&[]), None);
}

/// Everything a step could change, bit for bit.
fn state(m: &Model) -> (Vec<u32>, Vec<u32>, Vec<u32>, u64) {
    let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
    (bits(m.params()), bits(m.grads()), bits(m.opt_state()), m.opt_step())
}

#[test]
fn a_step_with_a_bad_input_changes_nothing_and_says_where() {
    // in 13 (prime), out 5; batches: 1, unsplit 37, split 131 (3 chunks: the bad row in the last)
    let s = spec(0, false, &[(13, 17, 1, 0.0, true), (17, 5, 7, 0.0, true)]);
    let adam = [1e-2, 0.9, 0.999, 1e-7, 0.0, 0.0, 0.0, 0.9, 0.1, 0.0, 0.0, 0.0];
    for &batch in &[1usize, 37, 131] {
        let mut m = Model::new(&s).unwrap();
        init_model(&mut m, 3);
        m.set_optimizer(3, &adam).unwrap();
        let x = rand_vec(batch * 13, 1.0, 7);
        let y = Y::S(rand_labels(batch, 5, 8));
        // one good step first, so that the state is not all zeros
        assert!(m.train_step(&x, y.t(), batch).is_finite());
        assert_eq!(m.bad_input(), None);
        for (k, bad) in BAD.into_iter().enumerate() {
            let at = [batch * 13 - 1, (batch / 2) * 13 + 4, 0][k];
            let mut xb = x.clone();
            xb[at] = bad;
            let before = state(&m);
            assert!(m.train_step(&xb, y.t(), batch).is_nan(), "batch {batch}: {bad} at {at}");
            assert_eq!(m.bad_input(), Some(at), "batch {batch}: {bad} at {at}");
            assert!(state(&m) == before, "batch {batch}: {bad} at {at} changed the model");
        }
        assert!(m.train_step(&x, y.t(), batch).is_finite());
        assert_eq!(m.bad_input(), None, "batch {batch}: a good step clears it");
    }
}

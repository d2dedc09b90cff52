//! The C ABI called natively with pointers into Rust buffers: the handle life cycle, null
//! handles and bad inputs return the documented values instead of trapping, and a full step
//! through the exports equals the same step through the Model API.
mod common;
use common::*;
use gradguard_kernel::abi::*;
use gradguard_kernel::loss::Targets;
use gradguard_kernel::model::Model;
use core::ptr::{null, null_mut};

#[test]
fn null_handle_and_invalid_inputs_are_statuses_not_traps() {
    unsafe {
        let h = null_mut();
        assert_eq!(gg_model_param_count(h), 0);
        assert!(gg_model_params(h).is_null());
        assert!(gg_model_grads(h).is_null());
        assert!(gg_model_stats(h).is_null());
        assert!(gg_train_step(h, null(), null(), 4).is_nan());
        assert!(gg_forward_backward(h, null(), null(), 4).is_nan());
        assert_eq!(gg_model_set_optimizer(h, 3, null(), 12), -3);
        assert_eq!(gg_model_set_lr(h, 0.1), -3);
        assert_eq!(gg_last_correct(h), 0);
        gg_model_set_stats(h, 1);
        gg_predict(h, null(), 3, null_mut());
        gg_model_layout(h, null_mut());
        gg_model_free(h);
        assert!(gg_model_new(null(), 0).is_null());
        let bad = [1u32, 1, 9, 0, 0, 2, 2, 1, 0, 1];
        assert!(gg_model_new(bad.as_ptr(), bad.len() as u32).is_null());
        let mut v = [0.0f32; 4];
        assert_eq!(gg_init_fill(v.as_mut_ptr(), 4, 11, 1, 1, 0.0, 0), -1);
        assert_eq!(v, [0.0; 4], "unknown kind leaves dst untouched");
        assert_eq!(gg_init_fill(v.as_mut_ptr(), 4, 1, 1, 1, 0.0, 0), 0);
        assert_eq!(v, [1.0; 4]);
    }
}

#[test]
fn a_step_through_the_exports_equals_the_model_api() {
    let s = spec(0, false, &[(5, 7, 1, 0.0, true), (7, 3, 7, 0.0, true)]);
    let x = rand_vec(4 * 5, 1.0, 1);
    let y = rand_labels(4, 3, 2);
    let cfg = [1e-2f32, 0.9, 0.999, 1e-7, 0.0, 0.0, 0.0, 0.9, 0.1, 0.0, 0.0, 0.0];
    let mut m = Model::new(&s).unwrap();
    init_model(&mut m, 5);
    m.set_optimizer(3, &cfg).unwrap();
    let want_loss = m.train_step(&x, Targets::Sparse(&y), 4);
    unsafe {
        let h = gg_model_new(s.as_ptr(), s.len() as u32);
        assert!(!h.is_null());
        let n = gg_model_param_count(h) as usize;
        assert_eq!(n, m.param_count());
        let mut lay = vec![0u32; 8];
        gg_model_layout(h, lay.as_mut_ptr());
        assert_eq!(lay, m.layout().concat());
        // TypeScript writes the parameter region directly
        let p = gg_model_params(h) as *mut f32;
        let mut fresh = Model::new(&s).unwrap();
        init_model(&mut fresh, 5);
        core::ptr::copy_nonoverlapping(fresh.params().as_ptr(), p, n);
        assert_eq!(gg_model_set_optimizer(h, 3, cfg.as_ptr(), 12), 0);
        assert_eq!(gg_model_set_optimizer(h, 3, cfg.as_ptr(), 11), -2, "short cfg");
        let mut two = cfg;
        two[9] = 1.0;
        two[10] = 1.0;
        assert_eq!(gg_model_set_optimizer(h, 3, two.as_ptr(), 12), -200);
        assert_eq!(gg_model_set_lr(h, f32::NAN), -1);
        let loss = gg_train_step(h, x.as_ptr(), y.as_ptr() as *const u8, 4);
        assert_eq!(loss.to_bits(), want_loss.to_bits());
        assert_eq!(core::slice::from_raw_parts(p, n), m.params());
        assert_eq!(gg_last_correct(h), m.last_correct());
        let mut out = vec![f32::NAN; 12];
        gg_predict(h, x.as_ptr(), 4, out.as_mut_ptr());
        let mut want = vec![0.0; 12];
        m.predict(&x, 4, &mut want);
        assert_eq!(out, want);
        let mut ev = [f32::NAN; 2];
        gg_evaluate(h, x.as_ptr(), y.as_ptr() as *const u8, 4, ev.as_mut_ptr());
        let (sum, correct) = m.evaluate(&x, Targets::Sparse(&y), 4);
        assert_eq!(ev, [sum as f32, correct as f32]);
        // batch 0 is a no-op
        assert_eq!(gg_train_step(h, null(), null(), 0), 0.0);
        assert_eq!(core::slice::from_raw_parts(p, n), m.params());
        gg_model_free(h);
    }
}

#[test]
fn alloc_is_aligned_zeroed_and_reused_after_free() {
    unsafe {
        let a = gg_alloc(100);
        assert!(!a.is_null() && a as usize % 16 == 0);
        assert!(core::slice::from_raw_parts(a, 100).iter().all(|&b| b == 0));
        gg_free(a, 100);
        assert!(gg_alloc(0).is_null());
    }
}

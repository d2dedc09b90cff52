//! The C ABI (docs/abi.md). The only file of the crate with `extern "C"` items.
//! Pointers are byte offsets into linear memory; TypeScript validates before calling.
//!
//! # Safety (every `unsafe extern "C"` below)
//! Each pointer must be 0 or point at a live buffer of the length docs/abi.md gives for that
//! argument; a model handle must be 0 or a value returned by `gg_model_new` and not yet freed.
#![allow(clippy::missing_safety_doc)]
use crate::gemm::{sgemm, Trans};
use std::alloc::{alloc_zeroed, dealloc, Layout};

const ALIGN: usize = 16;

#[no_mangle]
pub extern "C" fn gg_abi_version() -> u32 { 1 }

#[no_mangle]
pub extern "C" fn gg_simd() -> u32 { cfg!(target_feature = "simd128") as u32 }

/// 1 in the `relaxed-simd` build (the GEMM micro-kernel uses f32x4.relaxed_madd), else 0.
#[no_mangle]
pub extern "C" fn gg_relaxed_simd() -> u32 { cfg!(target_feature = "relaxed-simd") as u32 }

/// 16-byte aligned, zeroed; 0 on failure or for 0 bytes. Like gg_free, it first completes a
/// deferred pass (docs/abi.md): the block it returns, or the one gg_free releases, may be the
/// x a deferred pass still reads.
#[no_mangle]
pub extern "C" fn gg_alloc(bytes: u32) -> *mut u8 {
    crate::pool::join();
    if bytes == 0 { return core::ptr::null_mut(); }
    match Layout::from_size_align(bytes as usize, ALIGN) {
        Ok(l) => unsafe { alloc_zeroed(l) },
        Err(_) => core::ptr::null_mut(),
    }
}

/// `bytes` must be the size given to `gg_alloc`.
#[no_mangle]
pub unsafe extern "C" fn gg_free(ptr: *mut u8, bytes: u32) {
    crate::pool::join();
    if ptr.is_null() || bytes == 0 { return; }
    dealloc(ptr, Layout::from_size_align_unchecked(bytes as usize, ALIGN));
}

/// Extent in elements of a row-major operand with `rows` rows of which `cols` are read.
fn extent(rows: usize, cols: usize, ld: usize) -> usize {
    if rows == 0 || cols == 0 { 0 } else { (rows - 1) * ld + cols }
}

/// docs/abi.md, GEMM. Shapes and strides are validated by TypeScript.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn gg_sgemm(
    transa: u32, transb: u32, m: u32, n: u32, k: u32, alpha: f32,
    a: *const f32, lda: u32, b: *const f32, ldb: u32, beta: f32, c: *mut f32, ldc: u32,
) {
    crate::pool::join(); // its operands may be a model's regions
    let (m, n, k) = (m as usize, n as usize, k as usize);
    let (lda, ldb, ldc) = (lda as usize, ldb as usize, ldc as usize);
    let ta = if transa != 0 { Trans::T } else { Trans::N };
    let tb = if transb != 0 { Trans::T } else { Trans::N };
    let a_len = match ta { Trans::N => extent(m, k, lda), Trans::T => extent(k, m, lda) };
    let b_len = match tb { Trans::N => extent(k, n, ldb), Trans::T => extent(n, k, ldb) };
    let c_len = extent(m, n, ldc);
    let a = if a_len == 0 { &[][..] } else { core::slice::from_raw_parts(a, a_len) };
    let b = if b_len == 0 { &[][..] } else { core::slice::from_raw_parts(b, b_len) };
    let c = if c_len == 0 { &mut [][..] } else { core::slice::from_raw_parts_mut(c, c_len) };
    sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

// ---------------------------------------------------------------------------------------------
// Model (docs/abi.md, "Model"). A handle is a `Box<Model>` turned into a raw pointer; 0 is
// never a valid handle, and every export treats it as "no model" (returns 0 / NaN / a negative
// status) rather than trapping. Buffers passed in are TypeScript's, sized as docs/abi.md says.
// ---------------------------------------------------------------------------------------------

use crate::init::{init_fill, InitKind};
use crate::loss::{LossKind, Targets};
use crate::model::Model;

/// Status when the handle is 0.
const ERR_HANDLE: i32 = -3;

/// Every model export goes through here: it first completes a training step's update that
/// may still be running on the pool (pool::join), so the host never sees a half-updated model.
unsafe fn model<'a>(h: *mut Model) -> Option<&'a mut Model> {
    crate::pool::join();
    h.as_mut()
}

/// For the exports that touch only the model's own fields (the learning rate, the statistics
/// switch, the last step's correct count), never the regions a deferred update writes: these
/// run between two training steps (fit's loop) and must not wait for the update.
unsafe fn model_fields<'a>(h: *mut Model) -> Option<&'a mut Model> {
    h.as_mut()
}

/// `len` elements at `p`, or an empty slice for len 0 / a null pointer.
unsafe fn slice<'a, T>(p: *const T, len: usize) -> &'a [T] {
    if p.is_null() || len == 0 { &[] } else { core::slice::from_raw_parts(p, len) }
}

unsafe fn slice_mut<'a, T>(p: *mut T, len: usize) -> &'a mut [T] {
    if p.is_null() || len == 0 { &mut [] } else { core::slice::from_raw_parts_mut(p, len) }
}

/// Inputs of a step: x (batch, in₀) and y per the loss kind ((batch) i32 labels for sparse CE,
/// else (batch, out_L) f32). None if a length overflows or a pointer is null.
unsafe fn step_io<'a>(m: &Model, x: *const f32, y: *const u8, batch: usize) -> Option<(&'a [f32], Targets<'a>)> {
    let nx = batch.checked_mul(m.input_size())?;
    if batch > 0 && (x.is_null() || y.is_null()) {
        return None;
    }
    let xs = slice(x, nx);
    let ys = if m.loss_kind() == LossKind::SparseCategoricalCrossentropy {
        Targets::Sparse(slice(y as *const i32, batch))
    } else {
        Targets::Dense(slice(y as *const f32, batch.checked_mul(m.output_size())?))
    };
    Some((xs, ys))
}

/// Parses `spec` (docs/abi.md, "Spec"); 0 if the spec is invalid or memory is short.
#[no_mangle]
pub unsafe extern "C" fn gg_model_new(spec: *const u32, len: u32) -> *mut Model {
    match Model::new(slice(spec, len as usize)) {
        Some(m) => Box::into_raw(Box::new(m)),
        None => core::ptr::null_mut(),
    }
}

/// Frees everything the model owns. The handle is invalid afterwards.
#[no_mangle]
pub unsafe extern "C" fn gg_model_free(h: *mut Model) {
    if !h.is_null() {
        drop(Box::from_raw(h));
    }
}

#[no_mangle]
pub unsafe extern "C" fn gg_model_param_count(h: *mut Model) -> u32 {
    model(h).map_or(0, |m| m.param_count() as u32)
}

/// The flat parameter region (f32 × param_count), 16-byte aligned, stable for the model's life.
#[no_mangle]
pub unsafe extern "C" fn gg_model_params(h: *mut Model) -> *const f32 {
    model(h).map_or(core::ptr::null(), |m| m.params_ptr())
}

/// The flat gradient region, same layout as the parameters.
#[no_mangle]
pub unsafe extern "C" fn gg_model_grads(h: *mut Model) -> *const f32 {
    model(h).map_or(core::ptr::null(), |m| m.grads_ptr())
}

/// Writes 4 words per layer: w_off, w_len, b_off, b_len (f32 units). `out` holds 4·L words.
#[no_mangle]
pub unsafe extern "C" fn gg_model_layout(h: *mut Model, out: *mut u32) {
    let Some(m) = model(h) else { return };
    let lay = m.layout();
    let o = slice_mut(out, 4 * lay.len());
    for (dst, src) in o.chunks_exact_mut(4).zip(&lay) {
        dst.copy_from_slice(src);
    }
}

/// Trainable parameters: the first `trainable_count` floats of the parameter region; the rest
/// are batchnorm moving statistics (docs/abi.md, "Parameters").
#[no_mangle]
pub unsafe extern "C" fn gg_model_trainable_count(h: *mut Model) -> u32 {
    model(h).map_or(0, |m| m.trainable_count() as u32)
}

/// Writes 2 words per layer: offset and length (2f) of its moving statistics (moving_mean then
/// moving_variance) in the parameter region; 0, 0 for a dense layer. `out` holds 2·L words.
#[no_mangle]
pub unsafe extern "C" fn gg_model_moving_layout(h: *mut Model, out: *mut u32) {
    let Some(m) = model(h) else { return };
    let lay = m.moving_layout();
    let o = slice_mut(out, 2 * lay.len());
    for (dst, src) in o.chunks_exact_mut(2).zip(&lay) {
        dst.copy_from_slice(src);
    }
}

/// The optimizer state region: 2 × trainable_count f32 (slot m, then slot v), stable for the
/// model's life. TypeScript may read it and write it back (rollback).
#[no_mangle]
pub unsafe extern "C" fn gg_model_opt_state(h: *mut Model) -> *const f32 {
    model(h).map_or(core::ptr::null(), |m| m.opt_state_ptr())
}

/// Length of the optimizer state region in f32 (2 × trainable_count).
#[no_mangle]
pub unsafe extern "C" fn gg_model_opt_state_len(h: *mut Model) -> u32 {
    model(h).map_or(0, |m| m.opt_state().len() as u32)
}

/// The optimizer's step counter (updates applied since it was set; Adam's t − 1).
#[no_mangle]
pub unsafe extern "C" fn gg_model_opt_step(h: *mut Model) -> u32 {
    model(h).map_or(0, |m| m.opt_step().min(u32::MAX as u64) as u32)
}

/// Sets the optimizer's step counter (with the slots, restores a saved state exactly).
#[no_mangle]
pub unsafe extern "C" fn gg_model_set_opt_step(h: *mut Model, step: u32) {
    if let Some(m) = model(h) {
        m.set_opt_step(step as u64);
    }
}

/// Fills n floats at dst with an initialiser (docs/abi.md, "Initialisers").
/// Returns 0, or −1 for an unknown kind (dst untouched).
#[no_mangle]
pub unsafe extern "C" fn gg_init_fill(dst: *mut f32, n: u32, kind: u32, fan_in: u32, fan_out: u32,
                                      value: f32, seed: u32) -> i32 {
    crate::pool::join(); // dst is usually a model's parameter region
    let Some(k) = InitKind::from_code(kind) else { return -1 };
    init_fill(slice_mut(dst, n as usize), k, fan_in, fan_out, value, seed);
    0
}

/// 0 ok; −1 unknown kind, −2 n < 12, −100−i invalid cfg word i, −200 more than one clipping
/// option, −3 no model. On error the previous optimizer and its state are kept.
#[no_mangle]
pub unsafe extern "C" fn gg_model_set_optimizer(h: *mut Model, kind: u32, cfg: *const f32, n: u32) -> i32 {
    let Some(m) = model(h) else { return ERR_HANDLE };
    match m.set_optimizer(kind, slice(cfg, n as usize)) {
        Ok(()) => 0,
        Err(e) => e,
    }
}

/// Changes only the learning rate. 0 ok, −1 for a negative or non-finite lr (ignored).
#[no_mangle]
pub unsafe extern "C" fn gg_model_set_lr(h: *mut Model, lr: f32) -> i32 {
    let Some(m) = model_fields(h) else { return ERR_HANDLE };
    if m.set_lr(lr) { 0 } else { -1 }
}

/// Forward, loss, backward, clipping, update; the mean loss (NaN for a 0 handle, and for a
/// non-finite input value, which gg_model_bad_input then locates).
#[no_mangle]
pub unsafe extern "C" fn gg_train_step(h: *mut Model, x: *const f32, y: *const u8, batch: u32) -> f32 {
    let Some(m) = model(h) else { return f32::NAN };
    let Some((xs, ys)) = step_io(m, x, y, batch as usize) else { return f32::NAN };
    m.train_step(xs, ys, batch as usize)
}

/// Forward, loss and backward only (fills the gradient region); the mean loss.
#[no_mangle]
pub unsafe extern "C" fn gg_forward_backward(h: *mut Model, x: *const f32, y: *const u8, batch: u32) -> f32 {
    let Some(m) = model(h) else { return f32::NAN };
    let Some((xs, ys)) = step_io(m, x, y, batch as usize) else { return f32::NAN };
    m.forward_backward(xs, ys, batch as usize)
}

/// Inference forward: out is (batch, out_L).
#[no_mangle]
pub unsafe extern "C" fn gg_predict(h: *mut Model, x: *const f32, batch: u32, out: *mut f32) {
    let Some(m) = model(h) else { return };
    let b = batch as usize;
    let (Some(nx), Some(no)) = (b.checked_mul(m.input_size()), b.checked_mul(m.output_size())) else { return };
    if b > 0 && (x.is_null() || out.is_null()) {
        return;
    }
    m.predict(slice(x, nx), b, slice_mut(out, no));
}

/// Inference forward and loss: out[0] = summed per-sample loss, out[1] = number correct.
#[no_mangle]
pub unsafe extern "C" fn gg_evaluate(h: *mut Model, x: *const f32, y: *const u8, batch: u32, out: *mut f32) {
    let Some(m) = model(h) else { return };
    if out.is_null() {
        return;
    }
    let o = slice_mut(out, 2);
    let Some((xs, ys)) = step_io(m, x, y, batch as usize) else {
        o[0] = f32::NAN;
        o[1] = 0.0;
        return;
    };
    let (loss, correct) = m.evaluate(xs, ys, batch as usize);
    o[0] = loss as f32;
    o[1] = correct as f32;
}

/// Correct predictions in the last train step (or forward_backward).
#[no_mangle]
pub unsafe extern "C" fn gg_last_correct(h: *mut Model) -> u32 {
    model_fields(h).map_or(0, |m| m.last_correct())
}

/// 1 + the index in x of the first NaN/±Inf the last train step found in its input (it then
/// returned NaN and changed nothing), or 0.
#[no_mangle]
pub unsafe extern "C" fn gg_model_bad_input(h: *mut Model) -> u32 {
    model_fields(h).and_then(|m| m.bad_input()).map_or(0, |i| i as u32 + 1)
}

/// Statistics collection on (≠ 0) or off for the following train steps.
#[no_mangle]
pub unsafe extern "C" fn gg_model_set_stats(h: *mut Model, on: u32) {
    if let Some(m) = model_fields(h) {
        m.set_stats(on != 0);
    }
}

/// The statistics block: 16 f32 words per layer, then 8 global words (docs/abi.md).
#[no_mangle]
pub unsafe extern "C" fn gg_model_stats(h: *mut Model) -> *const f32 {
    model(h).map_or(core::ptr::null(), |m| m.stats_ptr())
}

// ---------------------------------------------------------------------------------------------
// Threads (docs/abi.md, "Threads"; build variant `simd-threads`, cargo feature `threads`).
// The pool's threads are made by the host (wasm32-unknown-unknown cannot spawn): the kernel
// imports `gg.gg_spawn_worker(builder)`, which must start a worker that instantiates this module
// on the same shared memory, sets its stack pointer and TLS block and calls
// `gg_worker_run(builder)`. See crates/kernel/src/pool.rs and ts/backend/wasm/threads/.
// ---------------------------------------------------------------------------------------------

/// Threads the kernel's parallel passes use: the pool size in the threaded build once
/// `gg_pool_init` succeeded, else 1 (every other build).
#[no_mangle]
pub extern "C" fn gg_threads() -> u32 { crate::pool::threads() as u32 }

#[cfg(feature = "threads")]
#[link(wasm_import_module = "gg")]
extern "C" {
    /// Host: start a worker that will call `gg_worker_run(builder)`; 1 if it will, 0 if not.
    fn gg_spawn_worker(builder: u32) -> i32;
}

#[cfg(feature = "threads")]
fn spawn_via_host(tb: *mut rayon::ThreadBuilder) -> bool {
    // SAFETY: the import only records the number; the builder is reclaimed by gg_worker_run.
    unsafe { gg_spawn_worker(tb as usize as u32) == 1 }
}

/// Builds the pool with `threads` workers (1..=64); 1 on success, 0 if it exists already,
/// `threads` is out of range, or the host could not start a worker.
#[cfg(feature = "threads")]
#[no_mangle]
pub extern "C" fn gg_pool_init(threads: u32) -> i32 {
    if threads == 0 || threads > 64 { return 0; }
    crate::pool::init(threads as usize, spawn_via_host) as i32
}

/// Runs one pool worker's loop on the calling (worker) thread; returns when the pool ends.
/// `builder` is the number the kernel passed to `gg_spawn_worker`, used exactly once.
#[cfg(feature = "threads")]
#[no_mangle]
pub unsafe extern "C" fn gg_worker_run(builder: u32) {
    crate::pool::worker_run(builder as usize as *mut rayon::ThreadBuilder);
}

/// Completes a training step's optimizer update that the pool may still be running (every
/// model export does this first; see pool::join). The host calls it before it ends the pool's
/// workers, whose claimed chunks would otherwise never finish. A no-op in the other builds.
#[no_mangle]
pub extern "C" fn gg_pool_join() { crate::pool::join() }

/// Diagnostics: counter `i` of the pool's activity since it started (pool::activity): 0 parallel
/// passes, 1 chunks run by the calling thread, 2 chunks run by helpers, 3 passes no helper took
/// part in; 0 for any other i and in the builds without a pool. An f64: exact to 2^53.
#[no_mangle]
pub extern "C" fn gg_pool_activity(i: u32) -> f64 {
    crate::pool::activity().get(i as usize).map_or(0.0, |&c| c as f64)
}

/// Tests only: 1 runs every parallel pass on the pool whatever its size (thresholds 0), so that
/// small odd shapes exercise the parallel paths; 0 restores the measured thresholds.
#[no_mangle]
pub extern "C" fn gg_pool_force_parallel(on: u32) { crate::pool::set_force_parallel(on != 0) }

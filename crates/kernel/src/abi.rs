//! The C ABI (docs/abi.md). The only file of the crate with `extern "C"` items.
//! Pointers are byte offsets into linear memory; TypeScript validates before calling.
use crate::gemm::{sgemm, Trans};
use std::alloc::{alloc_zeroed, dealloc, Layout};

const ALIGN: usize = 16;

#[no_mangle]
pub extern "C" fn gg_abi_version() -> u32 { 1 }

#[no_mangle]
pub extern "C" fn gg_simd() -> u32 { cfg!(target_feature = "simd128") as u32 }

/// 16-byte aligned, zeroed; 0 on failure or for 0 bytes.
#[no_mangle]
pub extern "C" fn gg_alloc(bytes: u32) -> *mut u8 {
    if bytes == 0 { return core::ptr::null_mut(); }
    match Layout::from_size_align(bytes as usize, ALIGN) {
        Ok(l) => unsafe { alloc_zeroed(l) },
        Err(_) => core::ptr::null_mut(),
    }
}

/// `bytes` must be the size given to `gg_alloc`.
#[no_mangle]
pub unsafe extern "C" fn gg_free(ptr: *mut u8, bytes: u32) {
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

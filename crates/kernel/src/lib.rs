//! gradguard's numeric core. Knows nothing of JavaScript: the C ABI over linear memory lives
//! in `abi.rs` alone (see docs/abi.md). Everything else is safe Rust over slices.
// memory.atomic.wait32/notify for the pool's sleeping caller (pool.rs); the threads build already
// needs a nightly-feature toolchain mode (RUSTC_BOOTSTRAP, build-std with atomics).
#![cfg_attr(all(feature = "threads", target_arch = "wasm32"), feature(stdarch_wasm_atomic_wait))]
pub mod gemm;
pub mod abi;
pub mod activations;
pub mod batchnorm;
pub mod buf;
pub mod clip;
pub mod constraints;
pub mod dense;
pub mod finite;
pub mod init;
pub mod loss;
pub mod model;
pub mod optim;
pub mod pool;
pub mod reduce;
pub mod rng;
pub mod stats;

//! gradguard's numeric core. Knows nothing of JavaScript: the C ABI over linear memory lives
//! in `abi.rs` alone (see docs/abi.md). Everything else is safe Rust over slices.
pub mod gemm;
pub mod abi;
pub mod activations;
pub mod batchnorm;
pub mod buf;
pub mod clip;
pub mod constraints;
pub mod dense;
pub mod init;
pub mod loss;
pub mod model;
pub mod optim;
pub mod pool;
pub mod reduce;
pub mod rng;
pub mod stats;

//! gradguard's numeric core. Knows nothing of JavaScript: the C ABI over linear memory lives
//! in `abi.rs` alone (see docs/abi.md).
pub mod gemm;
pub mod abi;

// Shared-memory layout facts of the `simd-threads` build; they must match the link arguments in
// scripts/build-wasm.sh (--initial-memory / --max-memory), since an imported memory must be
// created by the host with limits the module accepts.
export const WASM_PAGE = 65536;
/** --initial-memory=4194304 (4 MiB: data, the main stack and a first heap). */
export const THREADS_INITIAL_PAGES = 64;
/** --max-memory=2147483648 (2 GiB): shared memories must declare a maximum. */
export const THREADS_MAXIMUM_PAGES = 32768;
/** Stack of each worker thread; the kernel's deepest frames are GEMM packing loops (small). */
export const WORKER_STACK_BYTES = 1 << 20;

/** What the host sends a new worker (structured-clonable: Module and shared Memory are). */
export interface WorkerStart {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** rayon ThreadBuilder handed out by the kernel's spawn handler. */
  builder: number;
  /** Top of this worker's stack (the stack grows down). */
  stackTop: number;
  /** This worker's thread-local storage block (size __tls_size, aligned to __tls_align). */
  tls: number;
}

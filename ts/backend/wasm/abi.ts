// A typed binding of the kernel's C ABI (docs/abi.md), bound once per instance.
//
// Pointers are byte offsets into the kernel's memory (numbers here). The views f32/i32/u32 cover
// the whole memory and are re-created whenever memory.buffer changed: memory.grow (in gg_alloc,
// gg_model_new, or a step with a larger batch than before) detaches the old ArrayBuffer, and a
// stale view would read as length 0. Never keep a view across a kernel call; ask for it again.
import { BackendError } from '../../errors.js';

export const ABI_VERSION = 1;

/** The raw exports, as docs/abi.md lists them (u32 pointers/sizes are JS numbers). */
export interface KernelExports {
  memory: WebAssembly.Memory;
  gg_abi_version(): number;
  gg_simd(): number;
  gg_alloc(bytes: number): number;
  gg_free(ptr: number, bytes: number): void;
  gg_sgemm(transa: number, transb: number, m: number, n: number, k: number, alpha: number,
    a: number, lda: number, b: number, ldb: number, beta: number, c: number, ldc: number): void;

  gg_model_new(spec: number, len: number): number;
  gg_model_free(h: number): void;
  gg_model_param_count(h: number): number;
  gg_model_params(h: number): number;
  gg_model_grads(h: number): number;
  gg_model_layout(h: number, out: number): void;
  gg_init_fill(dst: number, n: number, kind: number, fanIn: number, fanOut: number, value: number, seed: number): void;
  gg_model_set_optimizer(h: number, kind: number, cfg: number, n: number): number;
  gg_model_set_lr(h: number, lr: number): void;
  gg_train_step(h: number, x: number, y: number, batch: number): number;
  gg_forward_backward(h: number, x: number, y: number, batch: number): number;
  gg_predict(h: number, x: number, batch: number, out: number): void;
  gg_evaluate(h: number, x: number, y: number, batch: number, out: number): void;
  gg_last_correct(h: number): number;
  gg_model_bad_input(h: number): number;
  gg_model_set_stats(h: number, on: number): void;
  gg_model_stats(h: number): number;
  gg_model_trainable_count(h: number): number;
  gg_model_moving_layout(h: number, out: number): void;
  gg_model_opt_state(h: number): number;
  gg_model_opt_state_len(h: number): number;
  gg_model_opt_step(h: number): number;
  gg_model_set_opt_step(h: number, step: number): void;
}

/** Exports every kernel build has had since the skeleton (memory and GEMM). */
const CORE_EXPORTS = ['gg_abi_version', 'gg_simd', 'gg_alloc', 'gg_free', 'gg_sgemm'] as const;
/** The model exports of docs/abi.md; a build without them can run GEMM but not models. */
export const MODEL_EXPORTS = [
  'gg_model_new', 'gg_model_free', 'gg_model_param_count', 'gg_model_params', 'gg_model_grads',
  'gg_model_layout', 'gg_init_fill', 'gg_model_set_optimizer', 'gg_model_set_lr', 'gg_train_step',
  'gg_forward_backward', 'gg_predict', 'gg_evaluate', 'gg_last_correct', 'gg_model_bad_input', 'gg_model_set_stats',
  'gg_model_stats', 'gg_model_trainable_count', 'gg_model_moving_layout', 'gg_model_opt_state',
  'gg_model_opt_state_len', 'gg_model_opt_step', 'gg_model_set_opt_step',
] as const;

/** One instantiated kernel: its exports, zero-copy views and the allocator. */
export class Kernel {
  readonly exports: KernelExports;
  readonly memory: WebAssembly.Memory;
  /** 1 when the module was compiled with simd128 (gg_simd). */
  readonly simd: boolean;
  /** Model exports this module lacks (empty for a complete build). */
  readonly missingModelExports: readonly string[];
  private buffer: ArrayBuffer | SharedArrayBuffer | null = null;
  private f32View = new Float32Array(0);
  private i32View = new Int32Array(0);
  private u32View = new Uint32Array(0);
  private u8View = new Uint8Array(0);

  constructor(instance: WebAssembly.Instance, where: string) {
    const ex = instance.exports as Record<string, unknown>;
    if (!(ex.memory instanceof WebAssembly.Memory)) {
      throw new BackendError(`gradguard: the wasm module from ${where} exports no memory; it is not a gradguard kernel. Rebuild it with \`npm run build:wasm\`.`);
    }
    const missingCore = CORE_EXPORTS.filter((n) => typeof ex[n] !== 'function');
    if (missingCore.length > 0) {
      throw new BackendError(`gradguard: the wasm module from ${where} lacks ${missingCore.join(', ')}; it is not a gradguard kernel. Rebuild it with \`npm run build:wasm\`.`);
    }
    const version = (ex.gg_abi_version as () => number)();
    if (version !== ABI_VERSION) {
      throw new BackendError(`gradguard: the wasm kernel from ${where} has ABI version ${version}, this package expects ${ABI_VERSION}. `
        + 'The .wasm file and the JavaScript are from different versions: rebuild with `npm run build`.');
    }
    this.exports = ex as unknown as KernelExports;
    this.memory = ex.memory;
    this.simd = this.exports.gg_simd() === 1;
    this.missingModelExports = MODEL_EXPORTS.filter((n) => typeof ex[n] !== 'function');
  }

  private refresh(): void {
    const b = this.memory.buffer;
    if (b !== this.buffer) {
      this.buffer = b;
      this.f32View = new Float32Array(b);
      this.i32View = new Int32Array(b);
      this.u32View = new Uint32Array(b);
      this.u8View = new Uint8Array(b);
    }
  }

  /** The whole memory as f32; index = byte pointer / 4. Valid until the next kernel call. */
  get f32(): Float32Array { this.refresh(); return this.f32View; }
  get i32(): Int32Array { this.refresh(); return this.i32View; }
  get u32(): Uint32Array { this.refresh(); return this.u32View; }
  get u8(): Uint8Array { this.refresh(); return this.u8View; }

  /** Current memory size in bytes (grows, never shrinks). */
  get memoryBytes(): number { return this.memory.buffer.byteLength; }

  /** gg_alloc with an error instead of 0: 16-byte aligned, zeroed. */
  alloc(bytes: number): number {
    const p = this.exports.gg_alloc(bytes >>> 0);
    if (p === 0) {
      throw new BackendError(`gradguard: the wasm kernel could not allocate ${bytes} bytes (memory is ${this.memoryBytes} bytes; wasm32 allows at most 4 GiB).`);
    }
    return p >>> 0;
  }

  free(ptr: number, bytes: number): void {
    if (ptr !== 0) this.exports.gg_free(ptr, bytes >>> 0);
  }

  /** Throws when this module has no model exports (a kernel built before the model ABI). */
  requireModelExports(): void {
    if (this.missingModelExports.length > 0) {
      throw new BackendError(`gradguard: this wasm kernel lacks the model exports (${this.missingModelExports.join(', ')}). `
        + 'It is older than this package: rebuild it with `npm run build:wasm`.');
    }
  }

  /**
   * C ← α·op(A)·op(B) + β·C on pointers already in wasm memory (docs/abi.md, GEMM).
   * Shapes and strides are the caller's to validate.
   */
  sgemm(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: number, lda: number, b: number, ldb: number, beta: number, c: number, ldc: number): void {
    this.exports.gg_sgemm(transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
}

/** Instantiates a compiled kernel module (it imports nothing) and binds it. */
export async function instantiateKernel(module: WebAssembly.Module, where: string): Promise<Kernel> {
  let instance: WebAssembly.Instance;
  try {
    instance = await WebAssembly.instantiate(module, {});
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new BackendError(`gradguard: could not instantiate the wasm kernel from ${where}: ${msg}. `
      + 'It may be from another build; rebuild it with `npm run build:wasm`.');
  }
  return new Kernel(instance, where);
}

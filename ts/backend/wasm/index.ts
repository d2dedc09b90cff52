// Entry point of the wasm backend: pick a variant, find and compile its module, bind the ABI.
import { BackendError, OptionError, checkOptions, describe } from '../../errors.js';
import { Kernel, instantiateKernel } from './abi.js';
import { WasmBackend } from './backend.js';
import { isNode, locateWasm, type LocatedModule, type WasmSource, type WasmVariant } from './locate.js';
import { defaultThreadCount, instantiateThreaded, threadsUnavailableReason } from './threads/pool.js';
import { detectRelaxedSimd, detectSimd } from './probe.js';

export { WasmBackend, WasmModel, encodeSpec } from './backend.js';
export { Kernel, ABI_VERSION, MODEL_EXPORTS, instantiateKernel, type KernelExports } from './abi.js';
export { WASM_VARIANTS, locateWasm, wasmFileName, type WasmSource, type WasmVariant, type LocatedModule } from './locate.js';
export { detectSimd, detectRelaxedSimd, detectThreads } from './probe.js';
export { defaultThreadCount, threadsUnavailableReason } from './threads/pool.js';

export type WasmVariantOption = 'auto' | 'simd' | 'scalar' | 'simd-threads' | 'relaxed-simd';
const VARIANT_OPTIONS: readonly WasmVariantOption[] = ['auto', 'simd', 'scalar', 'simd-threads', 'relaxed-simd'];

export interface WasmBackendOptions extends WasmSource {
  /**
   * 'auto' (default): 'simd' when the engine supports it, else 'scalar'; with `threads` > 1 it
   * takes 'simd-threads' where threads can run. Threads stay opt-in because the single-threaded
   * build needs no worker script and no cross-origin isolation, and because they pay only on
   * a machine with idle cores and for enough work: a training step over 64 rows splits into
   * ~64-row chunks, a smaller one whose first layer has over 400 inputs splits that layer by
   * inputs (MNIST at batch 32: ~1.3× in fit() on 2 threads, 1.5–1.7× at batch 128), and other
   * small steps and MNIST-sized GEMMs run on one thread.
   * 'simd-threads': the kernel computes on a pool of worker threads (Node worker_threads, or Web
   * Workers inside a cross-origin isolated browser Worker); results are bit-identical to 'simd'
   * for any thread count. Where threads cannot run it falls back to 'simd' with a console notice.
   * 'relaxed-simd': the GEMM micro-kernel uses fused multiply-add (f32x4.relaxed_madd), for
   * engines with relaxed SIMD (Chrome 114+, Node 22+; Node 20 with
   * --experimental-wasm-relaxed-simd). Its peak is higher (1.13× in bench/gemm-peak.mjs on AMD
   * EPYC), but there its GEMMs and MNIST training ran at 'simd''s speed (the micro-kernel
   * reaches 83–88% of the fused peak, the same GFLOP/s as 'simd' at ~100% of its own); results differ from 'simd' in the last bits and between CPUs with
   * and without FMA, which is why 'auto' never picks it. Where the engine lacks relaxed SIMD it
   * falls back to 'simd' with a console notice.
   */
  variant?: WasmVariantOption;
  /** simd-threads: number of worker threads (1..64); default: os.availableParallelism() in
   *  Node, navigator.hardwareConcurrency in browsers. */
  threads?: number;
  /** simd-threads in browsers: URL of dist/wasm-worker.js, if a bundler moved it. */
  workerUrl?: string | URL;
}

/** 'auto' → the best variant this engine runs. Today: simd if supported, else scalar. */
export function resolveVariant(option: WasmVariantOption = 'auto'): WasmVariant {
  if (!VARIANT_OPTIONS.includes(option)) {
    throw new OptionError(`gradguard: unknown wasm variant ${describe(option)}; expected one of ${VARIANT_OPTIONS.map((v) => `'${v}'`).join(', ')}.`);
  }
  if (option === 'auto') return detectSimd() ? 'simd' : 'scalar';
  if (option !== 'scalar' && !detectSimd()) {
    throw new BackendError(`gradguard: variant '${option}' was asked for, but this JavaScript engine does not support WebAssembly SIMD; `
      + 'use { variant: \'scalar\' } or \'auto\'.');
  }
  return option;
}

/** Prints the one-line notice of a simd-threads / relaxed-simd → simd fallback (console.warn, overridable for tests). */
export let threadsNotice: (message: string) => void = (m) => console.warn(m);
/** Replaces the notice printer (tests; apps that route warnings elsewhere). Returns the old one. */
export function setThreadsNotice(f: (message: string) => void): (message: string) => void {
  const old = threadsNotice; threadsNotice = f; return old;
}

// Compiled modules of the default locations, per variant: compiling is the slow part and a
// Module can be instantiated many times (each backend gets its own memory). A failed attempt is
// forgotten, so that building the file and trying again works in the same process.
const moduleCache = new Map<WasmVariant, Promise<LocatedModule>>();

async function locateCached(variant: WasmVariant, opts: WasmSource): Promise<LocatedModule> {
  if (opts.wasmBytes !== undefined || opts.wasmPath !== undefined) return locateWasm(variant, opts);
  let p = moduleCache.get(variant);
  if (p === undefined) {
    p = locateWasm(variant);
    moduleCache.set(variant, p);
    p.catch(() => moduleCache.delete(variant));
  }
  return p;
}

function checkThreads(threads: unknown): number | undefined {
  if (threads === undefined) return undefined;
  if (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 1 || threads > 64) {
    throw new OptionError(`createWasmBackend: threads must be an integer from 1 to 64, got ${describe(threads)}.`);
  }
  return threads;
}

/**
 * Loads the wasm kernel and returns a Backend over it. Each call has its own wasm memory (and,
 * for simd-threads, its own worker pool: end it with `backend.dispose()`; idle workers do not keep
 * a Node process alive).
 * Throws BackendError when the file cannot be found, fetched, compiled or bound (the message names
 * the path/URL tried and what to do).
 */
export async function createWasmBackend(opts: WasmBackendOptions = {}): Promise<WasmBackend> {
  checkOptions('createWasmBackend', opts, ['variant', 'wasmPath', 'wasmBytes', 'threads', 'workerUrl']);
  const threads = checkThreads(opts.threads);
  let variant = resolveVariant(opts.variant ?? 'auto');
  if (opts.variant === undefined || opts.variant === 'auto') {
    if (variant === 'simd' && threads !== undefined && threads > 1 && threadsUnavailableReason() === null) {
      variant = 'simd-threads';
    }
  }
  if (variant === 'relaxed-simd' && !detectRelaxedSimd()) {
    threadsNotice('gradguard: using the \'simd\' kernel instead of \'relaxed-simd\': this engine does not support relaxed SIMD '
      + '(Node 20 needs --experimental-wasm-relaxed-simd; Node 22+ and Chrome 114+ have it).');
    variant = 'simd';
  }
  if (variant === 'simd-threads') {
    const why = threadsUnavailableReason();
    if (why !== null) {
      threadsNotice(`gradguard: using the single-threaded 'simd' kernel instead of 'simd-threads': ${why}.`);
      variant = 'simd';
    }
  }
  const located = await locateCached(variant, opts);
  if (variant === 'simd-threads') {
    const n = threads ?? await defaultThreadCount();
    const workerUrl = opts.workerUrl !== undefined ? new URL(String(opts.workerUrl), (globalThis as { location?: { href?: string } }).location?.href)
      : isNode() ? undefined : new URL('./wasm-worker.js', import.meta.url);
    let t;
    try {
      t = await instantiateThreaded(located.module, Math.min(64, Math.max(1, n)), workerUrl);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new BackendError(`gradguard: could not start the 'simd-threads' kernel from ${located.where} with ${n} threads: ${msg}. `
        + 'Use { variant: \'simd\' }, or rebuild the file with `bash scripts/build-wasm.sh simd-threads` if it is from another build.');
    }
    const kernel = new Kernel(t.instance, located.where);
    if (!kernel.simd) {
      await t.shutdown();
      throw new BackendError(`gradguard: ${located.where} was loaded as the 'simd-threads' variant but reports gg_simd() = 0; rebuild it with \`npm run build:wasm\`.`);
    }
    return new WasmBackend(kernel, 'simd-threads', located.where, () => t.shutdown());
  }
  const kernel = await instantiateKernel(located.module, located.where);
  // With wasmBytes the module says itself which build it is.
  if (opts.wasmBytes !== undefined) {
    const relaxed = (kernel.exports as { gg_relaxed_simd?: () => number }).gg_relaxed_simd?.() === 1;
    variant = relaxed ? 'relaxed-simd' : kernel.simd ? 'simd' : 'scalar';
  }
  else if ((variant !== 'scalar') !== kernel.simd
    || (variant === 'relaxed-simd') !== ((kernel.exports as { gg_relaxed_simd?: () => number }).gg_relaxed_simd?.() === 1)) {
    throw new BackendError(`gradguard: ${located.where} was loaded as the '${variant}' variant but reports gg_simd() = ${kernel.simd ? 1 : 0}; `
      + 'the wasm files are mixed up: rebuild them with `npm run build:wasm`.');
  }
  return new WasmBackend(kernel, variant, located.where);
}

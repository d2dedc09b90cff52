// Entry point of the wasm backend: pick a variant, find and compile its module, bind the ABI.
import { BackendError, OptionError, checkOptions, describe } from '../../errors.js';
import { instantiateKernel } from './abi.js';
import { WasmBackend } from './backend.js';
import { locateWasm, type LocatedModule, type WasmSource, type WasmVariant } from './locate.js';
import { detectSimd } from './probe.js';

export { WasmBackend, WasmModel, encodeSpec } from './backend.js';
export { Kernel, ABI_VERSION, MODEL_EXPORTS, instantiateKernel, type KernelExports } from './abi.js';
export { WASM_VARIANTS, locateWasm, wasmFileName, type WasmSource, type WasmVariant, type LocatedModule } from './locate.js';
export { detectSimd, detectRelaxedSimd, detectThreads } from './probe.js';

export type WasmVariantOption = 'auto' | 'simd' | 'scalar';
const VARIANT_OPTIONS: readonly WasmVariantOption[] = ['auto', 'simd', 'scalar'];

export interface WasmBackendOptions extends WasmSource {
  /** 'auto' (default) takes 'simd' when the engine supports it, else 'scalar'. */
  variant?: WasmVariantOption;
}

/** 'auto' → the best variant this engine runs. Today: simd if supported, else scalar. */
export function resolveVariant(option: WasmVariantOption = 'auto'): WasmVariant {
  if (!VARIANT_OPTIONS.includes(option)) {
    throw new OptionError(`gradguard: unknown wasm variant ${describe(option)}; expected one of ${VARIANT_OPTIONS.map((v) => `'${v}'`).join(', ')}.`);
  }
  if (option === 'auto') return detectSimd() ? 'simd' : 'scalar';
  if (option === 'simd' && !detectSimd()) {
    throw new BackendError('gradguard: variant \'simd\' was asked for, but this JavaScript engine does not support WebAssembly SIMD; '
      + 'use { variant: \'scalar\' } or \'auto\'.');
  }
  return option;
}

// Compiled modules of the default locations, per variant: compiling is the slow part and a
// Module can be instantiated many times (each backend gets its own memory). A failed attempt is
// forgotten, so that building the file and trying again works in the same process.
const moduleCache = new Map<WasmVariant, Promise<LocatedModule>>();

/**
 * Loads the wasm kernel and returns a Backend over it. Each call has its own wasm memory.
 * Throws BackendError when the file cannot be found, fetched, compiled or bound (the message names
 * the path/URL tried and what to do).
 */
export async function createWasmBackend(opts: WasmBackendOptions = {}): Promise<WasmBackend> {
  checkOptions('createWasmBackend', opts, ['variant', 'wasmPath', 'wasmBytes']);
  let variant = resolveVariant(opts.variant ?? 'auto');
  const custom = opts.wasmBytes !== undefined || opts.wasmPath !== undefined;
  let located: LocatedModule;
  if (custom) {
    located = await locateWasm(variant, opts);
  } else {
    let p = moduleCache.get(variant);
    if (p === undefined) {
      p = locateWasm(variant);
      moduleCache.set(variant, p);
      p.catch(() => moduleCache.delete(variant));
    }
    located = await p;
  }
  const kernel = await instantiateKernel(located.module, located.where);
  // With wasmBytes the module says itself which build it is.
  if (opts.wasmBytes !== undefined) variant = kernel.simd ? 'simd' : 'scalar';
  else if ((variant === 'simd') !== kernel.simd) {
    throw new BackendError(`gradguard: ${located.where} was loaded as the '${variant}' variant but reports gg_simd() = ${kernel.simd ? 1 : 0}; `
      + 'the wasm files are mixed up: rebuild them with `npm run build:wasm`.');
  }
  return new WasmBackend(kernel, variant, located.where);
}

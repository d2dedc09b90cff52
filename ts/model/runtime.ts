// Backend selection. `await gg.ready()` loads the wasm kernel once (simd or scalar, chosen by a
// WebAssembly.validate probe inside the wasm backend) and makes it the default backend of every
// model created afterwards; `gg.ready({ backend: 'reference' })` picks the pure-TypeScript one.
// A model may override with `gg.sequential({ backend: someBackendInstance })`.
//
// Backends register themselves by name (ts/index.ts wires 'wasm' and 'reference'), so this file
// does not import them and the model code does not depend on which ones a build includes.

import type { Backend } from '../backend/types.js';
import { BackendError, OptionError, checkOptions, describe } from '../errors.js';

/** Options the wasm backend takes (passed through to its factory). */
export interface ReadyOptions {
  /** 'wasm' (default) or 'reference', or a Backend instance to use as the default. */
  backend?: string | Backend;
  /** wasm only: 'auto' (default: simd when the engine supports it, else scalar; with
   *  threads > 1, simd-threads where threads can run), 'simd', 'scalar', 'simd-threads' or
   *  'relaxed-simd' (fused multiply-add; see createWasmBackend). */
  variant?: 'auto' | 'simd' | 'scalar' | 'simd-threads' | 'relaxed-simd';
  /** wasm simd-threads only: worker threads (default os.availableParallelism() /
   *  navigator.hardwareConcurrency). End them with gg.shutdown() (a Node process exits without). */
  threads?: number;
  /** wasm only: directory / URL prefix of the .wasm files, or the URL/path of one .wasm file. */
  wasmPath?: string | URL;
  /** wasm only: the module's bytes or a compiled WebAssembly.Module (wins over wasmPath). */
  wasmBytes?: BufferSource | WebAssembly.Module;
}
const READY_OPTIONS = ['backend', 'variant', 'wasmPath', 'wasmBytes', 'threads'] as const;

export type BackendFactory = (opts: Omit<ReadyOptions, 'backend'>) => Backend | Promise<Backend>;

const factories = new Map<string, BackendFactory>();
/** Loaded backends by name + variant, so ready() loads each kernel only once. */
const loaded = new Map<string, Promise<Backend>>();
let defaultBackend: Backend | null = null;

/** Makes a backend available to ready() under `name` (done by ts/index.ts). */
export function registerBackend(name: string, factory: BackendFactory): void {
  factories.set(name, factory);
}

export const isBackend = (v: unknown): v is Backend =>
  v !== null && typeof v === 'object' && typeof (v as Backend).createModel === 'function';

/**
 * Loads a backend (once) and makes it the default for new models. Returns it.
 * Calling again with other options switches the default; already created models keep theirs.
 */
export async function ready(opts: ReadyOptions = {}): Promise<Backend> {
  checkOptions('ready', opts, READY_OPTIONS);
  const { backend = 'wasm', ...rest } = opts;
  if (isBackend(backend)) { defaultBackend = backend; return backend; }
  if (typeof backend !== 'string') {
    throw new OptionError(`ready: backend must be 'wasm', 'reference' or a Backend instance, got ${describe(backend)}`);
  }
  if (rest.variant !== undefined && !['auto', 'simd', 'scalar', 'simd-threads', 'relaxed-simd'].includes(rest.variant)) {
    throw new OptionError(`ready: variant must be 'auto', 'simd', 'scalar', 'simd-threads' or 'relaxed-simd', got ${describe(rest.variant)}`);
  }
  const factory = factories.get(backend);
  if (!factory) {
    throw new OptionError(`ready: unknown backend '${backend}'; available: ${[...factories.keys()].join(', ') || '(none registered)'}`);
  }
  // Custom bytes are not cached by identity (they cannot be keyed cheaply): each call loads them.
  const key = rest.wasmBytes !== undefined ? null
    : `${backend}:${rest.variant ?? 'auto'}:${rest.wasmPath === undefined ? '' : String(rest.wasmPath)}:${rest.threads ?? ''}`;
  let p = key === null ? undefined : loaded.get(key);
  if (!p) {
    p = (async () => {
      try {
        return await factory(rest);
      } catch (e) {
        if (e instanceof BackendError || e instanceof OptionError) throw e;
        throw new BackendError(`ready: could not load the '${backend}' backend: ${(e as Error)?.message ?? String(e)}`);
      }
    })();
    if (key !== null) {
      loaded.set(key, p);
      // A failed load may be retried (e.g. after fixing the wasm path).
      p.catch(() => loaded.delete(key));
    }
  }
  defaultBackend = await p;
  return defaultBackend;
}

/** The default backend, or a BackendError saying to call ready() first. */
export function getDefaultBackend(where: string): Backend {
  if (!defaultBackend) {
    throw new BackendError(
      `${where}: no backend is loaded; call \`await gg.ready()\` first (it loads the WebAssembly kernel), ` +
        `or pass one: gg.sequential({ backend })`,
    );
  }
  return defaultBackend;
}

/** The current default backend, or null before ready(). */
export function currentBackend(): Backend | null { return defaultBackend; }

/**
 * Releases what ready() loaded: ends the worker threads of threaded backends (their `dispose()`),
 * forgets the loaded backends and the default. Models made before must not be used afterwards.
 * Not needed for a Node process to exit (idle workers do not keep it alive).
 */
export async function shutdown(): Promise<void> {
  const all = await Promise.allSettled([...loaded.values()]);
  loaded.clear();
  const seen = new Set<Backend>();
  if (defaultBackend) seen.add(defaultBackend);
  for (const r of all) if (r.status === 'fulfilled') seen.add(r.value);
  defaultBackend = null;
  await Promise.all([...seen].map(async (b) => {
    const d = (b as { dispose?: () => unknown }).dispose;
    if (typeof d === 'function') await d.call(b);
  }));
}

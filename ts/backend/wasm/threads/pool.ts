// Host side of the kernel's thread pool (`simd-threads` build). Instantiates the module on a
// shared memory and, when the kernel's rayon spawn handler asks for a thread
// (import gg.gg_spawn_worker), starts a worker running ./worker.ts.
//
// Where blocking is allowed: the thread that calls into the pool waits on memory.atomic.wait.
// Node's main thread may; a browser's main thread may not, so in browsers the threaded build
// is used only inside a Web Worker and only when `crossOriginIsolated` (SharedArrayBuffer).
import {
  THREADS_INITIAL_PAGES, THREADS_MAXIMUM_PAGES, WORKER_STACK_BYTES, type WorkerStart,
} from './constants.js';

interface PoolExports {
  gg_alloc(bytes: number): number;
  gg_pool_init(threads: number): number;
  __tls_size: WebAssembly.Global;
  __tls_align: WebAssembly.Global;
}

/** A started worker: terminate() ends it. */
interface HostWorker { terminate(): unknown }

export interface ThreadedInstance {
  instance: WebAssembly.Instance;
  memory: WebAssembly.Memory;
  threads: number;
  /** Ends every worker; the instance must not be used afterwards. */
  shutdown(): Promise<void>;
}

/** Default worker count: the machine's parallelism (Node os.availableParallelism, browsers
 *  navigator.hardwareConcurrency), at least 1. */
export async function defaultThreadCount(): Promise<number> {
  if (typeof process !== 'undefined' && process.versions?.node) {
    const os = await import('node:os');
    return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  }
  return Math.max(1, (globalThis as { navigator?: { hardwareConcurrency?: number } })
    .navigator?.hardwareConcurrency ?? 1);
}

/** Why threads cannot run here, or null when they can. */
export function threadsUnavailableReason(): string | null {
  if (typeof SharedArrayBuffer === 'undefined') {
    return 'SharedArrayBuffer is not available (in browsers the page must be cross-origin isolated: COOP/COEP headers)';
  }
  const g = globalThis as { crossOriginIsolated?: boolean; window?: unknown; process?: unknown };
  if (g.window !== undefined && g.crossOriginIsolated === false) {
    return 'the page is not cross-origin isolated (crossOriginIsolated is false; serve it with COOP/COEP headers)';
  }
  if (g.window !== undefined) {
    return "a browser's main thread may not block; train inside a Web Worker to use threads";
  }
  return null;
}

/**
 * The Node worker's program, run with `new Worker(source, { eval: true })`: the same steps as
 * ./worker.ts (the browser entry, built to dist/wasm-worker.js). Inline, so that Node finds it
 * from dist/index.js, dist/index.cjs, a bundle or the ts sources alike, with no file lookup.
 * A dynamic import, not require: an eval worker inherits the parent's execArgv, and under
 * `node --input-type=module` its source is an ES module, where require does not exist.
 * No Rust code may run before the stack pointer and TLS lines: until then this instance's
 * stack pointer is the main thread's.
 */
export const NODE_WORKER_SOURCE = `
import('node:worker_threads').then(({ parentPort, workerData: s }) => {
  const e = new WebAssembly.Instance(s.module, {
    env: { memory: s.memory }, gg: { gg_spawn_worker: () => 0 },
  }).exports;
  e.__stack_pointer.value = s.stackTop;
  e.__wasm_init_tls(s.tls);
  parentPort.postMessage('started');
  e.gg_worker_run(s.builder);
});
`;

/**
 * Instantiates `module` (the simd-threads build) on a new shared memory and starts a pool of
 * `threads` threads: this one, which calls the kernel and works in every parallel pass, and
 * `threads − 1` kernel workers (docs/abi.md, Threads). `workerUrl` is the browser worker script (dist/wasm-worker.js);
 * Node ignores it and runs NODE_WORKER_SOURCE.
 */
export async function instantiateThreaded(
  module: WebAssembly.Module, threads: number, workerUrl?: URL,
): Promise<ThreadedInstance> {
  const memory = new WebAssembly.Memory({
    initial: THREADS_INITIAL_PAGES, maximum: THREADS_MAXIMUM_PAGES, shared: true,
  });
  const isNode = typeof process !== 'undefined' && !!process.versions?.node;
  const NodeWorker = isNode ? (await import('node:worker_threads')).Worker : undefined;
  const workers: HostWorker[] = [];
  const started: Promise<void>[] = [];
  let exports: PoolExports | undefined;

  const spawn = (builder: number): number => {
    const e = exports!;
    const stack = e.gg_alloc(WORKER_STACK_BYTES);
    const align = Math.max(16, e.__tls_align.value as number);
    const tls = e.gg_alloc(((e.__tls_size.value as number) + align - 1) & ~(align - 1));
    if (stack === 0 || tls === 0) return 0;
    const start: WorkerStart = { module, memory, builder, stackTop: stack + WORKER_STACK_BYTES, tls };
    if (NodeWorker) {
      const w = new NodeWorker(NODE_WORKER_SOURCE, { eval: true, workerData: start });
      // Idle workers must not keep a Node process alive: it exits by itself when done.
      w.unref();
      workers.push(w);
      started.push(new Promise((resolve, reject) => {
        w.once('message', () => resolve());
        w.once('error', reject);
      }));
    } else {
      if (workerUrl === undefined) return 0;
      const w = new Worker(workerUrl, { type: 'module' });
      workers.push(w);
      started.push(new Promise((resolve, reject) => {
        w.onmessage = () => resolve();
        w.onerror = (ev) => reject(new Error(ev.message));
      }));
      w.postMessage(start);
    }
    return 1;
  };

  const instance = await WebAssembly.instantiate(module, {
    env: { memory }, gg: { gg_spawn_worker: spawn },
  });
  exports = instance.exports as unknown as PoolExports;
  if (exports.gg_pool_init(threads) !== 1) {
    await Promise.all(workers.map((w) => w.terminate()));
    throw new Error(`the kernel could not start a pool of ${threads} threads`);
  }
  await Promise.all(started);
  return {
    instance, memory, threads,
    async shutdown() { await Promise.all(workers.map((w) => w.terminate())); },
  };
}

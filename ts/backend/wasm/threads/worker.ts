// Entry of a kernel worker thread (Node worker_threads or a browser Web Worker); built by tsup
// to dist/wasm-worker.js. It instantiates the same module on the same shared memory, gives
// itself a stack and a TLS block, tells the host it is running, and then runs the rayon
// worker loop (gg_worker_run) for the life of the pool, blocking on memory.atomic.wait
// between jobs.
import type { WorkerStart } from './constants.js';

function run(start: WorkerStart, started: () => void): void {
  const instance = new WebAssembly.Instance(start.module, {
    env: { memory: start.memory },
    // Workers never spawn threads: only the main thread builds the pool.
    gg: { gg_spawn_worker: () => 0 },
  });
  const e = instance.exports as unknown as {
    __stack_pointer: WebAssembly.Global;
    __wasm_init_tls(ptr: number): void;
    gg_worker_run(builder: number): void;
  };
  // No Rust code may run before these two lines: until then this instance's stack pointer is
  // the main thread's.
  e.__stack_pointer.value = start.stackTop;
  e.__wasm_init_tls(start.tls);
  started();
  e.gg_worker_run(start.builder);
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node;
if (isNode) {
  const { parentPort, workerData } = await import('node:worker_threads');
  run(workerData as WorkerStart, () => parentPort!.postMessage('started'));
} else {
  const scope = globalThis as unknown as {
    onmessage: ((ev: MessageEvent<WorkerStart>) => void) | null;
    postMessage(m: unknown): void;
  };
  scope.onmessage = (ev) => {
    scope.onmessage = null;
    run(ev.data, () => scope.postMessage('started'));
  };
}

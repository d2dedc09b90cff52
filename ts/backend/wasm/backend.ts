// The wasm kernel behind the Backend interface (ts/backend/types.ts).
//
// A WasmModel owns, in the kernel's memory: the model handle (parameters, gradients, optimizer
// state, workspace: all the kernel's), and four buffers of its own: x (batch, in0) f32, y (batch)
// i32 or (batch, outL) f32, out (batch, outL) f32 for predict, and a small scratch block (spec,
// layout, optimizer config, evaluate's two words). The buffers grow when a call needs more and
// are otherwise reused, so a training loop at a fixed batch size allocates nothing per step.
// Data crosses the boundary as one Float32Array.set per operand per call (per row for
// trainStepGather, fit's batches), never per element.
import { BackendError, DisposedError } from '../../errors.js';
import {
  ACTIVATIONS, CONSTRAINTS, GLOBAL_STATS_WORDS, INITIALIZERS, LAYER_STATS_FIELDS, LAYER_STATS_WORDS, LOSSES,
  OPTIMIZERS,
} from '../types.js';
import type {
  Backend, BackendModel, ConstraintSpec, InitializerName, LayerLayout, LayerStats, ModelSpec, OptimizerConfig,
  OptimizerStateSnapshot, StepStats, Targets,
} from '../types.js';
import type { Kernel } from './abi.js';
import type { WasmVariant } from './locate.js';

/** docs/abi.md: words 0..3 of the spec, then 16 words per layer (spec version 2). */
const SPEC_HEADER_WORDS = 4;
const SPEC_LAYER_WORDS = 16;
/** docs/abi.md: the optimizer config has 12 f32 words. */
const OPT_CFG_WORDS = 12;

/** Encodes a ModelSpec as docs/abi.md's u32 words, spec version 2 (f32 words as their bits). */
export function encodeSpec(spec: ModelSpec): Uint32Array {
  const words = new Uint32Array(SPEC_HEADER_WORDS + SPEC_LAYER_WORDS * spec.layers.length);
  const asF32 = new Float32Array(words.buffer);
  words[0] = 2;
  words[1] = spec.layers.length;
  words[2] = LOSSES.indexOf(spec.loss);
  words[3] = spec.fromLogits ? 1 : 0;
  // A constraint's kind and parameters p0..p2 (docs/abi.md, "Constraint kinds").
  const constraint = (o: number, c: ConstraintSpec | null | undefined) => {
    if (!c || c.kind === 'none') return;
    words[o] = CONSTRAINTS.indexOf(c.kind);
    const p = c.kind === 'max_norm' ? [c.maxValue, 0, 0] : c.kind === 'min_max_norm' ? [c.minValue, c.maxValue, c.rate]
      : c.kind === 'min_max_value' ? [c.minValue, c.maxValue, 0] : [0, 0, 0];
    asF32.set(p, o + 1);
  };
  spec.layers.forEach((l, i) => {
    const o = SPEC_HEADER_WORDS + SPEC_LAYER_WORDS * i;
    words[o + 1] = l.inputSize;
    words[o + 2] = l.units;
    words[o + 3] = ACTIVATIONS.indexOf(l.activation);
    asF32[o + 4] = l.activationParam;
    if (l.kind === 'batchnorm') {
      words[o] = 1;
      words[o + 5] = (l.center ? 1 : 0) | (l.scale ? 2 : 0);
      asF32[o + 6] = l.momentum;
      asF32[o + 7] = l.epsilon;
    } else {
      words[o] = 0;
      words[o + 5] = l.useBias ? 1 : 0;
      constraint(o + 8, l.kernelConstraint);
      constraint(o + 12, l.biasConstraint);
    }
  });
  return words;
}

/** Kernels of disposed simd-threads backends: their pool has no workers any more. */
const shutDownKernels = new WeakSet<Kernel>();

/** A growable buffer in wasm memory: (ptr, capacity in bytes). */
class WasmBuffer {
  ptr = 0;
  bytes = 0;
  constructor(private readonly kernel: Kernel) {}
  /** Ensures at least `bytes` bytes; returns the (possibly new) pointer. Contents are not kept. */
  ensure(bytes: number): number {
    if (bytes > this.bytes) {
      this.kernel.free(this.ptr, this.bytes);
      this.ptr = 0; this.bytes = 0; // stay consistent if alloc throws
      this.ptr = this.kernel.alloc(bytes);
      this.bytes = bytes;
    }
    return this.ptr;
  }
  release(): void {
    this.kernel.free(this.ptr, this.bytes);
    this.ptr = 0; this.bytes = 0;
  }
}

export class WasmModel implements BackendModel {
  readonly spec: ModelSpec;
  readonly paramCount: number;
  readonly trainableCount: number;
  readonly layout: readonly LayerLayout[];
  /** The kernel's model handle (a pointer); 0 after dispose. */
  handle: number;
  private readonly inputSize: number;
  private readonly outputSize: number;
  private readonly sparse: boolean;
  /**
   * Two x buffers, used in turn by every call that stages x: the kernel may leave the last
   * training step's update running on its workers (docs/abi.md, "Deferred update"), and that
   * update reads the step's x, so the next batch must go to the other buffer. (Every export
   * completes the deferred pass first, so the buffer is free again one call later.)
   */
  private readonly xs: [WasmBuffer, WasmBuffer];
  private xTurn = 0;
  private readonly y: WasmBuffer;
  private readonly out: WasmBuffer;
  private readonly scratch: WasmBuffer;
  private collectStats = false;
  private statsValid = false;

  constructor(private readonly kernel: Kernel, spec: ModelSpec) {
    kernel.requireModelExports();
    if (spec.layers.length === 0) throw new BackendError('gradguard: a model needs at least one layer (got 0).');
    this.spec = spec;
    this.inputSize = spec.layers[0].inputSize;
    this.outputSize = spec.layers[spec.layers.length - 1].units;
    this.sparse = spec.loss === 'sparse_categorical_crossentropy';
    this.xs = [new WasmBuffer(kernel), new WasmBuffer(kernel)];
    this.y = new WasmBuffer(kernel);
    this.out = new WasmBuffer(kernel);
    this.scratch = new WasmBuffer(kernel);

    const words = encodeSpec(spec);
    // The scratch block holds, at different times: the spec, the layout (4 words per layer),
    // the optimizer config (12 words) and evaluate's output (2 words).
    const scratchWords = Math.max(words.length, 6 * spec.layers.length, OPT_CFG_WORDS, 2);
    const s = this.scratch.ensure(4 * scratchWords);
    kernel.u32.set(words, s >>> 2);
    const h = kernel.exports.gg_model_new(s, words.length) >>> 0;
    if (h === 0) {
      this.scratch.release();
      throw new BackendError(`gradguard: the wasm kernel rejected the model spec (${describeSpec(spec)}); `
        + 'check that each layer\'s input size equals the previous layer\'s units, or the model is too large for wasm memory.');
    }
    this.handle = h;
    this.paramCount = kernel.exports.gg_model_param_count(h) >>> 0;
    this.trainableCount = kernel.exports.gg_model_trainable_count(h) >>> 0;
    const L = spec.layers.length;
    kernel.exports.gg_model_layout(h, this.scratch.ptr);
    kernel.exports.gg_model_moving_layout(h, this.scratch.ptr + 16 * L);
    const u = kernel.u32;
    const base = this.scratch.ptr >>> 2;
    this.layout = spec.layers.map((_, i) => ({
      wOffset: u[base + 4 * i], wLength: u[base + 4 * i + 1],
      bOffset: u[base + 4 * i + 2], bLength: u[base + 4 * i + 3],
      movingOffset: u[base + 4 * L + 2 * i], movingLength: u[base + 4 * L + 2 * i + 1],
    }));
  }

  private live(): number {
    if (this.handle === 0) throw new DisposedError('gradguard: this wasm model was used after dispose(); create a new one.');
    // A threaded kernel whose workers were ended would wait for them forever.
    if (shutDownKernels.has(this.kernel)) {
      throw new DisposedError('gradguard: this model\'s simd-threads backend was disposed (its worker threads are ended); load a new backend.');
    }
    return this.handle;
  }

  /** Byte pointer of the flat parameter region (re-read: cheap, and robust to a moving region). */
  private paramsPtr(): number { return this.kernel.exports.gg_model_params(this.live()) >>> 0; }

  getParams(): Float32Array {
    const p = this.paramsPtr() >>> 2;
    return this.kernel.f32.slice(p, p + this.paramCount);
  }

  setParams(params: Float32Array): void {
    if (params.length !== this.paramCount) {
      throw new BackendError(`gradguard: setParams expected ${this.paramCount} values, got ${params.length}.`);
    }
    this.kernel.f32.set(params, this.paramsPtr() >>> 2);
  }

  getGrads(): Float32Array {
    const p = (this.kernel.exports.gg_model_grads(this.live()) >>> 0) >>> 2;
    return this.kernel.f32.slice(p, p + this.paramCount);
  }

  initTensor(offset: number, length: number, kind: InitializerName, fanIn: number, fanOut: number,
    value: number, seed: number): void {
    if (offset < 0 || length < 0 || offset + length > this.paramCount) {
      throw new BackendError(`gradguard: initTensor range [${offset}, ${offset + length}) is outside the ${this.paramCount} parameters.`);
    }
    this.kernel.exports.gg_init_fill(this.paramsPtr() + 4 * offset, length, INITIALIZERS.indexOf(kind),
      fanIn, fanOut, value, seed >>> 0);
  }

  setOptimizer(c: OptimizerConfig): void {
    const h = this.live();
    const cfg = [c.learningRate, c.beta1, c.beta2, c.epsilon, c.momentum, c.nesterov ? 1 : 0,
      c.weightDecay, c.rho, c.initialAccumulatorValue, c.clipValue, c.clipNorm, c.globalClipNorm];
    this.kernel.f32.set(cfg, this.scratch.ptr >>> 2);
    const status = this.kernel.exports.gg_model_set_optimizer(h, OPTIMIZERS.indexOf(c.kind), this.scratch.ptr, OPT_CFG_WORDS);
    if (status < 0) {
      throw new BackendError(`gradguard: the wasm kernel rejected the optimizer config (status ${status}): ${JSON.stringify(c)}.`);
    }
  }

  setLearningRate(lr: number): void {
    this.kernel.exports.gg_model_set_lr(this.live(), lr);
  }

  getOptimizerState(): OptimizerStateSnapshot {
    const h = this.live();
    const ex = this.kernel.exports;
    const p = (ex.gg_model_opt_state(h) >>> 0) >>> 2;
    const n = ex.gg_model_opt_state_len(h) >>> 0;
    return { step: ex.gg_model_opt_step(h) >>> 0, slots: this.kernel.f32.slice(p, p + n) };
  }

  setOptimizerState(state: OptimizerStateSnapshot): void {
    const h = this.live();
    const ex = this.kernel.exports;
    const n = ex.gg_model_opt_state_len(h) >>> 0;
    if (!(state.slots instanceof Float32Array) || state.slots.length !== n) {
      throw new BackendError(`gradguard: setOptimizerState expected ${n} slot values, got ${state.slots?.length}.`);
    }
    if (!Number.isInteger(state.step) || state.step < 0 || state.step > 0xffffffff) {
      throw new BackendError(`gradguard: setOptimizerState expected a step counter in [0, 2^32), got ${state.step}.`);
    }
    this.kernel.f32.set(state.slots, (ex.gg_model_opt_state(h) >>> 0) >>> 2);
    ex.gg_model_set_opt_step(h, state.step);
  }

  /** Byte pointers of the x buffer (batch, in0) and, with `withY`, the y buffer, grown to
   *  hold `batch` rows (y pointer 0 without). Take memory views after this: an alloc may have
   *  grown memory. */
  private reserve(batch: number, withY: boolean): [number, number] {
    this.xTurn ^= 1;
    const xp = this.xs[this.xTurn].ensure(4 * Math.max(batch * this.inputSize, 1));
    const yp = withY ? this.y.ensure(4 * Math.max(this.sparse ? batch : batch * this.outputSize, 1)) : 0;
    return [xp, yp];
  }

  /** Copies x (batch, in0) and y into the model's buffers; returns their pointers. */
  private stage(x: Float32Array, y: Targets | null, batch: number): [number, number] {
    const nx = batch * this.inputSize;
    const [xp, yp] = this.reserve(batch, y !== null);
    this.kernel.f32.set(x.length === nx ? x : x.subarray(0, nx), xp >>> 2);
    if (y !== null) {
      if (this.sparse) {
        const i32 = this.kernel.i32;
        if (y instanceof Int32Array) {
          i32.set(y.length === batch ? y : y.subarray(0, batch), yp >>> 2);
        } else {
          // Integer labels given as floats (validated as integers by the model layer).
          for (let i = 0; i < batch; i++) i32[(yp >>> 2) + i] = y[i];
        }
      } else {
        const ny = batch * this.outputSize;
        this.kernel.f32.set(y.length === ny ? y : y.subarray(0, ny), yp >>> 2);
      }
    }
    return [xp, yp];
  }

  trainStep(x: Float32Array, y: Targets, batch: number): number {
    const h = this.live();
    const [xp, yp] = this.stage(x, y, batch);
    const loss = this.kernel.exports.gg_train_step(h, xp, yp, batch);
    if (this.collectStats) this.statsValid = true;
    return loss;
  }

  /**
   * trainStep on rows `rows[0..batch)` of (x, y) (x is (n, in0), y the targets of all n rows),
   * gathered straight into the kernel's batch buffers: no intermediate batch in JavaScript, so
   * each step moves the batch once instead of twice (and keeps the other copy out of the cache).
   */
  trainStepGather(x: Float32Array, y: Targets, rows: Int32Array, batch: number): number {
    const h = this.live();
    const nIn = this.inputSize, nOut = this.outputSize;
    const [xp, yp] = this.reserve(batch, true);
    const f32 = this.kernel.f32, i32 = this.kernel.i32, u8 = this.kernel.u8;
    const yo = yp >>> 2;
    // Rows copied as bytes: V8 copies a Uint8Array.set with one memmove where a Float32Array.set
    // goes element-typed (and into shared memory, relaxed-atomic): 128 random MNIST rows took
    // 120 µs instead of 138 µs into the threaded build's shared memory, 94 instead of 115 µs
    // into unshared memory (rows cold in RAM, as in fit()).
    const xb = new Uint8Array(x.buffer, x.byteOffset, x.byteLength), rowBytes = 4 * nIn;
    for (let i = 0; i < batch; i++) {
      const o = rows[i] * rowBytes;
      u8.set(xb.subarray(o, o + rowBytes), xp + i * rowBytes);
    }
    if (this.sparse) {
      for (let i = 0; i < batch; i++) i32[yo + i] = y[rows[i]]; // float labels: integers (validated)
    } else {
      for (let i = 0; i < batch; i++) f32.set((y as Float32Array).subarray(rows[i] * nOut, rows[i] * nOut + nOut), yo + i * nOut);
    }
    const loss = this.kernel.exports.gg_train_step(h, xp, yp, batch);
    if (this.collectStats) this.statsValid = true;
    return loss;
  }

  badInput(): number {
    return (this.kernel.exports.gg_model_bad_input(this.live()) >>> 0) - 1;
  }

  forwardBackward(x: Float32Array, y: Targets, batch: number): number {
    const h = this.live();
    const [xp, yp] = this.stage(x, y, batch);
    return this.kernel.exports.gg_forward_backward(h, xp, yp, batch);
  }

  lastCorrect(): number {
    return this.kernel.exports.gg_last_correct(this.live()) >>> 0;
  }

  predict(x: Float32Array, batch: number): Float32Array {
    const h = this.live();
    const n = batch * this.outputSize;
    const op = this.out.ensure(4 * Math.max(n, 1));
    const [xp] = this.stage(x, null, batch);
    this.kernel.exports.gg_predict(h, xp, batch, op);
    return this.kernel.f32.slice(op >>> 2, (op >>> 2) + n);
  }

  evaluate(x: Float32Array, y: Targets, batch: number): { lossSum: number; correct: number } {
    const h = this.live();
    const [xp, yp] = this.stage(x, y, batch);
    const sp = this.scratch.ptr;
    this.kernel.exports.gg_evaluate(h, xp, yp, batch, sp);
    const f = this.kernel.f32;
    return { lossSum: f[sp >>> 2], correct: f[(sp >>> 2) + 1] };
  }

  setCollectStats(on: boolean): void {
    this.kernel.exports.gg_model_set_stats(this.live(), on ? 1 : 0);
    this.collectStats = on;
  }

  getStats(): StepStats | null {
    const h = this.live();
    if (!this.statsValid) return null;
    const L = this.spec.layers.length;
    const base = (this.kernel.exports.gg_model_stats(h) >>> 0) >>> 2;
    const f = this.kernel.f32;
    const layers: LayerStats[] = [];
    for (let l = 0; l < L; l++) {
      const o = base + LAYER_STATS_WORDS * l;
      const s = {} as LayerStats;
      LAYER_STATS_FIELDS.forEach((name, i) => { s[name] = f[o + i]; });
      layers.push(s);
    }
    const g = base + LAYER_STATS_WORDS * L;
    return {
      layers,
      globalGradNorm: f[g], loss: f[g + 1], nonFiniteLoss: f[g + 2] !== 0, clipped: f[g + 3] !== 0,
      updateNorm: f[g + 4], paramNorm: f[g + 5],
    };
  }

  /** Frees the model and its buffers; calling it again does nothing. */
  dispose(): void {
    if (this.handle === 0) return;
    // Reverse order of allocation (scratch, model, then x/y/out as calls needed them), so the
    // allocator's free lists end as they began and the next model gets the same addresses.
    this.xs[0].release();
    this.out.release();
    this.y.release();
    this.xs[1].release();
    this.kernel.exports.gg_model_free(this.handle);
    this.handle = 0;
    this.scratch.release();
  }

  /** Byte pointers of the model's own buffers (for tests: the leak test compares them). */
  get bufferPointers(): { x: number; x2: number; y: number; out: number; scratch: number } {
    return { x: this.xs[0].ptr, x2: this.xs[1].ptr, y: this.y.ptr, out: this.out.ptr, scratch: this.scratch.ptr };
  }
}

function describeSpec(spec: ModelSpec): string {
  const layers = spec.layers.map((l) => `${l.kind} ${l.inputSize}→${l.units} ${l.activation}`).join(', ');
  return `${layers}; loss ${spec.loss}${spec.fromLogits ? ' from logits' : ''}`;
}

/** The Backend interface over one kernel instance (one wasm memory). */
export class WasmBackend implements Backend {
  /** 'wasm-simd', 'wasm-scalar', 'wasm-simd-threads' or 'wasm-relaxed-simd'. */
  readonly name: string;
  constructor(
    readonly kernel: Kernel,
    readonly variant: WasmVariant,
    /** Where the module came from: a file path, a URL or '(wasmBytes)'. */
    readonly source: string,
    /** simd-threads only: ends the kernel's worker threads (see dispose). */
    private readonly shutdownPool?: () => Promise<void>,
  ) {
    this.name = `wasm-${variant}`;
  }

  /** Threads the kernel computes on: the pool size in the simd-threads build, else 1. */
  get threads(): number {
    const f = (this.kernel.exports as { gg_threads?: () => number }).gg_threads;
    return typeof f === 'function' ? f() : 1;
  }

  /**
   * What the kernel's thread pool has done since it started (simd-threads; all 0 in the other
   * builds): parallel passes, the chunks of work the calling thread and the workers ran, and
   * the passes no worker took part in (asleep, descheduled by the OS, or late), which ran at one
   * thread's speed. A diagnostic for thread-scaling figures (bench/threads.mjs reports it).
   */
  get poolActivity(): { passes: number; callerChunks: number; workerChunks: number; passesWithoutWorker: number } {
    const f = (this.kernel.exports as { gg_pool_activity?: (i: number) => number }).gg_pool_activity;
    const c = (i: number): number => (typeof f === 'function' ? f(i) : 0);
    return { passes: c(0), callerChunks: c(1), workerChunks: c(2), passesWithoutWorker: c(3) };
  }

  private disposed = false;
  /**
   * Ends the kernel's worker threads (simd-threads build); a no-op for the single-threaded
   * builds. Models of a disposed threaded backend must not be used afterwards. Idle workers do
   * not keep a Node process alive, so calling this is not needed for the process to exit.
   */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    if (this.shutdownPool) {
      // A training step's update may still be running on the workers (the kernel defers it):
      // finish it while they are alive, so that freeing a model later never waits on them.
      (this.kernel.exports as { gg_pool_join?: () => void }).gg_pool_join?.();
      shutDownKernels.add(this.kernel);
    }
    await this.shutdownPool?.();
  }

  createModel(spec: ModelSpec): WasmModel {
    return new WasmModel(this.kernel, spec);
  }

  /** Current size of the kernel's memory in bytes (it grows, never shrinks). */
  get memoryBytes(): number { return this.kernel.memoryBytes; }
}

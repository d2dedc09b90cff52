// `gradguard train mnist`: the seed example of the project, as a command.
// Dense 784→128 relu → Dense 128→128 relu → Dense 128→10 softmax, Adam 1e-3, sparse categorical
// cross-entropy, batch 32, 5 epochs (Keras's MNIST example), every number overridable.
// The gradient-health monitor runs by default (policy 'warn', statistics every 16 steps) and its
// verdict is printed at the end; --report writes the HTML health report.
// With --health repair a run may restart from a fresh initialization (ts/health/fit.ts): the
// abandoned runs' epoch lines stay printed, a line marks each restart, and the timings are
// split: per-epoch times describe the final run only, the abandoned runs' time is given apart.
import { Argument, Command, Option } from 'commander';
import * as gg from '../index.js';
import { OPTIMIZERS, type OptimizerName } from '../backend/types.js';
import { EpochProgress, formatEpoch } from './progress.js';
import { integerIn, positiveNumber } from './options.js';
import { formatDiagnosis, writeHealthReport, type HealthPolicy } from '../health/index.js';

export const MNIST_TRAIN_SIZE = 60_000;

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  optimizer: OptimizerName;
  seed: number;
  backend: 'wasm' | 'reference';
  variant: 'auto' | 'simd' | 'scalar';
  limit?: number;
  quiet: boolean;
  /** Gradient-health policy, or 'off'. */
  health: HealthPolicy | 'off';
  healthEvery: number;
  /** Path of an HTML health report to write. */
  report?: string;
}

/** What a run printed and measured (returned for tests and for callers embedding the CLI). */
export interface TrainResult {
  backend: string;
  testAccuracy: number;
  testLoss: number;
  /** Wall-clock seconds of each epoch of the final run (an abandoned run's epochs are not here). */
  epochSeconds: number[];
  /** The whole of fit, abandoned runs included. */
  trainSeconds: number;
  /** The runs `--health repair` abandoned at a restart, and the seconds spent in them (from each
   * run's start to its restart, a part-epoch included); { runs: 0, seconds: 0 } without restarts. */
  abandoned: { runs: number; seconds: number };
  totalSeconds: number;
  /** Diagnosis kinds the health monitor raised (empty when healthy or when health is off). */
  diagnoses: string[];
}

/** Lines go to `out`; the bar (a TTY-only display) to stderr. */
export interface Output { log(line: string): void }

export async function runTrainMnist(o: TrainOptions, out: Output = { log: (l) => console.log(l) }): Promise<TrainResult> {
  const t0 = performance.now();
  const backend = await gg.ready(o.backend === 'wasm' && o.variant !== 'auto'
    ? { backend: 'wasm', variant: o.variant } : { backend: o.backend });
  const { train, test } = await gg.data.loadMnist(o.limit === undefined ? {} : { trainSize: o.limit });

  const model = gg.sequential({
    seed: o.seed,
    layers: [
      gg.layers.dense({ inputShape: [784], units: 128, activation: 'relu' }),
      gg.layers.dense({ units: 128, activation: 'relu' }),
      gg.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
  model.compile({
    optimizer: gg.optimizers[o.optimizer]({ learningRate: o.learningRate }),
    loss: 'sparseCategoricalCrossentropy',
    metrics: ['accuracy'],
  });
  try {
    if (!o.quiet) {
      out.log(`gradguard: MNIST, ${train.count} training / ${test.count} test samples, backend ${backend.name}`);
      out.log(`model: dense 784→128 relu, 128→128 relu, 128→10 softmax (${model.countParams().toLocaleString('en-US')} parameters)`);
      out.log(`training: ${o.optimizer} (learning rate ${o.learningRate}), batch ${o.batchSize}, ${o.epochs} epoch${o.epochs === 1 ? '' : 's'}, seed ${o.seed}`);
    }
    const progress = new EpochProgress(!o.quiet && process.stderr.isTTY === true, o.epochs, train.count);
    const epochSeconds: number[] = [];
    const abandoned = { runs: 0, seconds: 0 };
    let seen = 0;
    const tTrain = performance.now();
    let runStart = tTrain;
    const history = await model.fit({ data: train.x, shape: train.shape }, train.y, {
      epochs: o.epochs,
      batchSize: o.batchSize,
      shuffle: true,
      // 'observe' for warn, and print: false for repair: the CLI prints the verdict and the
      // repair actions itself, after the epoch lines, instead of warnings interleaved with the
      // progress bar.
      ...(o.health === 'off' ? {} : { health: { policy: o.health === 'warn' ? 'observe' : o.health, every: o.healthEvery, print: false } }),
      callbacks: {
        onTrainBegin: () => { runStart = performance.now(); },
        // A repair restart: the run so far (its epochs, and the part of an epoch where the
        // restart was asked mid-epoch) is abandoned; the timings start again with the new run.
        onRestart: (n) => {
          progress.finish(); // a restart mid-epoch leaves the bar running
          const t = performance.now();
          const secs = (t - runStart) / 1000;
          runStart = t;
          abandoned.runs++; abandoned.seconds += secs;
          if (!o.quiet) out.log(`restart ${n}: the run above is abandoned after ${epochSeconds.length} complete epoch${epochSeconds.length === 1 ? '' : 's'} (${secs.toFixed(2)} s); training again from epoch 1`);
          epochSeconds.length = 0;
        },
        onEpochBegin: (epoch) => { seen = 0; progress.start(epoch); },
        onBatchEnd: (_b, logs) => { seen += logs.size; progress.update(seen, logs.loss, logs.accuracy); },
        onEpochEnd: (epoch, logs) => {
          const seconds = progress.finish();
          epochSeconds.push(seconds);
          if (!o.quiet) {
            out.log(formatEpoch({ epoch: epoch + 1, epochs: o.epochs, loss: logs.loss, accuracy: logs.accuracy, seconds, samples: seen }));
          }
        },
      },
    });
    const trainSeconds = (performance.now() - tTrain) / 1000;
    const r = model.evaluate({ data: test.x, shape: test.shape }, test.y);
    const totalSeconds = (performance.now() - t0) / 1000;
    const mean = epochSeconds.reduce((a, b) => a + b, 0) / epochSeconds.length;
    out.log(`test accuracy: ${(100 * r.accuracy!).toFixed(2)}% (loss ${r.loss.toFixed(4)}, ${test.count} samples)`);
    const perEpoch = epochSeconds.length
      ? `${mean.toFixed(2)} s per epoch: ${epochSeconds.map((s) => s.toFixed(2)).join(', ')}`
      : 'no epoch completed';
    const lost = abandoned.runs
      ? `; ${abandoned.seconds.toFixed(2)} s in ${abandoned.runs} abandoned run${abandoned.runs === 1 ? '' : 's'} before restart`
      : '';
    out.log(`time: ${trainSeconds.toFixed(2)} s training (${perEpoch}${lost}), ${totalSeconds.toFixed(2)} s total`);
    const health = history.health;
    if (health) {
      if (health.diagnoses.length === 0) {
        if (!o.quiet) out.log(`health: no problems found (${health.samples.length} samples of per-layer gradient statistics, every ${health.every} steps)`);
      } else {
        out.log(`health: ${health.diagnoses.length} problem${health.diagnoses.length === 1 ? '' : 's'} found:`);
        for (const d of health.diagnoses) out.log(formatDiagnosis(d));
      }
      for (const a of health.actions) out.log(`health: ${a.kind} at step ${a.step}: ${a.note}`);
      if (o.report) {
        await writeHealthReport(o.report, health, { history, title: 'gradguard train mnist' });
        out.log(`health report written to ${o.report}`);
      }
    }
    return {
      backend: backend.name, testAccuracy: r.accuracy!, testLoss: r.loss, epochSeconds, trainSeconds, abandoned, totalSeconds,
      diagnoses: health ? health.diagnoses.map((d) => d.kind) : [],
    };
  } finally {
    model.dispose();
  }
}

/** Adds `train <dataset>` to the program. */
export function addTrainCommand(program: Command): void {
  program
    .command('train')
    .description('train the seed model (Keras\'s MNIST example) and report test accuracy and time')
    .addArgument(new Argument('<dataset>', 'what to train on').choices(['mnist']))
    .addOption(new Option('--epochs <n>', 'passes over the training set').argParser(integerIn(1, 10_000)).default(5))
    .addOption(new Option('--batch-size <n>', 'samples per optimizer step').argParser(integerIn(1, MNIST_TRAIN_SIZE)).default(32))
    .addOption(new Option('--learning-rate <lr>', 'optimizer learning rate').argParser(positiveNumber).default(1e-3))
    .addOption(new Option('--optimizer <name>', 'optimizer').choices(OPTIMIZERS).default('adam'))
    .addOption(new Option('--seed <n>', 'seed for initialisation and shuffling').argParser(integerIn(0, 0xffff_ffff)).default(gg.DEFAULT_SEED))
    .addOption(new Option('--backend <name>', 'compute backend').choices(['wasm', 'reference']).default('wasm'))
    .addOption(new Option('--variant <v>', 'wasm build: auto picks simd when the engine supports it').choices(['auto', 'simd', 'scalar']).default('auto'))
    .addOption(new Option('--limit <n>', 'train on the first n training samples only (quick runs)').argParser(integerIn(1, MNIST_TRAIN_SIZE)))
    .addOption(new Option('--quiet', 'print only the test accuracy and the time').default(false))
    .addOption(new Option('--health <policy>', 'gradient-health monitor: observe, warn (print problems), repair (also fix them) or off').choices(['observe', 'warn', 'repair', 'off']).default('warn'))
    .addOption(new Option('--health-every <n>', 'collect per-layer gradient statistics every n steps').argParser(integerIn(1, 1_000_000)).default(16))
    .addOption(new Option('--report <file>', 'write an HTML gradient-health report to this file'))
    .action(async (_dataset: string, opts: TrainOptions, cmd: Command) => {
      if (opts.backend === 'reference' && opts.variant !== 'auto') {
        cmd.error(`error: option '--variant ${opts.variant}' applies to --backend wasm only`, { exitCode: 2, code: 'gradguard.usage' });
      }
      if (opts.limit !== undefined && opts.batchSize > opts.limit) {
        cmd.error(`error: option '--batch-size ${opts.batchSize}' is larger than '--limit ${opts.limit}'`, { exitCode: 2, code: 'gradguard.usage' });
      }
      if (opts.report !== undefined && opts.health === 'off') {
        cmd.error("error: option '--report' needs the health monitor (not '--health off')", { exitCode: 2, code: 'gradguard.usage' });
      }
      await runTrainMnist(opts);
    });
}

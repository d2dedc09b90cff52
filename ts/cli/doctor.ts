// `gradguard doctor`: built-in failing scenarios on MNIST, each trained with the health monitor;
// prints what was diagnosed, repairs it, and shows test accuracy before and after.
//
// Scenarios (what each is built to show):
//   healthy     the seed model (relu, relu, softmax; Adam 1e-3): must stay quiet
//   vanishing   a deep sigmoid stack (8 × 64 sigmoid) trained with SGD: vanishing gradients
//   exploding   N(0, 1) initial weights, leaky ReLU, SGD at 0.1: exploding gradients, then NaN
//   dying-relu  ReLU layers whose biases start at −1: dead units from the first step
// Repair: diagnoses training can recover from (non-finite, exploding, diverging, learning rate
// too high) are repaired in training (fit's policy 'repair': rollback, lower LR, clipping);
// the others are repaired as AUTOTRAINER does, by restarting from a fresh initialization with the
// diagnosis's top remedy applied (activation, initializer or learning rate).
import { Command, Option } from 'commander';
import * as gg from '../index.js';
import type { DenseOptions } from '../model/layers.js';
import type { Optimizer } from '../model/optimizers.js';
import type { Diagnosis, DiagnosisKind, Remedy } from '../health/index.js';
import { applyToDenseOptions, firstRestartCause, formatDiagnosis, remedyChange, writeHealthReport } from '../health/index.js';
import { integerIn } from './options.js';

export interface DoctorScenario {
  name: string;
  title: string;
  /** The diagnoses this scenario is built to produce (empty: healthy, must stay quiet). */
  expect: DiagnosisKind[];
  layers: DenseOptions[];
  optimizer: { kind: 'sgd' | 'adam'; learningRate: number };
}

const hidden = (units: number, activation: string, extra: Partial<DenseOptions> = {}): DenseOptions => ({ units, activation, ...extra });

export const SCENARIOS: DoctorScenario[] = [
  {
    name: 'healthy', title: 'the seed model (relu, relu, softmax; Adam 1e-3)', expect: [],
    layers: [hidden(128, 'relu', { inputShape: [784] }), hidden(128, 'relu'), hidden(10, 'softmax')],
    optimizer: { kind: 'adam', learningRate: 1e-3 },
  },
  {
    name: 'vanishing', title: 'a deep sigmoid stack (8 × 64 sigmoid), SGD 0.05', expect: ['vanishing_gradients'],
    layers: [hidden(64, 'sigmoid', { inputShape: [784] }), ...Array.from({ length: 7 }, () => hidden(64, 'sigmoid')), hidden(10, 'softmax')],
    optimizer: { kind: 'sgd', learningRate: 0.05 },
  },
  {
    // Leaky ReLU so the blow-up ends in NaN instead of killing every unit (plain ReLU does that).
    name: 'exploding', title: 'N(0, 1) initial weights, leaky ReLU, SGD 0.1', expect: ['exploding_gradients', 'non_finite'],
    layers: [
      hidden(128, 'leaky_relu', { inputShape: [784], kernelInitializer: gg.initializers.randomNormal({ stddev: 1 }) }),
      hidden(128, 'leaky_relu', { kernelInitializer: gg.initializers.randomNormal({ stddev: 1 }) }),
      hidden(10, 'softmax', { kernelInitializer: gg.initializers.randomNormal({ stddev: 1 }) }),
    ],
    optimizer: { kind: 'sgd', learningRate: 0.1 },
  },
  {
    name: 'dying-relu', title: 'ReLU layers with biases starting at −1, SGD 0.05', expect: ['dying_relu'],
    layers: [
      hidden(128, 'relu', { inputShape: [784], biasInitializer: gg.initializers.constant({ value: -1 }) }),
      hidden(128, 'relu', { biasInitializer: gg.initializers.constant({ value: -1 }) }),
      hidden(10, 'softmax'),
    ],
    optimizer: { kind: 'sgd', learningRate: 0.05 },
  },
];

const REPAIR_IN_TRAINING: ReadonlySet<DiagnosisKind> = new Set<DiagnosisKind>([
  'non_finite', 'exploding_gradients', 'loss_diverging', 'learning_rate_too_high',
]);

export interface DoctorOptions {
  scenarios?: string[];
  epochs: number;
  limit: number;
  testLimit: number;
  every: number;
  seed: number;
  backend: 'wasm' | 'reference';
  report?: string;
}

export interface ScenarioResult {
  name: string;
  expected: DiagnosisKind[];
  diagnosed: DiagnosisKind[];
  /** Whether every expected kind was diagnosed (healthy: whether nothing was). */
  detected: boolean;
  accuracyBefore: number;
  repair: string;
  accuracyAfter?: number;
}

/** Applies a remedy to a scenario's hidden layers / optimizer with the change fit's repair makes
 * when it restarts, companions included (ts/health/remedies.ts, layerEdits: sigmoid → ReLU also
 * moves a Glorot kernel to He; a new initializer comes with zero biases); null if it cannot. */
function applyRemedy(s: DoctorScenario, r: Remedy): { layers: DenseOptions[]; optimizer: DoctorScenario['optimizer']; what: string } | null {
  const change = remedyChange(r);
  if (!change) return null;
  const optimizer = change.learningRate !== undefined ? { ...s.optimizer, learningRate: change.learningRate } : s.optimizer;
  const { layers, what } = applyToDenseOptions(s.layers, change);
  return { layers, optimizer, what: what.length ? what.join('; ') : change.what };
}

export async function runDoctor(o: DoctorOptions, out: { log(line: string): void } = { log: (l) => console.log(l) }): Promise<ScenarioResult[]> {
  await gg.ready({ backend: o.backend });
  const { train, test } = await gg.data.loadMnist({ trainSize: o.limit, testSize: o.testLimit });
  const chosen = o.scenarios?.length ? SCENARIOS.filter((s) => o.scenarios!.includes(s.name)) : SCENARIOS;
  const unknown = (o.scenarios ?? []).filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length) throw new gg.OptionError(`doctor: unknown scenario(s) ${unknown.join(', ')}; available: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  out.log(`gradguard doctor: MNIST, ${train.count} training / ${test.count} test samples, ${o.epochs} epoch(s), statistics every ${o.every} steps`);
  const results: ScenarioResult[] = [];

  const run = async (name: string, layerOpts: DenseOptions[], opt: DoctorScenario['optimizer'], policy: 'observe' | 'repair') => {
    const model = gg.sequential({ seed: o.seed, layers: layerOpts.map((l) => gg.layers.dense(l)) });
    const optimizer: Optimizer = gg.optimizers[opt.kind]({ learningRate: opt.learningRate });
    model.compile({ optimizer, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    try {
      let h: gg.History;
      try {
        h = await model.fit({ data: train.x, shape: train.shape }, train.y, {
          epochs: o.epochs, batchSize: 32, health: { policy, every: o.every, maxRepairs: 5, restarts: false }, // restarts: done below, shown apart
        });
      } catch (e) {
        // Without repair a NaN loss ends fit (weights restored to the epoch's start); its
        // history, with the health record, travels on the error.
        if (!(e instanceof gg.NonFiniteError) || !e.history) throw e;
        h = e.history as gg.History;
      }
      const acc = model.evaluate({ data: test.x, shape: test.shape }, test.y).accuracy!;
      if (o.report) {
        const { join } = await import('node:path');
        const { mkdir } = await import('node:fs/promises');
        await mkdir(o.report, { recursive: true });
        await writeHealthReport(join(o.report, `${name}.html`), h.health!, { history: h, title: `gradguard doctor: ${name}` });
      }
      return { health: h.health!, acc: Number.isFinite(acc) ? acc : 0 };
    } finally {
      model.dispose();
    }
  };

  for (const s of chosen) {
    out.log('');
    out.log(`== ${s.name}: ${s.title}`);
    const before = await run(`${s.name}-before`, s.layers, s.optimizer, 'observe');
    const diags: Diagnosis[] = before.health.diagnoses;
    const kinds = [...new Set(diags.map((d) => d.kind))];
    for (const d of diags) out.log(formatDiagnosis(d));
    if (!diags.length) out.log('no diagnoses');
    const detected = s.expect.length === 0 ? diags.length === 0 : s.expect.some((k) => kinds.includes(k));
    out.log(`accuracy: ${(100 * before.acc).toFixed(2)}%  (${s.expect.length ? `built to show ${s.expect.join(' / ')}: ${detected ? 'detected' : 'NOT detected'}` : detected ? 'healthy and quiet' : 'FALSE ALARM on a healthy model'})`);
    const res: ScenarioResult = { name: s.name, expected: s.expect, diagnosed: kinds, detected, accuracyBefore: before.acc, repair: 'none needed' };
    const target = diags.find((d) => s.expect.includes(d.kind)) ?? diags.find((d) => d.severity !== 'info');
    if (target) {
      if (REPAIR_IN_TRAINING.has(target.kind) || diags.some((d) => REPAIR_IN_TRAINING.has(d.kind))) {
        const after = await run(`${s.name}-after`, s.layers, s.optimizer, 'repair');
        const acts = after.health.actions;
        res.repair = `in training: ${acts.length ? acts.map((a) => `step ${a.step} ${a.kind} (${a.note})`).join('; ') : 'no action was needed this time'}`;
        res.accuracyAfter = after.acc;
        // The run survives; if a cause needing a restart was also diagnosed (e.g. poor
        // initialization), restart with its top remedy too, as AUTOTRAINER does.
        const cause = firstRestartCause(diags);
        const fix = cause?.remedies.map((r) => applyRemedy(s, r)).find((x) => x !== null);
        if (fix && after.acc < 0.8) {
          const again = await run(`${s.name}-restart`, fix.layers, fix.optimizer, 'repair');
          res.repair += `; then restart with ${fix.what} (top remedy for ${cause!.kind.replace(/_/g, ' ')}): ${(100 * after.acc).toFixed(2)}% → ${(100 * again.acc).toFixed(2)}%`;
          res.accuracyAfter = again.acc;
        }
      } else {
        // Restart on the diagnosis fit's repair would have restarted on (the first to fire, e.g.
        // the dead units seen at the first step rather than the dying-ReLU rule that confirms
        // them later), so the doctor shows the repair fit makes.
        const cause = firstRestartCause(diags) ?? target;
        const fix = cause.remedies.map((r) => applyRemedy(s, r)).find((x) => x !== null);
        if (fix) {
          const after = await run(`${s.name}-after`, fix.layers, fix.optimizer, 'observe');
          res.repair = `restart from a fresh initialization with ${fix.what} (top remedy for ${cause.kind.replace(/_/g, ' ')})`;
          res.accuracyAfter = after.acc;
        } else {
          res.repair = `no automatic remedy; try: ${cause.remedies[0]?.action ?? '—'}`;
        }
      }
      out.log(`repair: ${res.repair}`);
      if (res.accuracyAfter !== undefined) out.log(`accuracy: ${(100 * res.accuracyBefore).toFixed(2)}% → ${(100 * res.accuracyAfter).toFixed(2)}%`);
    }
    results.push(res);
  }
  out.log('');
  out.log('summary:');
  for (const r of results) {
    out.log(`  ${r.name.padEnd(11)} ${r.detected ? 'ok ' : 'MISS'} diagnosed [${r.diagnosed.join(', ')}] accuracy ${(100 * r.accuracyBefore).toFixed(1)}%${r.accuracyAfter !== undefined ? ` → ${(100 * r.accuracyAfter).toFixed(1)}%` : ''}`);
  }
  if (o.report) out.log(`reports written to ${o.report}/`);
  return results;
}

/** Adds `doctor` to the program. */
export function addDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description('run built-in failing scenarios on MNIST: diagnose, repair, and show accuracy before and after')
    .addOption(new Option('--scenario <names...>', `scenarios to run (default all): ${SCENARIOS.map((s) => s.name).join(', ')}`))
    .addOption(new Option('--epochs <n>', 'epochs per run').argParser(integerIn(1, 1000)).default(2))
    .addOption(new Option('--limit <n>', 'training samples used').argParser(integerIn(100, 60_000)).default(12_000))
    .addOption(new Option('--test-limit <n>', 'test samples used').argParser(integerIn(100, 10_000)).default(10_000))
    .addOption(new Option('--every <n>', 'collect statistics every n steps').argParser(integerIn(1, 10_000)).default(8))
    .addOption(new Option('--seed <n>', 'seed').argParser(integerIn(0, 0xffff_ffff)).default(gg.DEFAULT_SEED))
    .addOption(new Option('--backend <name>', 'compute backend').choices(['wasm', 'reference']).default('wasm'))
    .addOption(new Option('--report <dir>', 'write an HTML health report per run into this directory'))
    .action(async (opts: DoctorOptions & { scenario?: string[] }) => {
      await runDoctor({ ...opts, scenarios: opts.scenario });
    });
}

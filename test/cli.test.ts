// The `gradguard` command as users run it: the built dist/cli.js in a child process.
// Accuracy bars here are sanity bars for short runs, not the e2e target: one epoch on the first
// 2000 training images reaches about 85% test accuracy (measured 84.7% with seed 42), so > 70%
// fails on a broken model or data path but not on small numeric differences between builds.
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { ensureFreshDist, ROOT } from './browser/dist';
import { runTrainMnist } from '../ts/cli/train.js';

let cli = '';
// Builds dist/ first when it is missing or older than ts/ (see test/browser/dist.ts).
beforeAll(async () => { cli = await ensureFreshDist('cli.js'); });

interface Run { code: number; stdout: string; stderr: string }
function node(args: string[], cwd = ROOT): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd, timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}
const gradguard = (...args: string[]): Promise<Run> => node([cli, ...args]);

describe('the built package finds its wasm files from dist/ (any working directory)', () => {
  const show = "console.log(b.name + ' ' + b.source)";
  it('ESM dist/index.js', async () => {
    const r = await node(['--input-type=module', '-e',
      `const g = await import(${JSON.stringify(join(ROOT, 'dist', 'index.js'))}); const b = await g.createWasmBackend({ variant: 'scalar' }); ${show}`], tmpdir());
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(`wasm-scalar ${join(ROOT, 'wasm', 'gradguard-scalar.wasm')}`);
  });
  it('CommonJS dist/index.cjs (import.meta.url shimmed by tsup)', async () => {
    const r = await node(['-e',
      `require(${JSON.stringify(join(ROOT, 'dist', 'index.cjs'))}).createWasmBackend({ variant: 'simd' }).then((b) => { ${show} })`], tmpdir());
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(`wasm-simd ${join(ROOT, 'wasm', 'gradguard-simd.wasm')}`);
  });
});

describe('gradguard train mnist', () => {
  it('trains, shows each epoch, prints test accuracy and the time taken', async () => {
    const r = await gradguard('train', 'mnist', '--epochs', '1', '--limit', '2000');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^gradguard: MNIST, 2000 training \/ 10000 test samples, backend wasm-simd$/m);
    expect(r.stdout).toMatch(/^model: dense 784→128 relu, 128→128 relu, 128→10 softmax \(118,282 parameters\)$/m);
    expect(r.stdout).toMatch(/^training: adam \(learning rate 0\.001\), batch 32, 1 epoch, seed 42$/m);
    expect(r.stdout).toMatch(/^epoch 1\/1 {2}loss \d+\.\d{4} {2}accuracy \d+\.\d\d% {2}\d+\.\d\d s {2}[\d,]+ samples\/s$/m);
    const acc = Number(/^test accuracy: (\d+\.\d\d)% \(loss \d+\.\d{4}, 10000 samples\)$/m.exec(r.stdout)?.[1]);
    expect(acc).toBeGreaterThan(70);
    expect(r.stdout).toMatch(/^time: \d+\.\d\d s training \(\d+\.\d\d s per epoch: \d+\.\d\d\), \d+\.\d\d s total$/m);
  });

  it('runs the health monitor by default and writes the HTML report on --report', async () => {
    const report = join(tmpdir(), `gradguard-cli-report-${process.pid}.html`);
    const r = await gradguard('train', 'mnist', '--epochs', '1', '--limit', '2000', '--report', report);
    expect(r.code).toBe(0);
    // 2000 samples / batch 32 = 63 steps; statistics at steps 0, 16, 32, 48 → 4 samples.
    expect(r.stdout).toMatch(/^health: no problems found \(4 samples of per-layer gradient statistics, every 16 steps\)$/m);
    expect(r.stdout).toContain(`health report written to ${report}`);
    const html = readFileSync(report, 'utf8');
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain('uPlot');
    rmSync(report);
    const off = await gradguard('train', 'mnist', '--epochs', '1', '--limit', '600', '--health', 'off');
    expect(off.code).toBe(0);
    expect(off.stdout).not.toMatch(/^health:/m);
  });

  it('is reproducible from --seed, and --quiet prints only the results', async () => {
    const args = ['train', 'mnist', '--epochs', '2', '--limit', '600', '--batch-size', '50', '--seed', '7', '--quiet'];
    const [a, b] = [await gradguard(...args), await gradguard(...args)];
    expect(a.code).toBe(0);
    const lines = a.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^test accuracy: /);
    expect(lines[1]).toMatch(/^time: .* per epoch: \d+\.\d\d, \d+\.\d\d\)/);
    expect(b.stdout.split('\n')[0]).toBe(lines[0]);
  });

  it('runs the other options: scalar build, sgd, learning rate, batch size', async () => {
    const r = await gradguard('train', 'mnist', '--epochs', '1', '--limit', '2000', '--variant', 'scalar',
      '--optimizer', 'sgd', '--learning-rate', '0.1', '--batch-size', '16');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/backend wasm-scalar$/m);
    expect(r.stdout).toMatch(/^training: sgd \(learning rate 0\.1\), batch 16, 1 epoch, seed 42$/m);
    expect(Number(/^test accuracy: (\d+\.\d\d)%/m.exec(r.stdout)?.[1])).toBeGreaterThan(70);
  });
});

describe('gradguard train --health repair: a restarted run', () => {
  // SGD at 1e-3 on 1000 images stays at chance accuracy for 2 epochs (measured 8.5 %), so repair
  // restarts after the first run's last epoch (loss_plateau, learning rate → 1e-2) and the new
  // run learns (measured 40.6 %). Run in-process to read the returned TrainResult.
  it('times the final run\'s epochs only and reports the abandoned runs apart', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {}); // repair prints each diagnosis
    const lines: string[] = [];
    const epochs = 2;
    const res = await runTrainMnist({
      epochs, batchSize: 32, learningRate: 1e-3, optimizer: 'sgd', seed: 42, backend: 'wasm', variant: 'auto',
      limit: 1000, quiet: false, health: 'repair', healthEvery: 16,
    }, { log: (l) => lines.push(l) });
    vi.restoreAllMocks();
    const restarts = lines.filter((l) => /^health: restart at step \d+/.test(l)).length;
    // Preconditions: the case restarted, and the final run was not cut short by giving up.
    expect(restarts, lines.join('\n')).toBeGreaterThanOrEqual(1);
    expect(lines.some((l) => l.startsWith('health: gave_up'))).toBe(false);

    expect(res.epochSeconds).toHaveLength(epochs);
    expect(res.abandoned.runs).toBe(restarts);
    // Invariants of the clock (not speeds): the abandoned time is positive and within fit's.
    expect(res.abandoned.seconds).toBeGreaterThan(0);
    expect(res.abandoned.seconds).toBeLessThanOrEqual(res.trainSeconds);
    // Printed: a line per restart, then the final run's epochs; the time line lists those only.
    const lastMark = lines.map((l) => /^restart \d+: the run above is abandoned after \d+ complete epochs? \(\d+\.\d\d s\); training again from epoch 1$/.test(l)).lastIndexOf(true);
    expect(lines.filter((l) => l.startsWith('restart '))).toHaveLength(restarts);
    expect(lines.slice(lastMark + 1).filter((l) => /^epoch \d+\/2 /.test(l))).toHaveLength(epochs);
    const time = lines.find((l) => l.startsWith('time: '))!;
    const m = /^time: \d+\.\d\d s training \(\d+\.\d\d s per epoch: ([\d., ]+); (\d+\.\d\d) s in (\d+) abandoned runs? before restart\), \d+\.\d\d s total$/.exec(time);
    expect(m, time).not.toBeNull();
    expect(m![1]!.split(', ')).toEqual(res.epochSeconds.map((s) => s.toFixed(2)));
    expect(m![2]).toBe(res.abandoned.seconds.toFixed(2));
    expect(Number(m![3])).toBe(restarts);
  });
});

describe('usage errors exit with code 2 and say what is wrong', () => {
  it.each([
    [['train', 'mnist', '--epochs', '0'], "option '--epochs <n>' argument '0' is invalid. Expected an integer from 1 to 10000."],
    [['train', 'mnist', '--epochs', '2.5'], "argument '2.5' is invalid. Expected an integer"],
    [['train', 'mnist', '--batch-size', 'many'], "option '--batch-size <n>' argument 'many' is invalid"],
    [['train', 'mnist', '--learning-rate', '-1'], 'Expected a number greater than 0'],
    [['train', 'mnist', '--optimizer', 'adamax'], 'Allowed choices are sgd, rmsprop, adagrad, adam, adamw.'],
    [['train', 'mnist', '--backend', 'gpu'], 'Allowed choices are wasm, reference.'],
    [['train', 'mnist', '--variant', 'avx'], 'Allowed choices are auto, simd, scalar.'],
    [['train', 'mnist', '--seed', '-3'], 'Expected an integer from 0 to 4294967295.'],
    [['train', 'mnist', '--limit', '70000'], 'Expected an integer from 1 to 60000.'],
    [['train', 'mnist', '--limit', '100', '--batch-size', '200'], "'--batch-size 200' is larger than '--limit 100'"],
    [['train', 'mnist', '--backend', 'reference', '--variant', 'simd'], "'--variant simd' applies to --backend wasm only"],
    [['train', 'mnist', '--epoch', '3'], "unknown option '--epoch'"],
    [['train', 'cifar10'], "value 'cifar10' is invalid for argument 'dataset'. Allowed choices are mnist."],
    [['train'], "missing required argument 'dataset'"],
    [['fly'], "unknown command 'fly'"],
    [['train', 'mnist', '--health', 'maybe'], 'Allowed choices are observe, warn, repair, off.'],
    [['train', 'mnist', '--health', 'off', '--report', 'r.html'], "'--report' needs the health monitor"],
    [['train', 'mnist', '--health-every', '0'], "option '--health-every <n>' argument '0' is invalid"],
  ])('%j', async (args, message) => {
    const r = await gradguard(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe('');
  });
});

// The HTML health report: built from a real fit (reference backend) with a diagnosis and a repair
// action, then opened in headless Chromium, which must draw every chart without a page error.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createReferenceBackend } from '../ts/reference/index.js';
import { Rng } from '../ts/reference/rng.js';
import { sequential } from '../ts/model/sequential.js';
import { layers } from '../ts/model/layers.js';
import { optimizers } from '../ts/model/optimizers.js';
import type { History } from '../ts/model/history.js';
import { renderHealthReport, reportSeries } from '../ts/health/index.js';
import { launchChromium, type Browser } from './browser/harness';

let browser: Browser;
beforeAll(async () => { browser = await launchChromium(); }, 60_000);
afterAll(async () => { await browser?.close(); });

async function repairedRun(): Promise<History> {
  vi.spyOn(console, 'warn').mockImplementation(() => {});
  const r = new Rng(3); const n = 300;
  const x = new Float32Array(n * 5); const y = new Int32Array(n);
  for (let i = 0; i < n; i++) { const c = i % 3; y[i] = c; for (let k = 0; k < 5; k++) x[i * 5 + k] = 0.5 * r.normal() + (k === c ? 2 : 0); }
  const m = sequential({ seed: 3, backend: createReferenceBackend(), layers: [
    layers.dense({ inputShape: [5], units: 7, activation: 'relu' }), layers.dense({ units: 3, activation: 'softmax' })] });
  m.compile({ optimizer: optimizers.sgd({ learningRate: 1e4 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const h = await m.fit(x, y, { epochs: 4, batchSize: 10, health: { policy: 'repair', every: 1, maxRepairs: 6 } });
  vi.restoreAllMocks();
  return h;
}

describe('health report', () => {
  it('series: non-finite and non-positive values become gaps on log axes', async () => {
    const h = await repairedRun();
    const s = reportSeries(h.health!);
    expect(s.steps).toHaveLength(h.health!.samples.length);
    expect(s.names).toEqual(['dense', 'dense_1']);
    expect(s.gradNorm.flat().every((v) => v === null || (Number.isFinite(v) && v > 0))).toBe(true);
    // This run restarts (dead units after the blow-up): only the final run's diagnoses are drawn
    // on the timeline (test/health.restart.test.ts checks the split itself).
    const restarts = h.health!.actions.filter((a) => a.kind === 'restart').length;
    expect(s.markers.length).toBe(h.health!.diagnoses.filter((d) => d.step >= 0 && (d.run === undefined || d.run === restarts)).length);
  });

  it('renders in headless Chromium: five charts, diagnoses and actions listed, no page errors', async () => {
    const h = await repairedRun();
    expect(h.health!.diagnoses.length).toBeGreaterThan(0);
    expect(h.health!.actions.length).toBeGreaterThan(0);
    const html = await renderHealthReport(h.health!, { history: h, title: 'repair <test>' });
    expect(html).toContain('repair &lt;test&gt;'); // escaped
    expect(html).not.toMatch(/<script[^>]+src=/); // self-contained
    const file = join(tmpdir(), `gg-health-report-${process.pid}.html`);
    writeFileSync(file, html);
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`file://${file}`);
    await page.waitForFunction(() => typeof (window as unknown as { __charts?: number }).__charts === 'number');
    expect(errors).toEqual([]);
    expect(await page.evaluate(() => (window as unknown as { __charts: number }).__charts)).toBe(5);
    expect(await page.locator('canvas').count()).toBe(5);
    expect(await page.locator('.diag').count()).toBe(h.health!.diagnoses.length);
    expect(await page.locator('table.actions tr').count()).toBe(h.health!.actions.length + 1);
    await page.screenshot({ path: join(tmpdir(), 'gg-health-report.png'), fullPage: true });
    await page.close();
  }, 60_000);
});

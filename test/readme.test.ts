// The README's API example is part of the contract: this runs the ```ts block under "## The API"
// as written (only the package specifier is pointed at the built dist/index.js, and a line that
// prints the results is appended), in a fresh Node process in a scratch directory.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureFreshDist, ROOT } from './browser/dist';

beforeAll(async () => { await ensureFreshDist('index.js'); });

function apiExample(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## The API'));
  const m = /```ts\n([\s\S]*?)```/.exec(section);
  if (!m) throw new Error('README.md: no ```ts block under "## The API"');
  return m[1]!;
}

describe('README', () => {
  it('the API example runs as written and trains MNIST to ≥ 97% test accuracy', async () => {
    const code = apiExample();
    expect(code).toContain("from 'gradguard'");
    const dist = pathToFileURL(join(ROOT, 'dist', 'index.js')).href;
    const script = code.replace("from 'gradguard'", `from ${JSON.stringify(dist)}`)
      + '\nconsole.log(JSON.stringify({ loss, accuracy, probs: probs.length, weights: weights.length, again: again.countParams(), epochs: history.epoch.length }));\n';
    const dir = mkdtempSync(join(tmpdir(), 'gradguard-readme-'));
    try {
      writeFileSync(join(dir, 'example.mjs'), script);
      const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(process.execPath, ['example.mjs'], { cwd: dir, timeout: 300_000 }, (err, stdout, stderr) => {
          resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
        });
      });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
      // 5 epochs of Adam on 54,000 images (validationSplit 0.1): ~97.5% (97.61% measured without
      // the split); 0.97 leaves room for the split and for early stopping, not for a broken model.
      expect(out.accuracy).toBeGreaterThan(0.97);
      expect(out.probs).toBe(30);
      expect(out.weights).toBe(6);
      expect(out.again).toBe(118_282);
      expect(out.epochs).toBeGreaterThanOrEqual(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

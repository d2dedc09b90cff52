// The tests that run the built package (dist/) must not test an old build. ensureFreshDist()
// rebuilds with tsup when dist/<file> is missing or older than any source under ts/, under a lock
// file so that two test files running in parallel do not build over each other (tsup cleans
// dist/ first); the second waits for the first and then finds the build fresh.
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');
const LOCK = join(ROOT, 'dist.build.lock');
const STALE_LOCK_MS = 180_000;

function newestSource(dir: string): { file: string; mtime: number } {
  let best = { file: '', mtime: 0 };
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    const c = e.isDirectory() ? newestSource(p) : { file: p, mtime: statSync(p).mtimeMs };
    if (c.mtime > best.mtime) best = c;
  }
  return best;
}

/** Why dist/<name> cannot be used as it is, or null when it is present and fresh. */
function staleness(name: string): string | null {
  const file = join(ROOT, 'dist', name);
  if (!existsSync(file)) return `${file} does not exist`;
  const src = newestSource(join(ROOT, 'ts'));
  return src.mtime > statSync(file).mtimeMs ? `${file} is older than ${src.file}` : null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Returns the path of dist/<name>, building the package first if needed. */
export async function ensureFreshDist(name: string): Promise<string> {
  const deadline = Date.now() + STALE_LOCK_MS;
  while (staleness(name) !== null) {
    let fd: number;
    try {
      fd = openSync(LOCK, 'wx');
    } catch {
      // Someone else is building: wait for them (a lock left by a killed run expires).
      if (existsSync(LOCK) && Date.now() - statSync(LOCK).mtimeMs > STALE_LOCK_MS) rmSync(LOCK, { force: true });
      if (Date.now() > deadline) throw new Error(`waited too long for ${LOCK}; remove it if no build is running`);
      await sleep(250);
      continue;
    }
    try {
      const why = staleness(name);
      if (why !== null) {
        try {
          execFileSync('npx', ['tsup'], { cwd: ROOT, stdio: 'pipe' });
        } catch (e) {
          const out = e as { stdout?: Buffer; stderr?: Buffer };
          throw new Error(`${why}, and building it with \`npx tsup\` failed:\n${out.stdout?.toString() ?? ''}${out.stderr?.toString() ?? ''}`);
        }
        const still = staleness(name);
        if (still !== null) throw new Error(`${still} even after \`npx tsup\``);
      }
    } finally {
      closeSync(fd);
      rmSync(LOCK, { force: true });
    }
  }
  return join(ROOT, 'dist', name);
}

import { defineConfig } from 'tsup';

export default defineConfig([
  {
    // The library: ESM + CommonJS with .d.ts. `shims` provides import.meta.url in the CJS build,
    // which the wasm loader uses to find wasm/ next to dist/.
    entry: { index: 'ts/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    shims: true,
    target: 'es2022',
  },
  {
    // The kernel's worker thread for browsers (simd-threads): loaded as a module Worker from
    // new URL('./wasm-worker.js', import.meta.url), i.e. next to dist/index.js. (Node runs an
    // inline copy of it, see ts/backend/wasm/threads/pool.ts, and needs no file.)
    entry: { 'wasm-worker': 'ts/backend/wasm/threads/worker.ts' },
    format: ['esm'],
    sourcemap: true,
    target: 'es2022',
  },
  {
    entry: { cli: 'ts/cli/main.ts' },
    format: ['esm'],
    sourcemap: true,
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
  },
]);

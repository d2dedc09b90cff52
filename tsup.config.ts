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
    entry: { cli: 'ts/cli/main.ts' },
    format: ['esm'],
    sourcemap: true,
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
  },
]);

// Finding and compiling the kernel's .wasm file.
//
// Node: the file is read from <package root>/wasm/gradguard-<variant>.wasm, where the package
// root is found by walking up from this module's own file (import.meta.url) to the first
// package.json whose name is "gradguard". That one rule works from dist/index.js, from
// dist/index.cjs (tsup shims import.meta.url there), from dist/cli.js and from the ts/ sources
// under vitest, without knowing how deep each sits.
// Browsers: the file is fetched from ../wasm/ next to dist/index.js, unless the user says where
// (`wasmPath`) or hands over the bytes or a compiled module (`wasmBytes`), which bundlers and
// CDNs need because they move files.
import { BackendError } from '../../errors.js';

/**
 * Every build variant the loader knows of; scripts/build-wasm.sh builds all four by default
 * (see its header).
 */
export const WASM_VARIANTS = ['simd', 'scalar', 'simd-threads', 'relaxed-simd'] as const;
export type WasmVariant = (typeof WASM_VARIANTS)[number];

export interface WasmSource {
  /**
   * Where the .wasm files are: a directory / URL prefix (the file name gradguard-<variant>.wasm
   * is appended; a trailing slash is optional), or the URL/path of one .wasm file (ends in .wasm).
   * Relative URLs resolve against the page in browsers and the working directory in Node.
   */
  wasmPath?: string | URL;
  /** The module's bytes, or an already compiled module; wins over wasmPath. */
  wasmBytes?: BufferSource | WebAssembly.Module;
}

export interface LocatedModule {
  module: WebAssembly.Module;
  /** Where it came from, for messages: a file path, a URL, or '(wasmBytes)'. */
  where: string;
}

export const wasmFileName = (variant: WasmVariant): string => `gradguard-${variant}.wasm`;

const BUILD_HINT = 'Build it with `npm run build:wasm` (or `bash scripts/build-wasm.sh <variant>`) '
  + 'in the gradguard package, or pass { wasmPath } / { wasmBytes } to say where it is.';

export function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

const looksLikeUrl = (s: string): boolean => /^[a-z][a-z0-9+.-]*:\/\//i.test(s) || s.startsWith('data:') || s.startsWith('blob:');

/** Applies the directory-or-file rule of WasmSource.wasmPath to a string. */
function withFileName(path: string, variant: WasmVariant): string {
  if (/\.wasm(\?.*)?$/i.test(path)) return path;
  return path.endsWith('/') ? path + wasmFileName(variant) : `${path}/${wasmFileName(variant)}`;
}

async function compile(bytes: BufferSource, variant: WasmVariant, where: string): Promise<WebAssembly.Module> {
  try {
    return await WebAssembly.compile(bytes);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const hint = variant === 'scalar'
      ? 'The file may be damaged or from an incompatible build; rebuild it with `npm run build:wasm`.'
      : `This engine may not support the '${variant}' variant's features: try { variant: 'scalar' }, `
        + 'or rebuild the file with `npm run build:wasm` if it is damaged.';
    throw new BackendError(`gradguard: could not compile the '${variant}' wasm kernel from ${where}: ${msg}. ${hint}`);
  }
}

/** Node: the directory of the gradguard package that contains this module. */
async function packageRoot(): Promise<string | null> {
  const { readFile } = await import('node:fs/promises');
  const { dirname, join } = await import('node:path');
  const { fileURLToPath } = await import('node:url');
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'gradguard') return dir;
    } catch { /* no (readable) package.json here: keep walking */ }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  // Bundled into someone else's file: ask Node's resolver for the installed package instead.
  try {
    const { createRequire } = await import('node:module');
    return dirname(createRequire(import.meta.url).resolve('gradguard/package.json'));
  } catch {
    return null;
  }
}

async function readNodeFile(path: string, variant: WasmVariant): Promise<LocatedModule> {
  const { readFile } = await import('node:fs/promises');
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as { code?: string }).code;
    const why = code === 'ENOENT' ? 'no such file' : (e instanceof Error ? e.message : String(e));
    throw new BackendError(`gradguard: the '${variant}' wasm kernel was not found at ${path} (${why}). ${BUILD_HINT}`);
  }
  return { module: await compile(bytes, variant, path), where: path };
}

async function fetchUrl(url: string, variant: WasmVariant): Promise<LocatedModule> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new BackendError(`gradguard: could not fetch the '${variant}' wasm kernel from ${url}: ${msg}. `
      + 'Serve the package\'s wasm/ folder and pass { wasmPath: \'<url of that folder>/\' }, or pass { wasmBytes }.');
  }
  if (!res.ok) {
    throw new BackendError(`gradguard: could not fetch the '${variant}' wasm kernel from ${url}: HTTP ${res.status} ${res.statusText}. `
      + 'Serve the package\'s wasm/ folder and pass { wasmPath: \'<url of that folder>/\' }, or pass { wasmBytes }.');
  }
  return { module: await compile(await res.arrayBuffer(), variant, url), where: url };
}

/** Finds and compiles one variant's module (see the file comment for the search rules). */
export async function locateWasm(variant: WasmVariant, source: WasmSource = {}): Promise<LocatedModule> {
  if (source.wasmBytes !== undefined) {
    if (source.wasmBytes instanceof WebAssembly.Module) return { module: source.wasmBytes, where: '(wasmBytes)' };
    return { module: await compile(source.wasmBytes, variant, '(wasmBytes)'), where: '(wasmBytes)' };
  }
  const node = isNode();
  if (source.wasmPath !== undefined) {
    const p = source.wasmPath instanceof URL ? source.wasmPath.href : String(source.wasmPath);
    if (node) {
      if (p.startsWith('file:')) {
        const { fileURLToPath } = await import('node:url');
        return readNodeFile(withFileName(fileURLToPath(p), variant), variant);
      }
      if (!looksLikeUrl(p)) {
        const { resolve } = await import('node:path');
        return readNodeFile(resolve(withFileName(p, variant)), variant);
      }
      return fetchUrl(withFileName(p, variant), variant);
    }
    const base = (globalThis as { location?: { href?: string } }).location?.href;
    const url = new URL(withFileName(p, variant), base).href;
    return fetchUrl(url, variant);
  }
  if (node) {
    const root = await packageRoot();
    if (root === null) {
      throw new BackendError(`gradguard: could not find the gradguard package folder (searched upwards from ${import.meta.url}) `
        + `to read wasm/${wasmFileName(variant)}. ${BUILD_HINT}`);
    }
    const { join } = await import('node:path');
    return readNodeFile(join(root, 'wasm', wasmFileName(variant)), variant);
  }
  // dist/index.js sits in <package>/dist/, the kernels in <package>/wasm/.
  return fetchUrl(new URL(`../wasm/${wasmFileName(variant)}`, import.meta.url).href, variant);
}

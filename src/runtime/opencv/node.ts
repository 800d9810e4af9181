/**
 * Node adapter of the OpenCV.js loader. Loading opencv.js in Node installs
 * `process.on('uncaughtException')` (rethrows) and `process.on('unhandledRejection', abort)`
 * listeners: any unrelated rejected promise afterwards would abort the process and print the whole
 * 10.8 MB source. This adapter removes exactly the listeners added during the load, and reads
 * `file:` URLs (and plain paths) given as `url`, which Node's `fetch` refuses.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FacenetDnnError } from '../../converter/errors.js';
import { wasmFeatures } from './features.js';
import { createOpenCVLoader } from './load.js';
import type { CV, LoadOptions } from './load.js';

const EVENTS = ['uncaughtException', 'unhandledRejection'] as const;

/** Runs `run` and then removes the `uncaughtException` / `unhandledRejection` listeners it added. */
export async function withProcessListenersRestored<T>(run: () => Promise<T>): Promise<T> {
  // The generic EventEmitter view: process.listeners() is typed per signal name otherwise.
  const emitter: NodeJS.EventEmitter = process;
  const before = new Map(EVENTS.map((e) => [e, new Set(emitter.listeners(e))]));
  try {
    return await run();
  } finally {
    for (const e of EVENTS) {
      for (const l of emitter.listeners(e)) {
        if (!before.get(e)!.has(l)) emitter.removeListener(e, l as (...args: unknown[]) => void);
      }
    }
  }
}

/**
 * `fetch` plus local files: a `file:` URL, or a string that is not a URL (a path, relative to the
 * working directory), is read from disk. Node's `fetch` rejects `file:` ("not implemented").
 */
export async function fetchOrReadFile(url: string | URL): Promise<Response> {
  let parsed: URL | undefined;
  try {
    parsed = url instanceof URL ? url : new URL(url);
  } catch {
    parsed = undefined; // not absolute: a path
  }
  if (parsed && parsed.protocol !== 'file:') return fetch(parsed);
  const bytes = await readFile(parsed ?? String(url));
  return new Response(bytes);
}

const PACKAGE = '@techstark/opencv-js';

// `require`, not `import()`: Bun copies the module's own `then` onto the namespace of a CommonJS
// import, so `await import()` of opencv.js never settles there (the Emscripten module's `then`
// keeps re-resolving). Made with createRequire from this file's location: `__filename` in the
// CommonJS build (where `import.meta` is empty), `import.meta.url` in ESM. Not a bare `require`:
// bundlers replace it with a stub that throws in ESM.
const nodeRequire: NodeRequire = createRequire(typeof __filename === 'string' ? __filename : import.meta.url);

const shared = createOpenCVLoader({
  sandbox: withProcessListenersRestored,
  fetch: fetchOrReadFile,
  importModule: async () => ({ default: nodeRequire(PACKAGE) as unknown }),
});

/** Which OpenCV.js build the Node loader uses when no `url` or `module` is given. */
export type OpenCVBuild = 'auto' | 'simd' | 'stock';

/** Options of the Node {@link loadOpenCV}: the common {@link LoadOptions} plus the build choice. */
export interface NodeLoadOptions extends LoadOptions {
  /**
   * `'simd'`: the wasm SIMD build shipped in this package (`wasm/dist/simd`, built from Debian's
   * OpenCV sources by `wasm/build.sh`); `'stock'`: the `@techstark/opencv-js` package (no SIMD);
   * `'auto'`: SIMD where the engine validates wasm SIMD and the build is present, else stock.
   * Ignored when `url` or `module` is given. Default: `'auto'`.
   */
  build?: OpenCVBuild;
}

const thisDir = dirname(typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url));

/** The SIMD build's files, looked up from the bundle (`dist/`) and from the sources (`src/runtime/opencv/`). */
export function simdBuildFiles(): { script: string; wasm: string } | undefined {
  for (const root of [join(thisDir, '..'), join(thisDir, '../../..')]) {
    const script = join(root, 'wasm/dist/simd/opencv.js');
    const wasm = join(root, 'wasm/dist/simd/opencv_js.wasm');
    if (existsSync(script) && existsSync(wasm)) return { script, wasm };
  }
  return undefined;
}

/** `opencv_js.wasm` next to a local script URL or path, when there is one. */
export function siblingWasm(url: string | URL): string | undefined {
  let path: string;
  try {
    const u = url instanceof URL ? url : new URL(url);
    if (u.protocol !== 'file:') return undefined;
    path = fileURLToPath(u);
  } catch {
    path = String(url); // not a URL: a path
  }
  const wasm = join(dirname(path), 'opencv_js.wasm');
  return existsSync(wasm) ? wasm : undefined;
}

/** The build {@link loadOpenCV} picks for `build` in this process. */
export function resolveBuild(build: OpenCVBuild = 'auto'): 'simd' | 'stock' {
  if (build === 'stock') return 'stock';
  const files = simdBuildFiles();
  if (build === 'simd') {
    if (!files) throw new FacenetDnnError('ERR_OPENCV', 'Cannot load the SIMD OpenCV.js build: wasm/dist/simd is missing from this installation');
    if (!wasmFeatures().simd) throw new FacenetDnnError('ERR_OPENCV', 'Cannot load the SIMD OpenCV.js build: this engine does not validate wasm SIMD');
    return 'simd';
  }
  return files && wasmFeatures().simd ? 'simd' : 'stock';
}

/**
 * Loads OpenCV.js in Node once per process (later and concurrent calls share the load whatever
 * options they pass; a failure is returned to every later call) and leaves no process listeners
 * behind. Default source: the fastest build this engine runs (`build: 'auto'`: the SIMD build of
 * `wasm/dist/simd`, else the `@techstark/opencv-js` package); `url` may also be a `file:` URL or a
 * path (see {@link LoadOptions} for `module`, `wasmBinary`, `wasmModule`).
 *
 * @throws {FacenetDnnError} `ERR_OPENCV` when the import or reading `url` fails, the runtime
 *   aborts or does not initialize within `timeoutMs` (default 30000).
 * @example
 * ```ts
 * import { loadOpenCV } from 'facenet-dnn';
 * const cv = await loadOpenCV({ build: 'stock', timeoutMs: 10_000 });
 * ```
 */
export async function loadOpenCV(options: NodeLoadOptions = {}): Promise<CV> {
  const { build, ...rest } = options;
  const noWasm = rest.wasmBinary === undefined && rest.wasmModule === undefined;
  if (rest.url !== undefined && noWasm) {
    // A build with its wasm beside the script (like wasm/dist/simd): Emscripten 3.1.6's glue would
    // fetch() the bare path in Node, fail, and take the whole process down; hand it the file instead.
    const sibling = siblingWasm(rest.url);
    if (sibling) return shared({ ...rest, wasmBinary: new Uint8Array(await readFile(sibling)) });
  }
  if (rest.url === undefined && rest.module === undefined) {
    if (resolveBuild(build) === 'simd') {
      const files = simdBuildFiles()!;
      // This build's wasm is a separate file (not base64 in the script): hand it to Emscripten.
      const wasm = rest.wasmBinary !== undefined || rest.wasmModule !== undefined ? {} : { wasmBinary: new Uint8Array(await readFile(files.wasm)) };
      return shared({ ...rest, ...wasm, url: pathToFileURL(files.script) });
    }
    const wantsWasm = rest.wasmBinary !== undefined || rest.wasmModule !== undefined;
    if (wantsWasm) {
      // The required package has started its runtime with the embedded wasm: read its script instead.
      return shared({ ...rest, url: pathToFileURL(nodeRequire.resolve(PACKAGE)) });
    }
  }
  return shared(rest);
}

export { createOpenCVLoader, cvError, cvErrorMessage } from './load.js';
export type { CV, LoadOptions, OpenCVFactory, OpenCVLoader } from './load.js';

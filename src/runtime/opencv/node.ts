/**
 * Node adapter of the OpenCV.js loader. Loading opencv.js in Node installs
 * `process.on('uncaughtException')` (rethrows) and `process.on('unhandledRejection', abort)`
 * listeners: any unrelated rejected promise afterwards would abort the process and print the whole
 * 10.8 MB source. This adapter removes exactly the listeners added during the load, and reads
 * `file:` URLs (and plain paths) given as `url`, which Node's `fetch` refuses.
 */
import { existsSync } from 'node:fs';
import * as os from 'node:os';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FacenetDnnError } from '../../converter/errors.js';
import { wasmFeatures } from './features.js';
import { createOpenCVLoader, loadOnce } from './load.js';
import type { CV, LoadOptions, OpenCVBuild, OpenCVFactory, OpenCVLoader } from './load.js';
import { applyThreads, checkThreads, createSharedOpenCV, THREAD_POOL_SIZE } from './shared.js';

export { THREAD_POOL_SIZE } from './shared.js';

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


/** Options of the Node {@link loadOpenCV}: {@link LoadOptions}, whose `build` and `threads` it reads. */
export type NodeLoadOptions = LoadOptions;


const thisDir = dirname(typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url));

/** The files of one shipped build: the script to evaluate or require, and its wasm. */
export interface BuildFiles {
  /** `opencv.js` (SIMD: the UMD script) or `opencv_js.js` (threads: the raw glue, required). */
  script: string;
  wasm: string;
}

/**
 * The files of a shipped build, looked up from the bundle (`dist/`) and from the sources
 * (`src/runtime/opencv/`), or undefined when this installation lacks them.
 */
export function buildFiles(build: 'simd' | 'simd-threads'): BuildFiles | undefined {
  const script = build === 'simd' ? 'opencv.js' : 'opencv_js.js';
  for (const root of [join(thisDir, '..'), join(thisDir, '../../..')]) {
    const dir = join(root, 'wasm/dist', build);
    const files = { script: join(dir, script), wasm: join(dir, 'opencv_js.wasm') };
    const extra = build === 'simd-threads' ? [join(dir, 'opencv_js.worker.js')] : [];
    if ([files.script, files.wasm, ...extra].every((f) => existsSync(f))) return files;
  }
  return undefined;
}

/** A `url` option as the generic loader needs it: a plain path becomes a `file:` URL. */
function scriptUrl(url: string | URL): string | URL {
  if (url instanceof URL) return url;
  try {
    new URL(url);
    return url; // already absolute
  } catch {
    return pathToFileURL(resolvePath(url)); // a path, relative to the working directory
  }
}

const cores = (): number => (typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);

/** The build {@link loadOpenCV} picks for `build` in this process. */
export function resolveBuild(build: OpenCVBuild = 'auto'): 'simd-threads' | 'simd' | 'stock' {
  if (build === 'stock') return 'stock';
  const features = wasmFeatures();
  if (build === 'simd' || build === 'simd-threads') {
    const what = build === 'simd' ? 'SIMD' : 'SIMD+threads';
    if (!buildFiles(build)) throw new FacenetDnnError('ERR_OPENCV', `Cannot load the ${what} OpenCV.js build: wasm/dist/${build} is missing from this installation`);
    if (!features.simd) throw new FacenetDnnError('ERR_OPENCV', `Cannot load the ${what} OpenCV.js build: this engine does not validate wasm SIMD`);
    if (build === 'simd-threads' && !features.threads) {
      throw new FacenetDnnError('ERR_OPENCV', 'Cannot load the SIMD+threads OpenCV.js build: this engine does not validate wasm threads (shared memory)');
    }
    return build;
  }
  if (!features.simd) return 'stock';
  if (features.threads && cores() > 1 && buildFiles('simd-threads')) return 'simd-threads';
  return buildFiles('simd') ? 'simd' : 'stock';
}

type PThreadApi = { unusedWorkers: Array<{ unref?: () => void }>; runningWorkers: Array<{ unref?: () => void }> };

/**
 * After the threads build started (through Emscripten's Node path: `require` of the raw glue, whose
 * pthread workers are `worker_threads` loading the same file and `opencv_js.worker.js`): unrefs the
 * workers, so that they never keep Node alive (a forward is synchronous: while one runs, the main
 * thread is busy anyway), and sets the OpenCV thread count.
 */
function tuneThreads(cv: CV, threads: number | undefined): void {
  const pthread = cv['PThread'] as PThreadApi | undefined;
  if (!pthread) return;
  for (const w of [...pthread.unusedWorkers, ...pthread.runningWorkers]) w.unref?.();
  applyThreads(cv, threads, cores());
}

/** The Node-specific part of a load: picks the build and hands the generic loader its files. */
async function startNode(inner: OpenCVLoader, options: NodeLoadOptions): Promise<CV> {
  const { build, threads, ...rest } = options;
  checkThreads(threads);
  const hasWasm = rest.wasmBinary !== undefined || rest.wasmModule !== undefined;
  if (rest.url !== undefined || rest.module !== undefined) {
    // A build with its wasm beside the script (wasm/dist/simd) gets it fetched by the generic loader
    // through fetchOrReadFile, which reads file: URLs.
    const cv = await inner(rest.url !== undefined ? { ...rest, url: scriptUrl(rest.url) } : rest);
    tuneThreads(cv, threads);
    return cv;
  }
  const chosen = resolveBuild(build);
  if (chosen === 'simd') {
    const files = buildFiles('simd')!;
    return inner({ ...rest, url: pathToFileURL(files.script) });
  }
  if (chosen === 'simd-threads') {
    const files = buildFiles('simd-threads')!;
    // The glue sets globalThis.Worker = worker_threads.Worker for its pool; put back what was there.
    // The pool is complete at load and setNumThreads stays within it, so no worker is made later.
    const g = globalThis as { Worker?: unknown };
    const had = Object.prototype.hasOwnProperty.call(g, 'Worker');
    const previous = g.Worker;
    try {
      const factory = nodeRequire(files.script) as OpenCVFactory;
      // The wasm handed in: this glue's own lookup would fetch() the bare path and crash Node.
      const wasm = hasWasm ? {} : { wasmBinary: new Uint8Array(await readFile(files.wasm)) };
      const cv = await inner({ ...rest, ...wasm, module: factory });
      tuneThreads(cv, threads);
      return cv;
    } finally {
      if (had) g.Worker = previous;
      else delete g.Worker;
    }
  }
  if (hasWasm) {
    // The required package has started its runtime with the embedded wasm: read its script instead.
    return inner({ ...rest, url: pathToFileURL(nodeRequire.resolve(PACKAGE)) });
  }
  return inner(rest);
}

/**
 * A Node loader of its own (one instance per loader, not the process's shared one) that understands
 * `build` and `threads` like {@link loadOpenCV}: for a second, independent instance, e.g. to compare
 * builds side by side. A `'stock'` load shares the one `require`d package instance.
 */
export function createNodeOpenCVLoader(): OpenCVLoader {
  const inner = createOpenCVLoader({
    sandbox: withProcessListenersRestored,
    fetch: fetchOrReadFile,
    importModule: async () => ({ default: nodeRequire(PACKAGE) as unknown }),
  });
  return loadOnce((options) => startNode(inner, options));
}

const shared = createSharedOpenCV(createNodeOpenCVLoader);

/**
 * Loads OpenCV.js in Node once per process (later and concurrent calls share the load whatever
 * options they pass; a failure is returned to every later call) and leaves no process listeners
 * behind. Default source: the fastest build this engine runs (`build: 'auto'`: the SIMD+threads
 * build of `wasm/dist/simd-threads` where wasm threads validate and there are several cores, else
 * the SIMD build of `wasm/dist/simd`, else the `@techstark/opencv-js` package); `url` may also be a
 * `file:` URL or a path (see {@link LoadOptions} for `module`, `wasmBinary`, `wasmModule`). The
 * threads build's workers do not keep the process alive.
 *
 * @throws {FacenetDnnError} `ERR_OPENCV` when a forced build is missing or unsupported here, the
 *   import or reading `url` fails, the runtime aborts or does not initialize within `timeoutMs`
 *   (default 30000).
 * @throws {RangeError} for `threads` outside 1…{@link THREAD_POOL_SIZE}.
 * @example
 * ```ts
 * import { loadOpenCV } from 'facenet-dnn';
 * const cv = await loadOpenCV({ build: 'simd', timeoutMs: 10_000 });
 * ```
 */
export function loadOpenCV(options: NodeLoadOptions = {}): Promise<CV> {
  return shared.load(options);
}

/**
 * Like {@link loadOpenCV}, but counted: `createFaceNet` takes the runtime this way and its `dispose()`
 * gives it back with {@link releaseOpenCV}, which stops a threads build's workers once nobody uses it.
 */
export function acquireOpenCV(options: NodeLoadOptions = {}): Promise<CV> {
  return shared.acquire(options);
}

/** Gives back an instance from {@link acquireOpenCV} (see `SharedOpenCV.release`). */
export function releaseOpenCV(cv: CV): void {
  shared.release(cv);
}

export { createOpenCVLoader, cvError, cvErrorMessage } from './load.js';
export type { CV, LoadOptions, OpenCVBuild, OpenCVFactory, OpenCVLoader } from './load.js';

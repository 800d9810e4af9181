/**
 * Web adapter of the OpenCV.js loader, for browsers, web workers, Deno, Bun and edge runtimes:
 * web-standard APIs only, one shared OpenCV.js instance per realm.
 */
import { FacenetDnnError } from '../../converter/errors.js';
import { wasmFeatures } from './features.js';
import { createOpenCVLoader, loadOnce } from './load.js';
import type { CV, LoadOptions, OpenCVBuild, OpenCVLoader } from './load.js';
import { applyThreads, checkThreads, createSharedOpenCV } from './shared.js';

export { THREAD_POOL_SIZE } from './shared.js';

/** The script of each shipped build (the threads build's raw glue: its workers load that file too). */
const SCRIPTS = { simd: 'opencv.js', 'simd-threads': 'opencv_js.js' } as const;

/**
 * Where this module may find the package's `wasm/dist/<build>/`: beside the bundle (`dist/` →
 * `../wasm/dist/`) or from the sources (`src/runtime/opencv/` → `../../../wasm/dist/`). Empty where
 * the module has no URL (a CommonJS bundle).
 */
function packagedScripts(build: 'simd' | 'simd-threads'): string[] {
  const here = (import.meta as { url?: string }).url;
  if (!here) return [];
  return ['../wasm/dist/', '../../../wasm/dist/'].map((up) => new URL(`${up}${build}/${SCRIPTS[build]}`, here).href);
}

/** Whether the evaluated glue can start classic workers for its threads: a page or a worker, not Deno/Bun/edge. */
function canStartClassicWorkers(): boolean {
  const g = globalThis as { document?: unknown; importScripts?: unknown; Worker?: unknown; Deno?: unknown; Bun?: unknown };
  return typeof g.Worker === 'function' && !g.Deno && !g.Bun && (typeof g.document === 'object' || typeof g.importScripts === 'function');
}

const cores = (): number => (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;

/**
 * The builds `build` allows here, fastest first (`auto` may fall through to the next when a
 * build's files are not served); throws for a forced build this engine cannot run.
 */
export function candidateBuilds(build: OpenCVBuild = 'auto'): Array<'simd-threads' | 'simd' | 'stock'> {
  const f = wasmFeatures();
  if (build === 'stock') return ['stock'];
  if (build === 'simd' || build === 'simd-threads') {
    const what = build === 'simd' ? 'SIMD' : 'SIMD+threads';
    if (!f.simd) throw new FacenetDnnError('ERR_OPENCV', `Cannot load the ${what} OpenCV.js build: this engine does not validate wasm SIMD`);
    if (build === 'simd-threads' && !f.threads) {
      throw new FacenetDnnError('ERR_OPENCV', 'Cannot load the SIMD+threads OpenCV.js build: no wasm threads here (a page needs cross-origin isolation: COOP/COEP headers)');
    }
    if (build === 'simd-threads' && !canStartClassicWorkers()) {
      throw new FacenetDnnError('ERR_OPENCV', 'Cannot load the SIMD+threads OpenCV.js build: its threads need classic Web Workers (a browser page or worker)');
    }
    return [build];
  }
  const out: Array<'simd-threads' | 'simd' | 'stock'> = [];
  if (f.simd && f.threads && cores() > 1 && canStartClassicWorkers()) out.push('simd-threads');
  if (f.simd) out.push('simd');
  out.push('stock');
  return out;
}

/** The fetched script of the first of `urls` that answers 200, or undefined. */
async function firstServed(urls: string[], fetchFn: (url: string | URL) => Promise<Response>): Promise<{ url: string; text: string } | undefined> {
  for (const url of urls) {
    try {
      const res = await fetchFn(url);
      if (res.ok) return { url, text: await res.text() };
    } catch {
      // not served here: try the next
    }
  }
  return undefined;
}

async function startWeb(inner: OpenCVLoader, options: LoadOptions): Promise<CV> {
  const { build, threads, ...rest } = options;
  checkThreads(threads);
  const tune = (cv: CV): CV => {
    applyThreads(cv, threads, cores());
    return cv;
  };
  if (rest.url !== undefined || rest.module !== undefined) return tune(await inner(rest));
  const fetchFn = rest.fetch ?? ((u: string | URL) => globalThis.fetch(u));
  const tried: string[] = [];
  for (const b of candidateBuilds(build)) {
    if (b === 'stock') break;
    const urls = packagedScripts(b);
    const served = await firstServed(urls, fetchFn);
    if (served) {
      // Already fetched: the loader gets the text back instead of fetching it again.
      const once = (u: string | URL) => (String(u) === served.url ? Promise.resolve(new Response(served.text)) : fetchFn(u));
      return tune(await inner({ ...rest, url: served.url, fetch: once }));
    }
    tried.push(...urls);
    if (build === b) {
      throw new FacenetDnnError('ERR_OPENCV', `Cannot load the ${b} OpenCV.js build: its script is not served at ${urls.join(' or ') || '(no module URL to resolve it from)'}; pass url`);
    }
  }
  return inner(rest);
}

/**
 * A web loader of its own (one instance per loader, not the realm's shared one) that understands
 * `build` and `threads` like {@link loadOpenCV}: for a second, independent instance.
 */
export function createWebOpenCVLoader(): OpenCVLoader {
  const inner = createOpenCVLoader();
  return loadOnce((options) => startWeb(inner, options));
}

const shared = createSharedOpenCV(createWebOpenCVLoader);

/**
 * Loads OpenCV.js once per realm (page, worker, process) and returns the initialized module; later
 * and concurrent calls share that load whatever options they pass, and a failure is returned to
 * every later call.
 *
 * Sources, first match wins (see {@link LoadOptions}): `module`, `url`, else the build `build`
 * picks (default `'auto'`): the package's SIMD+threads build in a cross-origin isolated page or
 * worker with several cores, else its SIMD build where wasm SIMD validates, both fetched from
 * `wasm/dist/` beside this module (when they are not served there, `'auto'` goes on to the next),
 * else the bundled `@techstark/opencv-js` by dynamic `import()`. A plain browser page or worker
 * without a bundler may pass `url` instead, e.g. `wasm/dist/simd/opencv.js` served by the app (its
 * `opencv_js.wasm` is fetched from beside it) or the stock package's `dist/opencv.js`. With `url`
 * the script is evaluated so that Emscripten takes its web, worker or plain (Deno, Bun) path, never
 * its Node path, and no global is left behind.
 *
 * @throws {FacenetDnnError} `ERR_OPENCV` when a forced build cannot run here or is not served, the
 *   import or the fetch fails (naming the URL), the script is not an OpenCV.js build, the wasm fails
 *   to instantiate, the runtime aborts or does not initialize within `timeoutMs` (default 30000).
 * @throws {TypeError} for malformed options (e.g. `wasmModule` that is not a `WebAssembly.Module`,
 *   or a wasm option without `url` or a factory as `module`).
 * @example
 * ```ts
 * import { loadOpenCV } from 'facenet-dnn';
 * const cv = await loadOpenCV({ url: '/vendor/facenet-dnn/wasm/dist/simd/opencv.js' });
 * const m = new cv.Mat(2, 2, cv.CV_8UC1);
 * m.delete();
 * ```
 */
export function loadOpenCV(options?: LoadOptions): Promise<CV> {
  return shared.load(options);
}

/** Like {@link loadOpenCV}, counted: `createFaceNet` takes it this way; see {@link releaseOpenCV}. */
export function acquireOpenCV(options?: LoadOptions): Promise<CV> {
  return shared.acquire(options);
}

/** Gives back an instance from {@link acquireOpenCV}: the last user of a threads build stops its workers. */
export function releaseOpenCV(cv: CV): void {
  shared.release(cv);
}

export { createOpenCVLoader, cvError, cvErrorMessage } from './load.js';
export type { CV, LoadOptions, OpenCVBuild, OpenCVFactory, OpenCVLoader } from './load.js';

/**
 * Node adapter of the OpenCV.js loader. Loading opencv.js in Node installs
 * `process.on('uncaughtException')` (rethrows) and `process.on('unhandledRejection', abort)`
 * listeners: any unrelated rejected promise afterwards would abort the process and print the whole
 * 10.8 MB source. This adapter removes exactly the listeners added during the load, and reads
 * `file:` URLs (and plain paths) given as `url`, which Node's `fetch` refuses.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
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

/**
 * Loads OpenCV.js in Node once per process (later and concurrent calls share the load whatever
 * options they pass; a failure is returned to every later call) and leaves no process listeners
 * behind. Default source: the `@techstark/opencv-js` package; `url` may also be a `file:` URL or a
 * path (see {@link LoadOptions} for `module`, `wasmBinary`, `wasmModule`).
 *
 * @throws {FacenetDnnError} `ERR_OPENCV` when the import or reading `url` fails, the runtime
 *   aborts or does not initialize within `timeoutMs` (default 30000).
 * @example
 * ```ts
 * import { loadOpenCV } from 'facenet-dnn/runtime/opencv/node';
 * const cv = await loadOpenCV({ timeoutMs: 10_000 });
 * ```
 */
export function loadOpenCV(options: LoadOptions = {}): Promise<CV> {
  const wantsWasm = options.wasmBinary !== undefined || options.wasmModule !== undefined;
  if (wantsWasm && options.url === undefined && options.module === undefined) {
    // The required package has started its runtime with the embedded wasm: read its script instead.
    return shared({ ...options, url: pathToFileURL(nodeRequire.resolve(PACKAGE)) });
  }
  return shared(options);
}

export { createOpenCVLoader, cvError, cvErrorMessage } from './load.js';
export type { CV, LoadOptions, OpenCVFactory, OpenCVLoader } from './load.js';

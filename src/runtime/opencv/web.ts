/**
 * Web adapter of the OpenCV.js loader, for browsers, web workers, Deno, Bun and edge runtimes:
 * web-standard APIs only, one shared OpenCV.js instance per realm.
 */
import { createOpenCVLoader } from './load.js';
import type { CV, LoadOptions } from './load.js';

const shared = createOpenCVLoader();

/**
 * Loads OpenCV.js once per realm (page, worker, process) and returns the initialized module; later
 * and concurrent calls share that load whatever options they pass, and a failure is returned to
 * every later call.
 *
 * Sources, first match wins (see {@link LoadOptions}): `module`, `url`, else the bundled
 * `@techstark/opencv-js` by dynamic `import()`. Use the default where the runtime or a bundler
 * resolves the package (Deno and Bun with node_modules or an `npm:` import map entry, Vite,
 * webpack); a plain browser page or worker without a bundler must pass `url`, e.g. the package's
 * `dist/opencv.js` served by the app or a CDN. With `url` the script is evaluated so that
 * Emscripten takes its web, worker or plain (Deno, Bun) path, never its Node path, and no global is
 * left behind.
 *
 * @throws {FacenetDnnError} `ERR_OPENCV` when the import or the fetch fails (naming the URL), the
 *   script is not an OpenCV.js build, the wasm fails to instantiate, the runtime aborts or does not
 *   initialize within `timeoutMs` (default 30000).
 * @throws {TypeError} for malformed options (e.g. `wasmModule` that is not a `WebAssembly.Module`,
 *   or a wasm option without `url` or a factory as `module`).
 * @example
 * ```ts
 * import { loadOpenCV } from 'facenet-dnn';
 * const cv = await loadOpenCV({ url: 'https://cdn.jsdelivr.net/npm/@techstark/opencv-js@4.12.0-release.1/dist/opencv.js' });
 * const m = new cv.Mat(2, 2, cv.CV_8UC1);
 * m.delete();
 * ```
 */
export function loadOpenCV(options?: LoadOptions): Promise<CV> {
  return shared(options);
}

export { createOpenCVLoader, cvError, cvErrorMessage } from './load.js';
export type { CV, LoadOptions, OpenCVFactory, OpenCVLoader } from './load.js';

/**
 * Loading OpenCV.js (`@techstark/opencv-js` 4.12, one UMD file with the wasm embedded) as a state
 * machine: one load per loader, shared by concurrent callers, failing later callers fast with the
 * first failure, raced against a timeout. Web-standard APIs only; the Node adapter (`node.ts`) adds
 * the clean-up of the process listeners Emscripten installs.
 */
import { FacenetDnnError } from '../../converter/errors.js';

/**
 * The initialized OpenCV.js module: the Emscripten Module object with the embind classes
 * (`Mat`, `dnn_Net`, ...) and functions (`readNetFromTensorflow`, `blobFromImage`, ...). Typed
 * loosely on purpose: the package's own typings do not cover the DNN module.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type CV = Record<string, any>;

/** Options of {@link loadOpenCV} and {@link createOpenCVLoader}. */
export interface LoadOptions {
  /** Give up when the runtime has not initialized after this many milliseconds. Default: 30000. */
  timeoutMs?: number;
  /**
   * Imports the OpenCV.js module. Must resolve with a namespace-like box whose `default` is the
   * module object (what `import()` of a CommonJS module gives), never with the module itself: the
   * module object has a `then` method, so a promise resolved with it never settles.
   * Default: `() => import('@techstark/opencv-js')`.
   */
  importModule?: () => Promise<{ default?: unknown }>;
  /**
   * Runs the import and initialization; an adapter uses it to undo global side effects of the load
   * (Node: the `process` listeners Emscripten adds). Default: runs it as is.
   */
  sandbox?: <T>(run: () => Promise<T>) => Promise<T>;
}

/** A loader: call it to get the one shared OpenCV.js instance. */
export type OpenCVLoader = (options?: LoadOptions) => Promise<CV>;

const DEFAULT_TIMEOUT_MS = 30_000;

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Waits for the Emscripten runtime; resolves with `{ cv }` (a box: see {@link LoadOptions.importModule}). */
function whenReady(mod: CV): Promise<{ cv: CV }> {
  return new Promise((resolve, reject) => {
    const done = () => {
      // Emscripten's Module.then(f) calls f(Module) again and again once the runtime runs: a promise
      // resolved with the module would adopt it forever. Removing it makes `cv` a plain value.
      delete mod['then'];
      resolve({ cv: mod });
    };
    // Already initialized (e.g. loaded by someone else first): onRuntimeInitialized would never fire.
    if (mod['calledRun'] || typeof mod['Mat'] === 'function') {
      done();
      return;
    }
    // onRuntimeInitialized is one slot: chain whatever another loader put there instead of
    // overwriting it.
    const previous = mod['onRuntimeInitialized'];
    mod['onRuntimeInitialized'] = () => {
      try {
        if (typeof previous === 'function') previous();
      } finally {
        done();
      }
    };
    const previousAbort = mod['onAbort'];
    mod['onAbort'] = (what: unknown) => {
      if (typeof previousAbort === 'function') previousAbort(what);
      reject(new FacenetDnnError('ERR_OPENCV', `Cannot load OpenCV.js: the runtime aborted (${String(what)})`));
    };
  });
}

async function load(options: LoadOptions): Promise<CV> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(timeoutMs > 0)) throw new RangeError(`Cannot load OpenCV.js: timeoutMs must be positive, got ${timeoutMs}`);
  const importModule = options.importModule ?? (() => import('@techstark/opencv-js') as Promise<{ default?: unknown }>);
  const sandbox = options.sandbox ?? (<T>(run: () => Promise<T>) => run());
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new FacenetDnnError('ERR_OPENCV', `Cannot load OpenCV.js: the runtime did not initialize within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  const start = async (): Promise<{ cv: CV }> => {
    let ns: { default?: unknown };
    try {
      ns = await importModule();
    } catch (cause) {
      throw new FacenetDnnError('ERR_OPENCV', `Cannot load OpenCV.js: importing the module failed (${message(cause)})`, { cause });
    }
    const mod = (ns && typeof ns === 'object' && 'default' in ns ? ns.default : undefined) as CV | undefined;
    if (!mod || typeof mod !== 'object') {
      throw new FacenetDnnError('ERR_OPENCV', 'Cannot load OpenCV.js: the imported module has no default export object');
    }
    return whenReady(mod);
  };
  try {
    const box = await sandbox(() => Promise.race([start(), timeout]));
    return box.cv;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Makes a loader with its own state (idle → loading → ready | failed). The first call starts the
 * load with its options; every later or concurrent call shares that one load, so the Emscripten
 * runtime is initialized once. After a failure every call rejects at once with the same error.
 */
export function createOpenCVLoader(defaults: LoadOptions = {}): OpenCVLoader {
  let pending: Promise<{ cv: CV }> | undefined;
  return (options: LoadOptions = {}) => {
    pending ??= load({ ...defaults, ...options }).then((cv) => ({ cv }));
    return pending.then((box) => box.cv);
  };
}

const shared = createOpenCVLoader();

/**
 * Loads OpenCV.js once per process and returns the initialized module (web-standard variant: no
 * `process` clean-up; in Node use the `loadOpenCV` of `./node.js`).
 *
 * @throws {FacenetDnnError} `ERR_OPENCV` when the import fails, the runtime aborts or does not
 *   initialize within `timeoutMs`.
 * @example
 * ```ts
 * const cv = await loadOpenCV();
 * const net = cv.readNetFromTensorflow('/model.pb');
 * ```
 */
export function loadOpenCV(options?: LoadOptions): Promise<CV> {
  return shared(options);
}

/**
 * The message of an error thrown by OpenCV.js. C++ exceptions arrive as numbers (a pointer);
 * `cv.exceptionFromPtr(ptr).msg` holds the text, e.g. `OpenCV(4.12.0) .../tf_importer.cpp:3154:
 * error: (-2:Unspecified error) Can't create layer "n" of type "Neg" in function '...'`. Returns
 * the part after the error code, without the source path.
 */
export function cvErrorMessage(cv: CV, e: unknown): string {
  let text: string;
  if (typeof e === 'number') {
    try {
      text = String(cv['exceptionFromPtr'](e).msg);
    } catch {
      text = `C++ exception (pointer ${e}), not decodable`;
    }
  } else text = message(e);
  const m = /error: \(-?\d+:[^)]*\)\s*([\s\S]*?)\s*$/.exec(text);
  return (m ? m[1]! : text).replace(/\s+/g, ' ').trim();
}

/** A `FacenetDnnError('ERR_OPENCV')` "Cannot <doing>: <OpenCV's message>" with the raw error as cause. */
export function cvError(cv: CV, e: unknown, doing: string): FacenetDnnError {
  return new FacenetDnnError('ERR_OPENCV', `Cannot ${doing}: ${cvErrorMessage(cv, e)}`, { cause: e });
}

/**
 * Loading OpenCV.js (`@techstark/opencv-js` 4.12, one UMD file with the wasm embedded) as a state
 * machine: one load per loader, shared by concurrent callers, failing later callers fast with the
 * first failure, raced against a timeout. The caller picks the source (an imported module or
 * factory, a script URL, the bundled package) and may hand in the wasm (bytes or a precompiled
 * `WebAssembly.Module`), as onnxruntime-web's wasm factory does. Web-standard APIs only; the
 * adapters `web.ts` and `node.ts` hold the one shared loader of each runtime (Node's adds the
 * clean-up of the process listeners Emscripten installs, and `file:` URLs).
 */
import { FacenetDnnError } from '../../converter/errors.js';

/**
 * The initialized OpenCV.js module: the Emscripten Module object with the embind classes
 * (`Mat`, `dnn_Net`, ...) and functions (`readNetFromTensorflow`, `blobFromImage`, ...). Typed
 * loosely on purpose: the package's own typings do not cover the DNN module.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type CV = Record<string, any>;

/**
 * The factory of an OpenCV.js build: the Emscripten function `cv(Module)` that the stock
 * `opencv.js` wraps in its UMD header. Called with a Module config (hooks such as
 * `instantiateWasm`, `wasmBinary`, `onRuntimeInitialized`), it starts the runtime and returns the
 * module object.
 */
export type OpenCVFactory = (moduleArg?: Record<string, unknown>) => unknown;

/** The OpenCV.js builds the adapters can pick (see {@link LoadOptions.build}). */
export type OpenCVBuild = 'auto' | 'simd-threads' | 'simd' | 'stock';

/**
 * Options of `loadOpenCV` and {@link createOpenCVLoader}.
 *
 * Where OpenCV.js comes from, first match wins: `module`, then `url`, then the bundled
 * `@techstark/opencv-js` (see `importModule`). Where its wasm comes from, first match wins:
 * `wasmModule`, then `wasmBinary`, then the copy embedded in the script. The wasm options need a
 * script the loader starts itself (`url`, a factory as `module`, or the package read as a script):
 * an imported package has started its runtime already.
 */
export interface LoadOptions {
  /**
   * Which build to load when neither `module` nor `url` is given (read by the runtime adapters, not
   * by {@link createOpenCVLoader}): `'simd-threads'`, the wasm SIMD + pthreads build shipped in this
   * package (`wasm/dist/simd-threads`, built from Debian's OpenCV sources by `wasm/build.sh`; Node:
   * `worker_threads`; browsers: a cross-origin isolated page or worker); `'simd'`, the
   * single-thread SIMD build (`wasm/dist/simd`); `'stock'`, the `@techstark/opencv-js` package (no
   * SIMD, no threads); `'auto'`, the fastest this engine runs, probed with `WebAssembly.validate`
   * (threads where wasm threads work and there is more than one core, else SIMD, else stock). A
   * forced build that cannot run here is an error. Default: `'auto'`.
   */
  build?: OpenCVBuild;
  /**
   * OpenCV threads of the threads build (`cv.setNumThreads`), the calling thread included, 1 to 4
   * (the build's worker pool). Default: the number of cores, at most 4.
   */
  threads?: number;
  /** Give up when the runtime has not initialized after this many milliseconds. Default: 30000. */
  timeoutMs?: number;
  /**
   * OpenCV.js the caller imported: the module object (`import cv from '@techstark/opencv-js'`,
   * initialized or not; its namespace with a `default` works too) or the build's factory (see
   * {@link OpenCVFactory}), which the loader calls with its own Module config. Default: none.
   */
  module?: CV | OpenCVFactory;
  /**
   * The URL of an `opencv.js` script (the stock UMD build or one shaped like it), fetched with
   * `fetch` and evaluated with `new Function` (a Content-Security-Policy must allow
   * `unsafe-eval`). Relative URLs resolve as `fetch` resolves them. Default: none.
   */
  url?: string | URL;
  /** The wasm bytes, compiled at load instead of the base64 copy embedded in the script. Default: none. */
  wasmBinary?: ArrayBuffer | Uint8Array;
  /**
   * The wasm precompiled, instantiated through Emscripten's `instantiateWasm` hook: for runtimes
   * that forbid compiling wasm at run time (Cloudflare Workers, Vercel Edge). Default: none.
   */
  wasmModule?: WebAssembly.Module;
  /** Fetches `url`. Default: `globalThis.fetch` (the Node adapter adds `file:` URLs). */
  fetch?: (url: string | URL) => Promise<Response>;
  /**
   * Imports the default OpenCV.js module. Must resolve with a namespace-like box whose `default` is
   * the module object (what `import()` of a CommonJS module gives), never with the module itself: the
   * module object has a `then` method, so a promise resolved with it never settles.
   * Default: where `import.meta.resolve('@techstark/opencv-js')` gives a `file:`/`http(s):` URL
   * that `fetch` reads, that script is evaluated as with `url` (and the wasm options apply);
   * otherwise `() => import('@techstark/opencv-js')`. Given, it replaces both.
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
const PACKAGE = '@techstark/opencv-js';

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

const loadError = (why: string, cause?: unknown) =>
  new FacenetDnnError('ERR_OPENCV', `Cannot load OpenCV.js: ${why}`, cause === undefined ? undefined : { cause });

/**
 * Watches an Emscripten module until its runtime is ready. `ready` resolves with `{ cv }` (a box:
 * see {@link LoadOptions.importModule}); `fail` rejects it (e.g. from an `instantiateWasm` hook).
 */
function watch(mod: CV): { ready: Promise<{ cv: CV }>; fail: (e: unknown) => void } {
  let fail: (e: unknown) => void = () => {};
  const ready = new Promise<{ cv: CV }>((resolve, reject) => {
    fail = reject;
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
      reject(loadError(`the runtime aborted (${String(what)})`));
    };
  });
  return { ready, fail };
}

/** Thrown by the fake AMD `define` to stop the UMD wrapper before it starts a runtime of its own. */
const STOP = Symbol('stop');

/**
 * The Emscripten factory inside the text of an `opencv.js` UMD build, without starting a runtime.
 *
 * The stock wrapper ends with `if (typeof Module === 'undefined') var Module = {}; return
 * cv(Module);`: the `var` is hoisted inside the wrapper's function, so an outer `Module` config is
 * never seen and the runtime always starts with `{}`. Its AMD branches are the way in: with a
 * `define` that has `.amd`, the outer wrapper calls `define(fn)`, `fn` runs the factory code, and
 * that hands the Emscripten factory to `define([], () => cv)` before `return cv(Module)`; throwing
 * there stops it. The text runs in a function whose parameters shadow `module`, `exports`,
 * `require` and `process`: Emscripten takes its Node path when `process.versions.node` exists, which
 * Deno and Bun define too, and that path needs CommonJS `require`/`__dirname` and installs
 * process-wide error handlers. Shadowed, it takes the web path where `window` exists, the worker
 * path where `importScripts` does, and the plain "shell" path (wasm decoded from the embedded
 * base64, no I/O) elsewhere: Node, Deno, Bun.
 */
function factoryFromScript(text: string, source: string): OpenCVFactory {
  let factory: unknown;
  const define = (deps: unknown, make?: unknown): void => {
    if (typeof deps === 'function') {
      // The outer UMD branch: `define(function () { return (root.cv = factory()); })`.
      try {
        deps();
      } catch (e) {
        if (e !== STOP) throw e;
      }
      return;
    }
    if (typeof make === 'function') {
      // The inner branch: `define([], function () { return cv; })`; stop before `cv(Module)`.
      factory = make();
      throw STOP;
    }
  };
  define.amd = {};
  let run: (...args: unknown[]) => unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    run = new Function('define', 'module', 'exports', 'require', 'process', `${text}\n//# sourceURL=${source}`) as typeof run;
  } catch (cause) {
    throw loadError(`"${source}" is not valid JavaScript (${message(cause)})`, cause);
  }
  try {
    run.call(globalThis, define, undefined, undefined, undefined, undefined);
  } catch (cause) {
    if (cause !== STOP) throw loadError(`evaluating "${source}" failed (${message(cause)})`, cause);
  }
  if (typeof factory !== 'function') {
    throw loadError(`"${source}" is not an OpenCV.js build (its UMD wrapper handed no factory to define())`);
  }
  return factory as OpenCVFactory;
}

/** `fetchFn(url)` with an OK status, or an ERR_OPENCV naming `what` (the script, or its wasm). */
async function fetchOk(url: string | URL, fetchFn: (url: string | URL) => Promise<Response>, what: string): Promise<Response> {
  let res: Response;
  try {
    res = await fetchFn(url);
  } catch (cause) {
    throw loadError(`fetching ${what} failed (${message(cause)})`, cause);
  }
  if (!res.ok) throw loadError(`fetching ${what} failed (HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''})`);
  return res;
}

async function fetchScript(url: string | URL, fetchFn: (url: string | URL) => Promise<Response>): Promise<string> {
  const source = `"${String(url)}"`;
  const res = await fetchOk(url, fetchFn, source);
  try {
    return await res.text();
  } catch (cause) {
    throw loadError(`reading ${source} failed (${message(cause)})`, cause);
  }
}

/**
 * The wasm file name of a build whose wasm is not embedded (`wasmBinaryFile="opencv_js.wasm"` in
 * Emscripten's glue), or undefined for a single-file build (a `data:` URI) or an unknown shape.
 */
export function separateWasmName(scriptText: string): string | undefined {
  const m = /\bwasmBinaryFile\s*=\s*["']([^"']+)["']/.exec(scriptText);
  if (!m || m[1]!.startsWith('data:')) return undefined;
  return /^[\w.-]+\.wasm$/.test(m[1]!) ? m[1] : undefined;
}

/** `url` made absolute against the page or worker location where there is one, else as given if absolute. */
function absoluteUrl(url: string | URL): string | undefined {
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  try {
    return new URL(String(url), base).href;
  } catch {
    return undefined; // relative, and nothing to resolve it against
  }
}

async function fetchWasm(url: string, fetchFn: (url: string | URL) => Promise<Response>): Promise<Uint8Array> {
  return new Uint8Array(await (await fetchOk(url, fetchFn, `the wasm "${url}"`)).arrayBuffer());
}

/** The module object out of what the caller handed in: the object, or a namespace's `default`. */
function unwrapModule(value: unknown): CV | OpenCVFactory {
  if (typeof value === 'function') return value as OpenCVFactory;
  if (!value || typeof value !== 'object') {
    throw new TypeError(`Cannot load OpenCV.js: module must be an OpenCV.js module object or factory, got ${value === null ? 'null' : typeof value}`);
  }
  if (value instanceof Promise) throw new TypeError('Cannot load OpenCV.js: module is a Promise; pass the module it resolves to (as { default }), not the promise');
  const v = value as CV;
  // A namespace (`await import('@techstark/opencv-js')`) has the module object as `default`; the
  // module object itself has Emscripten's members (`then`, `calledRun`, `Mat` once ready).
  const isModule = 'then' in v || 'calledRun' in v || 'Mat' in v || 'onRuntimeInitialized' in v;
  if (!isModule && v['default'] && (typeof v['default'] === 'object' || typeof v['default'] === 'function')) {
    return unwrapModule(v['default']);
  }
  return v;
}

/**
 * Starts a runtime from a factory with a Module config carrying the wasm source overrides. Both
 * wasm options go through `instantiateWasm` (not `Module.wasmBinary`) so that a failure rejects the
 * load instead of becoming an unhandled rejection inside Emscripten.
 */
function startFactory(factory: OpenCVFactory, options: LoadOptions, scriptUrl?: string): Promise<{ cv: CV }> {
  const config: CV = {};
  const { ready, fail } = watch(config);
  if (scriptUrl !== undefined) {
    // Files the build looks for beside its script (a threads build's `opencv_js.worker.js`) resolve
    // against the script, not the page: the script was evaluated, so Emscripten cannot know its URL.
    config['locateFile'] = (path: string) => new URL(path, scriptUrl).href;
    // A threads build's workers load the glue itself from here (`importScripts`).
    config['mainScriptUrlOrBlob'] = scriptUrl;
  }
  const { wasmModule, wasmBinary } = options;
  if (wasmModule !== undefined || wasmBinary !== undefined) {
    const what = wasmModule !== undefined ? 'wasmModule' : 'wasmBinary';
    config['instantiateWasm'] = (imports: WebAssembly.Imports, receive: (instance: WebAssembly.Instance, module?: WebAssembly.Module) => void) => {
      const started: Promise<{ instance: WebAssembly.Instance; module: WebAssembly.Module }> =
        wasmModule !== undefined
          ? WebAssembly.instantiate(wasmModule, imports).then((instance) => ({ instance, module: wasmModule }))
          : WebAssembly.instantiate(toBufferSource(wasmBinary!), imports);
      started.then(
        // The module goes along: a threads build sends it to its workers.
        (r) => receive(r.instance, r.module),
        (cause) => fail(loadError(`instantiating the ${what} failed (${message(cause)})`, cause)),
      );
      // Emscripten's contract: return the exports synchronously or {} when instantiating asynchronously.
      return {};
    };
  }
  try {
    factory(config);
  } catch (cause) {
    // Thrown synchronously by the factory; a numeric throw is a C++ exception pointer.
    fail(loadError(`the factory threw (${message(cause)})`, cause));
  }
  return ready;
}

function toBufferSource(bytes: ArrayBuffer | Uint8Array): BufferSource {
  if (bytes instanceof ArrayBuffer || ArrayBuffer.isView(bytes)) return bytes as BufferSource;
  throw new TypeError('Cannot load OpenCV.js: wasmBinary must be an ArrayBuffer or a Uint8Array');
}

/**
 * The URL of the package's script where the runtime resolves bare specifiers with
 * `import.meta.resolve` (Deno, Bun, Node ≥ 20.6, browsers with an import map), else undefined.
 */
function resolvePackageUrl(): string | undefined {
  const meta = import.meta as { resolve?: (specifier: string) => unknown };
  if (typeof meta.resolve !== 'function') return undefined;
  try {
    const url = meta.resolve(PACKAGE);
    // Deno answers `npm:` specifiers for packages it manages itself: not fetchable.
    return typeof url === 'string' && /^(https?|file):/.test(url) ? url : undefined;
  } catch {
    return undefined; // not resolvable here (a browser without an import map)
  }
}

function checkOptions(options: LoadOptions): void {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(timeoutMs > 0)) throw new RangeError(`Cannot load OpenCV.js: timeoutMs must be positive, got ${timeoutMs}`);
  if (options.wasmBinary !== undefined) toBufferSource(options.wasmBinary);
  if (options.wasmModule !== undefined && !(options.wasmModule instanceof WebAssembly.Module)) {
    throw new TypeError('Cannot load OpenCV.js: wasmModule must be a WebAssembly.Module');
  }
  if (options.url !== undefined && typeof options.url !== 'string' && !(options.url instanceof URL)) {
    throw new TypeError(`Cannot load OpenCV.js: url must be a string or a URL, got ${typeof options.url}`);
  }
}

async function load(options: LoadOptions): Promise<CV> {
  checkOptions(options);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const wantsWasm = options.wasmModule !== undefined || options.wasmBinary !== undefined;
  const sandbox = options.sandbox ?? (<T>(run: () => Promise<T>) => run());
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(loadError(`the runtime did not initialize within ${timeoutMs} ms`)), timeoutMs);
  });
  const start = async (): Promise<{ cv: CV }> => {
    if (options.module !== undefined) {
      const mod = unwrapModule(options.module);
      if (typeof mod === 'function') return startFactory(mod as OpenCVFactory, options);
      if (wantsWasm) {
        throw new TypeError('Cannot load OpenCV.js: wasmBinary and wasmModule need a url or a factory as module, not a module object that has started already');
      }
      return watch(mod).ready;
    }
    if (options.url !== undefined) {
      const fetchFn = options.fetch ?? ((u: string | URL) => globalThis.fetch(u));
      const text = await fetchScript(options.url, fetchFn);
      const factory = factoryFromScript(text, String(options.url));
      const scriptUrl = absoluteUrl(options.url);
      const wasmName = separateWasmName(text);
      if (wasmName !== undefined && !wantsWasm) {
        // A build whose wasm is a file beside the script (wasm/dist/*): fetched here, because
        // Emscripten's own lookup cannot work for an evaluated script (no script URL; no I/O at
        // all on the plain path that Deno and Bun take).
        if (scriptUrl === undefined) {
          throw loadError(`"${String(options.url)}" needs its ${wasmName} but its location is unknown: pass an absolute url, or wasmBinary/wasmModule`);
        }
        const wasmBinary = await fetchWasm(new URL(wasmName, scriptUrl).href, fetchFn);
        return startFactory(factory, { ...options, wasmBinary }, scriptUrl);
      }
      return startFactory(factory, options, scriptUrl);
    }
    const fetchFn = options.fetch ?? ((u: string | URL) => globalThis.fetch(u));
    let readFailure = '';
    if (!options.importModule) {
      // The package's script as a URL where the runtime resolves bare specifiers (Deno, Bun, an
      // import map in a page): evaluated like `url`, it avoids both `import()` of a thenable module
      // (Bun copies the module's `then` onto the namespace, so `await import()` never settles) and
      // Emscripten's Node path in Deno and Bun.
      const resolved = resolvePackageUrl();
      if (resolved) {
        let text: string | undefined;
        try {
          text = await fetchScript(resolved, fetchFn);
        } catch (e) {
          readFailure = `; ${message(e).replace(/^Cannot load OpenCV\.js: /, '')}`;
        }
        if (text !== undefined) return startFactory(factoryFromScript(text, resolved), options, resolved);
      }
    }
    if (wantsWasm) {
      throw loadError(`wasmBinary and wasmModule need a script the loader starts itself: pass url or a factory as module (${PACKAGE} could not be read as a script${readFailure})`);
    }
    const importModule = options.importModule ?? (() => import('@techstark/opencv-js') as Promise<{ default?: unknown }>);
    let ns: { default?: unknown };
    try {
      ns = await importModule();
    } catch (cause) {
      throw loadError(
        `importing the module failed (${message(cause)})${readFailure}; install ${PACKAGE} where this runtime resolves it, or pass url (an opencv.js URL) or module`,
        cause,
      );
    }
    const mod = (ns && typeof ns === 'object' && 'default' in ns ? ns.default : undefined) as CV | undefined;
    if (!mod || typeof mod !== 'object') throw loadError('the imported module has no default export object');
    return watch(mod).ready;
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
 * load with its options (merged over `defaults`); every later or concurrent call shares that one
 * load, whatever options it passes, so the Emscripten runtime is initialized once. After a failure
 * every call rejects at once with the same error.
 *
 * @example
 * ```ts
 * // A second, independent instance from a URL with a precompiled wasm.
 * const load = createOpenCVLoader({ url: '/vendor/opencv.js', wasmModule });
 * const cv = await load();
 * ```
 */
export function createOpenCVLoader(defaults: LoadOptions = {}): OpenCVLoader {
  return loadOnce((options) => load({ ...defaults, ...options }));
}

/**
 * A loader that runs `start` with the first call's options and hands every call that one result
 * (the instance, or the first failure). The instance travels boxed: it may be thenable.
 */
export function loadOnce(start: (options: LoadOptions) => Promise<CV>): OpenCVLoader {
  let pending: Promise<{ cv: CV }> | undefined;
  return (options: LoadOptions = {}) => {
    pending ??= start(options).then((cv) => ({ cv }));
    return pending.then((box) => box.cv);
  };
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

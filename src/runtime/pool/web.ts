/**
 * Web adapter of the FaceNet pool (browsers, workers, Deno): module Web Workers running
 * `pool-worker.web.js`, the worker entry tsup writes beside the web bundle (self-contained but for
 * OpenCV.js, which the web loader fetches). The `new Worker(new URL('./pool-worker.web.js',
 * import.meta.url), { type: 'module' })` form is spelled out literally so that bundlers (webpack 5,
 * Vite, esbuild with a plugin) see the worker and emit it with the app.
 */
import { FacenetDnnError } from '../../converter/errors.js';
import { wasmFeatures } from '../opencv/features.js';
import type { PoolEnvironment, PoolWorker } from './pool.js';
import type { Reply, Request } from './protocol.js';

/** The part of the `Worker` API the pool uses (browsers, Deno, Bun). */
export interface WebWorkerLike {
  postMessage(message: Request, options: { transfer: Transferable[] }): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<Reply>) => void): void;
  addEventListener(type: 'error' | 'messageerror', listener: (event: Event) => void): void;
  terminate(): void;
}

/** The cores a `workers: 'auto'` pool uses: `navigator.hardwareConcurrency`, 1 where unknown. */
export function webCores(): number {
  const n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return typeof n === 'number' && n >= 1 ? n : 1;
}

/** Wraps a started Web Worker running the pool's worker entry. */
export function wrapWebWorker(worker: WebWorkerLike): PoolWorker {
  let terminated = false;
  let died: string | undefined;
  let exitHandler: ((why: string) => void) | undefined;
  const die = (why: string) => {
    if (terminated || died !== undefined) return;
    died = why;
    exitHandler?.(why);
  };
  worker.addEventListener('error', (event) => {
    // Reported through the pool's rejections, not as an uncaught error of the page.
    event.preventDefault();
    const e = event as ErrorEvent;
    die(e.message ? `${e.message}${e.filename ? ` (${e.filename}:${e.lineno})` : ''}` : 'the worker script failed to load or threw');
  });
  worker.addEventListener('messageerror', () => die('a reply could not be read'));
  return {
    post: (message, transfer) => worker.postMessage(message, { transfer }),
    onMessage: (handler) => worker.addEventListener('message', (event) => handler(event.data)),
    onExit: (handler) => {
      exitHandler = handler;
      if (died !== undefined) handler(died);
    },
    terminate: () => {
      terminated = true;
      worker.terminate();
    },
  };
}

/** Starts one module worker running the bundled worker entry beside this file. */
export function spawnWebWorker(): PoolWorker {
  if (typeof Worker !== 'function') {
    throw new FacenetDnnError('ERR_OPENCV', 'Cannot start a FaceNet pool: this runtime has no Web Worker (use workers: 1)');
  }
  let worker: WebWorkerLike;
  try {
    worker = new Worker(new URL('./pool-worker.web.js', import.meta.url), { type: 'module' }) as unknown as WebWorkerLike;
  } catch (cause) {
    throw new FacenetDnnError(
      'ERR_OPENCV',
      `Cannot start a FaceNet pool worker from "./pool-worker.web.js" beside the facenet-dnn web bundle: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
  return wrapWebWorker(worker);
}

/** The pool environment of the web entry; `spawn` may be replaced (tests serve the worker elsewhere). */
export function webPoolEnvironment(spawn: PoolEnvironment['spawn'] = spawnWebWorker): PoolEnvironment {
  return {
    spawn,
    // One thread per worker: the SIMD build where wasm SIMD validates, else stock.
    singleThreadBuild: () => (wasmFeatures().simd ? 'simd' : 'stock'),
  };
}

/**
 * The one OpenCV.js instance of a runtime (process, page, worker) and who uses it. Web-standard
 * APIs only; both adapters hold one.
 *
 * `load()` pins the instance for the life of the runtime (a caller that got `cv` directly may hold
 * on to it forever). `acquire()` / `release()` count users instead: `createFaceNet` acquires and its
 * `dispose()` releases. When the last counted user releases an instance of a threads build and
 * nobody pinned it, its pthread workers are terminated and the instance is forgotten, so that a
 * later load starts a fresh one (the terminated instance cannot run parallel code any more: OpenCV's
 * thread pool would wait for workers that are gone). Single-thread builds are kept: they hold no
 * threads, and a reload would cost the initialization again.
 */
import type { CV, LoadOptions, OpenCVLoader } from './load.js';

/** See the module comment. */
export interface SharedOpenCV {
  /** Loads (once) and pins the instance. */
  load(options?: LoadOptions): Promise<CV>;
  /** Loads (once) and counts one more user of the instance. */
  acquire(options?: LoadOptions): Promise<CV>;
  /** One user fewer; may shut a threads build down (see the module comment). Ignores stale instances. */
  release(cv: CV): void;
}

/** Workers the threads build starts at load (its `PTHREAD_POOL_SIZE`): the most `threads` can be. */
export const THREAD_POOL_SIZE = 4;

/** Checks a `threads` option before anything loads. */
export function checkThreads(threads: number | undefined): void {
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1 && threads <= THREAD_POOL_SIZE)) {
    throw new RangeError(`Cannot load OpenCV.js: threads must be an integer from 1 to ${THREAD_POOL_SIZE} (the threads build's worker pool), got ${threads}`);
  }
}

/**
 * Sets the OpenCV thread count of a threads build: `threads`, else the cores, at most the pool
 * (more would need workers the glue makes later with the global `Worker`). No-op for other builds.
 */
export function applyThreads(cv: CV, threads: number | undefined, cores: number): void {
  if (cv['PThread'] && typeof cv['setNumThreads'] === 'function') cv['setNumThreads'](threads ?? Math.min(cores, THREAD_POOL_SIZE));
}

/**
 * Stops the pthread workers of a threads build; false for a build without threads.
 *
 * OpenCV's own worker threads are stopped and joined first (`setNumThreads(1)` does that when no
 * job runs). Emscripten's `terminateAllThreads` frees a running thread's stack and only then
 * terminates its worker, which happens asynchronously in Node: a worker still inside OpenCV's
 * thread loop at that moment could crash with "memory access out of bounds".
 */
export function terminateThreads(cv: CV): boolean {
  const pthread = cv['PThread'] as { terminateAllThreads?: () => void } | undefined;
  if (typeof pthread?.terminateAllThreads !== 'function') return false;
  if (typeof cv['setNumThreads'] === 'function') {
    try {
      cv['setNumThreads'](1);
    } catch {
      // A broken instance: terminate its workers anyway.
    }
  }
  pthread.terminateAllThreads();
  return true;
}

/** Makes the shared instance of one runtime; `makeLoader` gives a fresh loader each time one is needed. */
export function createSharedOpenCV(makeLoader: () => OpenCVLoader): SharedOpenCV {
  let loader = makeLoader();
  let current: Promise<CV> | undefined;
  let instance: CV | undefined;
  let users = 0;
  let pinned = false;
  const get = (options?: LoadOptions): Promise<CV> => {
    if (!current) {
      const p = loader(options);
      current = p;
      p.then(
        (cv) => {
          if (current === p) instance = cv;
        },
        () => undefined, // the loader keeps the failure for later calls
      );
    }
    return current;
  };
  return {
    load(options) {
      pinned = true;
      return get(options);
    },
    async acquire(options) {
      users++;
      try {
        return await get(options);
      } catch (e) {
        users--;
        throw e;
      }
    },
    release(cv) {
      if (cv !== instance || users === 0) return;
      users--;
      if (users > 0 || pinned) return;
      if (terminateThreads(cv)) {
        instance = undefined;
        current = undefined;
        loader = makeLoader();
      }
    },
  };
}

/**
 * Node adapter of the OpenCV.js loader. Loading opencv.js in Node installs
 * `process.on('uncaughtException')` (rethrows) and `process.on('unhandledRejection', abort)`
 * listeners: any unrelated rejected promise afterwards would abort the process and print the whole
 * 10.8 MB source. This adapter removes exactly the listeners added during the load.
 */
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

const shared = createOpenCVLoader({ sandbox: withProcessListenersRestored });

/**
 * Loads OpenCV.js in Node once per process (later and concurrent calls share the load; a failure
 * is returned to every later call) and leaves no process listeners behind.
 *
 * @throws {FacenetDnnError} `ERR_OPENCV` when the import fails, the runtime aborts or does not
 *   initialize within `timeoutMs` (default 30000).
 * @example
 * ```ts
 * import { loadOpenCV } from 'facenet-dnn/runtime/opencv/node';
 * const cv = await loadOpenCV({ timeoutMs: 10_000 });
 * ```
 */
export function loadOpenCV(options?: LoadOptions): Promise<CV> {
  return shared(options);
}

export type { CV, LoadOptions };

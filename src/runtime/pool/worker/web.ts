/**
 * The Web Worker entry of the FaceNet pool (bundled, with its dependencies, as
 * `dist/pool-worker.web.js`; started as a module worker): serves one FaceNet on this worker's own
 * OpenCV.js, loaded by the web loader (counted: the worker's dispose gives it back, which stops a
 * threads build's threads). Browsers, Deno, Bun.
 */
import { acquireOpenCV, releaseOpenCV } from '../../opencv/web.js';
import type { Reply, Request } from '../protocol.js';
import { serveFaceNet } from './serve.js';

/** The part of a dedicated worker's global scope used here (the DOM lib types `self` as a Window). */
interface WorkerScope {
  postMessage(message: Reply, options: { transfer: Transferable[] }): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<Request>) => void): void;
}

const scope = globalThis as unknown as WorkerScope;
serveFaceNet(
  {
    post: (message, transfer) => scope.postMessage(message, { transfer }),
    onMessage: (handler) => scope.addEventListener('message', (event) => handler(event.data)),
  },
  { loadOpenCV: acquireOpenCV, releaseOpenCV },
);

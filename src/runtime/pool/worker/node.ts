/**
 * The Node worker entry of the FaceNet pool (bundled as `dist/pool-worker.node.js`): serves one
 * FaceNet on this thread's own OpenCV.js, loaded by the Node loader (SIMD/stock builds, `file:`
 * URLs, process listeners restored).
 */
import { parentPort } from 'node:worker_threads';
import { acquireOpenCV, releaseOpenCV } from '../../opencv/node.js';
import { serveFaceNet } from './serve.js';

if (!parentPort) throw new Error('Cannot serve a FaceNet pool: this file runs as a worker_threads worker, not as a main script');
const port = parentPort;
serveFaceNet(
  {
    post: (message, transfer) => port.postMessage(message, transfer),
    onMessage: (handler) => {
      port.on('message', handler);
    },
  },
  { loadOpenCV: acquireOpenCV, releaseOpenCV },
);

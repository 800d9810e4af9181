/**
 * Child process of test/runtime/threads.test.ts: a fresh Node process per scenario, so that the
 * one-per-process OpenCV.js instance and process exit can be observed. Prints one JSON line.
 *
 *   tsx threads-child.ts exit-without-dispose   # loads the threads build, embeds, returns: must exit
 *   tsx threads-child.ts dispose-cycle          # two FaceNets, dispose both, then a third
 *   tsx threads-child.ts threads N              # loadOpenCV({ build: 'simd-threads', threads: N })
 */
import { readFileSync } from 'node:fs';
import { createFaceNet, loadOpenCV } from '../../../src/index.node.js';
import { acquireOpenCV, releaseOpenCV } from '../../../src/runtime/opencv/node.js';

const [scenario, arg] = process.argv.slice(2);
const model = new Uint8Array(readFileSync(new URL('../../../fixtures/facenet-tiny.pb', import.meta.url)));
const photo = new Uint8Array(readFileSync(new URL('../../../../shared/images/Anthony_Hopkins_0001.jpg', import.meta.url)));
const workers = (cv: Record<string, any>) => ({
  unused: cv['PThread']?.unusedWorkers.length ?? null,
  running: cv['PThread']?.runningWorkers.length ?? null,
});
const out = (x: unknown) => process.stdout.write(`${JSON.stringify(x)}\n`);

if (scenario === 'exit-without-dispose') {
  const cv = await loadOpenCV({ build: 'simd-threads' });
  const f = await createFaceNet({ model, cv });
  const e = await f.embed(photo);
  out({ threads: cv['getNumThreads'](), ...workers(cv), workerGlobal: typeof (globalThis as { Worker?: unknown }).Worker, head: Array.from(e.slice(0, 4)) });
  // No dispose, no process.exit: the process must end by itself.
} else if (scenario === 'dispose-cycle') {
  const a = await createFaceNet({ model, opencv: { build: 'simd-threads' } });
  const b = await createFaceNet({ model });
  const ea = await a.embed(photo);
  const eb = await b.embed(photo);
  // Reach the instance the FaceNets share through a third, pinned-free path: the embeddings.
  await a.dispose();
  const afterFirst = await b.embed(photo); // b must still work: a's dispose left the threads alone
  await b.dispose();
  const c = await createFaceNet({ model }); // a fresh instance after the last dispose
  const ec = await c.embed(photo);
  await c.dispose();
  const same = (x: Float32Array, y: Float32Array) => x.every((v, i) => v === y[i]);
  // The counting underneath, observed directly: two users, the second release stops the workers.
  const cv1 = await acquireOpenCV();
  const cv1b = await acquireOpenCV();
  const before = workers(cv1);
  releaseOpenCV(cv1);
  const afterOne = workers(cv1);
  releaseOpenCV(cv1b);
  const afterBoth = workers(cv1);
  const cv2 = await acquireOpenCV();
  const fresh = cv2 !== cv1;
  releaseOpenCV(cv2);
  out({ abSame: same(ea, eb), afterFirstSame: same(ea, afterFirst), freshSame: same(ea, ec), sameInstance: cv1 === cv1b, before, afterOne, afterBoth, fresh });
} else if (scenario === 'threads') {
  try {
    const cv = await loadOpenCV({ build: 'simd-threads', threads: Number(arg) });
    out({ threads: cv['getNumThreads'](), ...workers(cv) });
  } catch (e) {
    out({ error: `${(e as Error).name}: ${(e as Error).message}` });
  }
} else {
  throw new Error(`unknown scenario ${scenario}`);
}

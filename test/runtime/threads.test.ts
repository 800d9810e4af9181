/**
 * The SIMD+threads OpenCV.js build (wasm/dist/simd-threads) in Node: picked by `build: 'auto'` where
 * wasm threads validate on a multi-core machine, same embeddings as the stock build within 1e-5,
 * workers that never keep the process alive, and threads stopped by the last `dispose()`. The
 * process-level behaviour runs in child processes (support/threads-child.ts): one OpenCV.js per process.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createOpenCVLoader } from '../../src/runtime/opencv/load.js';
import { buildFiles, createNodeOpenCVLoader, fetchOrReadFile, resolveBuild, THREAD_POOL_SIZE, withProcessListenersRestored } from '../../src/runtime/opencv/node.js';
import { wasmFeatures } from '../../src/runtime/opencv/features.js';
import { terminateThreads } from '../../src/runtime/opencv/shared.js';
import { PHOTOS, tinyEmbeddings } from './support/tiny-embed.js';
import { maxAbsDiff } from '../support/numeric.js';
import { runChild } from '../support/child.js';

const require = createRequire(import.meta.url);
const CHILD = fileURLToPath(new URL('./support/threads-child.ts', import.meta.url));
const files = buildFiles('simd-threads');
const child = (...args: string[]) => runChild(CHILD, args, 90_000);


test('the threads build is committed and auto picks it where wasm threads validate on several cores', () => {
  assert.ok(files, 'wasm/dist/simd-threads has opencv_js.js, opencv_js.wasm and opencv_js.worker.js');
  const f = wasmFeatures();
  assert.ok(f.simd && f.threads, 'Node 20 validates wasm SIMD and shared memory');
  assert.is(resolveBuild('auto'), availableParallelism() > 1 ? 'simd-threads' : 'simd');
  assert.is(resolveBuild('simd-threads'), 'simd-threads');
  assert.is(resolveBuild('simd'), 'simd');
});

test('threads build embeddings equal the stock build within 1e-5 (tiny FaceNet-anatomy, real photos, batch 3)', async () => {
  const stock = await createOpenCVLoader({ sandbox: withProcessListenersRestored, fetch: fetchOrReadFile })({ url: pathToFileURL(require.resolve('@techstark/opencv-js')) });
  // The Node adapter's own path (require of the glue, wasm handed in, workers unref'd), as an
  // instance of its own.
  const g = globalThis as { Worker?: unknown };
  const workerBefore = g.Worker;
  const mt = await createNodeOpenCVLoader()({ build: 'simd-threads', threads: 2 });
  assert.ok(g.Worker === workerBefore, 'the Worker global the glue sets is put back as it was');
  assert.is(mt['getNumThreads'](), 2);
  const [a, b] = [await tinyEmbeddings(stock), await tinyEmbeddings(mt)];
  for (let i = 0; i < PHOTOS.length; i++) {
    const d = maxAbsDiff(a[i]!, b[i]!);
    assert.ok(d <= 1e-5, `photo ${i}: max |Δ| ${d}`);
  }
  assert.ok(mt['PThread'].runningWorkers.length >= 1, 'the forward ran on a pthread worker');
  assert.ok(maxAbsDiff(a[0]!, a[2]!) > 1e-3, 'different photos differ');
  assert.ok(terminateThreads(mt), 'the threads build has pthread workers to stop');
});

test('a process that loaded the threads build and embedded exits by itself, with no global Worker left', () => {
  const r = child('exit-without-dispose');
  assert.is(r.status, 0, `exit status (stderr: ${r.stderr.slice(-500)})`);
  assert.is(r.json['threads'], Math.min(availableParallelism(), THREAD_POOL_SIZE));
  assert.is(r.json['running'], (r.json['threads'] as number) - 1, 'OpenCV runs threads − 1 workers beside the calling thread');
  assert.is(r.json['workerGlobal'], 'undefined');
  assert.is((r.json['head'] as number[]).length, 4);
});

test('dispose(): the last user of the threads build stops its workers; a later FaceNet gets a fresh instance', () => {
  const r = child('dispose-cycle');
  assert.is(r.status, 0, r.stderr.slice(-500));
  assert.equal(r.json, {
    abSame: true,
    afterFirstSame: true,
    freshSame: true,
    sameInstance: true,
    before: { unused: THREAD_POOL_SIZE, running: 0 },
    afterOne: { unused: THREAD_POOL_SIZE, running: 0 },
    afterBoth: { unused: 0, running: 0 },
    fresh: true,
  });
});

test('threads sets the OpenCV thread count; outside 1…4 it is a RangeError', () => {
  assert.equal(child('threads', '1').json, { threads: 1, unused: THREAD_POOL_SIZE, running: 0 });
  assert.equal(child('threads', '3').json, { threads: 3, unused: THREAD_POOL_SIZE, running: 0 });
  const bad = child('threads', '5').json['error'] as string;
  assert.match(bad, /^RangeError: .*threads must be an integer from 1 to 4.*got 5/);
});

test.run();

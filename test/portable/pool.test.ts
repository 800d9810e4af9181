/**
 * The FaceNet pool on module Web Workers (src/runtime/pool/web.ts) running the bundled worker entry
 * `dist/pool-worker.web.js` (built by `npm test`'s pretest): embeddings bit-identical to one
 * in-thread instance of the same build and within 1e-5 of TensorFlow semantics (tfjs on the
 * ORIGINAL graph), input order, errors with their face index, dispose. Runs where Web Workers can be
 * started from the harness's server: a Chromium page, a Chromium worker (nested workers), Deno and
 * Bun (from a blob: URL of the same file: Deno refuses http workers without --allow-import, Bun
 * cannot import an http worker). Node has no Web Worker: its pool (worker_threads) is
 * test/runtime/pool.test.ts.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FacenetDnnError } from '../../src/converter/errors.js';
import { decodeGraph } from '../../src/converter/proto/codec.js';
import { createFaceNetIn, type FaceInput, type FaceNet } from '../../src/runtime/embed/facenet.js';
import { wasmFeatures } from '../../src/runtime/opencv/features.js';
import { createOpenCVLoader, type LoadOptions } from '../../src/runtime/opencv/load.js';
import { createFaceNetPool, type PoolEnvironment } from '../../src/runtime/pool/pool.js';
import { webPoolEnvironment, wrapWebWorker, type WebWorkerLike } from '../../src/runtime/pool/web.js';
import { preprocess, type FaceBox } from '../../src/runtime/preprocess/index.js';
import { runReference } from '../support/reference.js';
import { maxAbsDiff } from '../support/numeric.js';
import { BASE, RUNTIME, repoBytes, sharedBytes } from './support/env.js';

const PHOTOS: Array<[string, FaceBox]> = [
  ['Anthony_Hopkins_0001.jpg', { x1: 70, y1: 60, x2: 180, y2: 190 }],
  ['Anthony_Hopkins_0002.jpg', { x1: 65, y1: 55, x2: 185, y2: 195 }],
  ['emotion_happy.jpg', { x1: 80, y1: 100, x2: 280, y2: 350 }],
  ['emotion_test.jpg', { x1: 60, y1: 60, x2: 290, y2: 340 }],
  ['hse_test_image.jpg', { x1: 300, y1: 100, x2: 480, y2: 330 }],
];
const FACE = 160 * 160 * 3;
const boxes = PHOTOS.map(([, b]) => b);

/** Why this runtime cannot run the pool, or undefined when it can. */
function skipReason(): string | undefined {
  if (!BASE) return 'run from source in Node: no Web Worker (the worker_threads pool is test/runtime/pool.test.ts)';
  if (RUNTIME === 'node') return 'Node has no Web Worker (the worker_threads pool is test/runtime/pool.test.ts)';
  if (typeof (globalThis as { Worker?: unknown }).Worker !== 'function') return `${RUNTIME} has no Web Worker here`;
  return undefined;
}

const identical = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  assert.unreachable('expected a rejection');
  throw new Error('unreachable');
}

async function rejects(p: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  const e = await rejection(p);
  assert.instance(e, FacenetDnnError, `${e.name}: ${e.message}`);
  assert.is((e as FacenetDnnError).code, code, e.message);
  assert.match(e.message, pattern, e.message);
}

const reason = skipReason();
if (reason) {
  console.log(`[pool] skipped in ${RUNTIME}: ${reason}`);
  test.skip(`pool on Web Workers (skipped in ${RUNTIME}: ${reason})`, () => undefined);
} else {
  let raw: Uint8Array;
  let photos: Uint8Array[];
  let opencv: LoadOptions;
  let single: FaceNet;
  let pool: FaceNet;
  let workerUrl: string;

  /**
   * A pool environment starting the bundled worker served by the harness (as a blob: URL where an
   * http worker is refused), recording which workers it started and terminated.
   */
  const recording = (): { env: PoolEnvironment; started: number[]; terminated: number[] } => {
    const started: number[] = [];
    const terminated: number[] = [];
    const env: PoolEnvironment = {
      ...webPoolEnvironment(),
      spawn: (i) => {
        const pw = wrapWebWorker(new Worker(workerUrl, { type: 'module' }) as unknown as WebWorkerLike);
        started.push(i);
        return {
          ...pw,
          terminate: () => {
            terminated.push(i);
            return pw.terminate();
          },
        };
      },
    };
    return { env, started, terminated };
  };

  const reference = async (nhwc: Float32Array, n: number): Promise<Float32Array> => {
    const [out] = await runReference(
      decodeGraph(raw),
      { input: { shape: [n, 160, 160, 3], data: nhwc }, phase_train: { shape: [], data: new Uint8Array([0]), dtype: 'bool' } },
      ['embeddings'],
    );
    assert.equal(out!.shape, [n, 512]);
    return out!.data;
  };

  test.before(async () => {
    raw = await repoBytes('fixtures/facenet-tiny.pb');
    photos = await Promise.all(PHOTOS.map(([p]) => sharedBytes(`images/${p}`)));
    const url = `${BASE}dist/pool-worker.web.js`;
    const res = await fetch(url);
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status} (build the package first: npm run build; npm test does it)`);
    const text = await res.text();
    workerUrl = RUNTIME === 'deno' || RUNTIME === 'bun' ? URL.createObjectURL(new Blob([text], { type: 'text/javascript' })) : url;
    // The same build on both sides, given explicitly: the SIMD build (its wasm handed over), else stock.
    opencv = wasmFeatures().simd
      ? { url: `${BASE}wasm/dist/simd/opencv.js`, wasmBinary: await repoBytes('wasm/dist/simd/opencv_js.wasm') }
      : { url: `${BASE}node_modules/@techstark/opencv-js/dist/opencv.js` };
    const cv = await createOpenCVLoader()(opencv);
    single = await createFaceNetIn({ loadOpenCV: async () => cv }, { model: raw, cv });
    pool = await createFaceNetPool(recording().env, { model: raw, opencv }, 2);
  });

  test.after(async () => {
    await single?.dispose();
    await pool?.dispose();
  });

  test(`pool on Web Workers in ${RUNTIME}: embed is bit-identical to one instance and within 1e-5 of TF, with and without a box`, async () => {
    assert.ok(pool.converted, 'converted once, in this thread');
    for (let i = 0; i < photos.length; i++) {
      for (const opts of [undefined, { box: boxes[i]! }]) {
        const got = await pool.embed(photos[i]!, opts);
        const want = await single.embed(photos[i]!, opts);
        assert.ok(identical(got, want), `${PHOTOS[i]![0]} ${opts ? 'box' : 'whole'}: max |Δ| vs one instance ${maxAbsDiff(got, want)}`);
        const d = maxAbsDiff(got, await reference(await preprocess(photos[i]!, opts), 1));
        assert.ok(d <= 1e-5, `${PHOTOS[i]![0]}: max |Δ| vs TF ${d}`);
      }
    }
  });

  test('pool: embedBatch (mixed boxes) in input order, bit-identical, within 1e-5 of TF; RGBA pixels too', async () => {
    const faces: Array<Uint8Array | FaceInput> = photos.map((image, i) => (i % 2 ? { image, box: boxes[i]! } : image));
    const got = await pool.embedBatch(faces);
    const want = await single.embedBatch(faces);
    const x = new Float32Array(faces.length * FACE);
    for (let i = 0; i < faces.length; i++) x.set(await preprocess(photos[i]!, i % 2 ? { box: boxes[i]! } : {}), i * FACE);
    const ref = await reference(x, faces.length);
    for (let i = 0; i < faces.length; i++) {
      assert.ok(identical(got[i]!, want[i]!), `row ${i}: max |Δ| vs one instance ${maxAbsDiff(got[i]!, want[i]!)}`);
      assert.ok(maxAbsDiff(got[i]!, ref.subarray(i * 512, (i + 1) * 512)) <= 1e-5, `row ${i} vs TF`);
    }
    const reversed = await pool.embedBatch([...faces].reverse());
    for (let i = 0; i < faces.length; i++) assert.ok(identical(reversed[faces.length - 1 - i]!, got[i]!), `reversed row ${i}`);
    assert.ok(maxAbsDiff(got[0]!, got[2]!) > 1e-3, 'different photos differ');
    // ImageData-shaped RGBA pixels (what a canvas gives) cross to the worker as well.
    const rgba = { width: 64, height: 48, data: new Uint8ClampedArray(64 * 48 * 4).map((_, i) => (i * 37) % 251) };
    assert.ok(identical(await pool.embed(rgba), await single.embed(rgba)), 'RGBA pixels');
  });

  test('pool: embedTensor splits across the workers, bit-identical and within 1e-5 of TF', async () => {
    const n = photos.length;
    const x = new Float32Array(n * FACE);
    for (let i = 0; i < n; i++) x.set(await preprocess(photos[i]!), i * FACE);
    const got = await pool.embedTensor(x, n);
    assert.ok(identical(got, await single.embedTensor(x, n)), 'vs one instance');
    assert.ok(maxAbsDiff(got, await reference(x, n)) <= 1e-5, 'vs TF');
  });

  test('pool: an invalid image rejects with ERR_IMAGE naming its index; the pool keeps working', async () => {
    const faces: Uint8Array[] = [...photos];
    faces[4] = new Uint8Array([1, 2, 3]); // in the second worker's chunk
    await rejects(pool.embedBatch(faces), 'ERR_IMAGE', /^Face 4: Cannot decode image/);
    await rejects(pool.embed(new Uint8Array([1, 2, 3])), 'ERR_IMAGE', /^Cannot decode image/);
    assert.ok(identical(await pool.embed(photos[1]!), await single.embed(photos[1]!)), 'still right');
  });

  test('pool: a bad model rejects createFaceNet and terminates the workers; dispose rejects later calls', async () => {
    const bad = recording();
    await rejects(createFaceNetPool(bad.env, { model: photos[0]!, opencv }, 2), 'ERR_DECODE', /JPEG/);
    assert.equal(bad.started, [0, 1]);
    assert.equal(bad.terminated.sort(), [0, 1], 'both workers terminated');
    await pool.dispose();
    await pool.dispose();
    await rejects(pool.embed(photos[0]!), 'ERR_OPENCV', /disposed/);
  });

  test('pool: a worker script that cannot load rejects createFaceNet with the worker named', async () => {
    const missing: PoolEnvironment = {
      ...webPoolEnvironment(),
      spawn: () => wrapWebWorker(new Worker(`${BASE}dist/no-such-pool-worker.js`, { type: 'module' }) as unknown as WebWorkerLike),
    };
    // Both workers fail to load: the error names one of them (its failure can arrive before or after the load call is sent).
    await rejects(createFaceNetPool(missing, { model: raw, opencv }, 2), 'ERR_OPENCV', /^Cannot run FaceNet: pool worker [01] stopped \(.+\)/);
  });
}

test.run();

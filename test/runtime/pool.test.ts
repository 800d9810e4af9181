/**
 * createFaceNet({ workers }) in Node: a pool of worker_threads behind the FaceNet API. Embeddings are
 * bit-identical to one in-thread instance of the same (SIMD) build and within 1e-5 of TensorFlow
 * semantics (tfjs on the ORIGINAL graph, phase_train=false); batches come back in input order;
 * errors keep their class, code and face index; dispose, dead workers, bad models, and process exit
 * (child processes: support/pool-child.ts).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runChild } from '../support/child.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { FacenetDnnError } from '../../src/converter/errors.js';
import { decodeGraph, encodeGraph } from '../../src/converter/proto/codec.js';
import { createFaceNetIn, type FaceInput, type FaceNet } from '../../src/runtime/embed/facenet.js';
import { createFaceNet } from '../../src/runtime/embed/node.js';
import { createOpenCVLoader, type CV } from '../../src/runtime/opencv/load.js';
import { buildFiles, fetchOrReadFile, withProcessListenersRestored } from '../../src/runtime/opencv/node.js';
import { nodePoolEnvironment, startNodeWorker, wrapNodeWorker } from '../../src/runtime/pool/node.js';
import { createFaceNetPool, poolSize, type PoolEnvironment } from '../../src/runtime/pool/pool.js';
import { preprocess, type FaceBox } from '../../src/runtime/preprocess/index.js';
import { a, GraphBuilder } from '../support/builder.js';
import { maxAbsDiff } from '../support/numeric.js';
import { runReference } from '../support/reference.js';
import { readShared } from '../support/shared.js';

const CHILD = fileURLToPath(new URL('./support/pool-child.ts', import.meta.url));
const FACE = 160 * 160 * 3;
// Six real photos, each with a face box inside it (for the margin-rule crop).
const PHOTOS: Array<[string, FaceBox]> = [
  ['Anthony_Hopkins_0001.jpg', { x1: 70, y1: 60, x2: 180, y2: 190 }],
  ['Anthony_Hopkins_0002.jpg', { x1: 65, y1: 55, x2: 185, y2: 195 }],
  ['emotion_happy.jpg', { x1: 80, y1: 100, x2: 280, y2: 350 }],
  ['emotion_test.jpg', { x1: 60, y1: 60, x2: 290, y2: 340 }],
  ['hse_test_image.jpg', { x1: 300, y1: 100, x2: 480, y2: 330 }],
  ['aizoo_demo2.jpg', { x1: 150, y1: 50, x2: 320, y2: 260 }],
];

const raw = new Uint8Array(readFileSync(new URL('../../fixtures/facenet-tiny.pb', import.meta.url)));
const photos = PHOTOS.map(([f]) => readShared(`images/${f}`));
const boxes = PHOTOS.map(([, b]) => b);

let simd: CV;
let single: FaceNet; // one in-thread instance on its own SIMD OpenCV.js
let pool: FaceNet; // createFaceNet({ workers: 2, opencv: { build: 'simd' } })

/** A Node pool environment that records the workers it starts (to kill one, to see them exit). */
function recordingEnv(): { env: PoolEnvironment; workers: Worker[]; exited: () => number; posts: number[] } {
  const workers: Worker[] = [];
  const posts: number[] = [];
  let exits = 0;
  const base = nodePoolEnvironment();
  const env: PoolEnvironment = {
    ...base,
    spawn: (i) => {
      const w = startNodeWorker();
      w.on('exit', () => exits++);
      workers.push(w);
      posts[i] = 0;
      const pw = wrapNodeWorker(w);
      return {
        ...pw,
        post: (m, t) => {
          if (m.op === 'embed' || m.op === 'embedBatch' || m.op === 'embedTensor') posts[i]!++;
          pw.post(m, t);
        },
      };
    },
  };
  return { env, workers, exited: () => exits, posts };
}

async function reference(nhwc: Float32Array, n: number): Promise<Float32Array> {
  const [out] = await runReference(
    decodeGraph(raw),
    { input: { shape: [n, 160, 160, 3], data: nhwc }, phase_train: { shape: [], data: new Uint8Array([0]), dtype: 'bool' } },
    ['embeddings'],
  );
  assert.equal(out!.shape, [n, 512]);
  return out!.data;
}

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
  assert.match(e.message, pattern);
}

const child = (scenario: string) => runChild(CHILD, [scenario], 180_000);
const identical = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));


test.before(async () => {
  const files = buildFiles('simd');
  assert.ok(files, 'wasm/dist/simd is committed');
  // Its own SIMD instance (not the process-wide one another test file may have loaded as another build).
  simd = await createOpenCVLoader({ sandbox: withProcessListenersRestored, fetch: fetchOrReadFile })({
    url: pathToFileURL(files!.script),
    wasmBinary: new Uint8Array(readFileSync(files!.wasm)),
  });
  single = await createFaceNetIn({ loadOpenCV: async () => simd }, { model: raw, cv: simd });
  pool = await createFaceNet({ model: raw, workers: 2, opencv: { build: 'simd' } });
});

test.after(async () => {
  await single?.dispose();
  await pool?.dispose();
});

test('workers: validated; absent or 1 is the in-thread instance; auto is one per core', async () => {
  assert.is(poolSize(undefined, 8), 1);
  assert.is(poolSize(1, 8), 1);
  assert.is(poolSize(3, 1), 3);
  assert.is(poolSize('auto', 8), 8);
  assert.is(poolSize('auto', 1), 1, 'auto on one core: no pool');
  for (const bad of [0, -1, 1.5, Number.NaN, 'all', '2']) {
    const e = await rejection(createFaceNet({ model: raw, workers: bad as never }));
    assert.instance(e, RangeError, String(bad));
    assert.match(e.message, /workers must be 'auto' or a positive integer/);
  }
  // `cv` is an instance of this thread: fine without a pool, refused with one.
  const one = await createFaceNet({ model: raw, cv: simd, workers: 1 });
  assert.ok(identical(await one.embed(photos[0]!), await single.embed(photos[0]!)), 'workers: 1 runs on the given cv');
  await one.dispose();
  const e = await rejection(createFaceNet({ model: raw, cv: simd, workers: 2 }));
  assert.instance(e, TypeError);
  assert.match(e.message, /cv .* cannot be shared with workers/);
  assert.ok(pool.converted, 'the raw graph was converted (once, in this thread) and reported');
  assert.is(pool.converted!.opsAfter['Switch'], undefined);
  assert.is(pool.dim, 512);
  assert.is(pool.imageSize, 160);
});

test('embed: bit-identical to one SIMD instance and within 1e-5 of TF, with and without a face box', async () => {
  for (let i = 0; i < photos.length; i++) {
    for (const opts of [undefined, { box: boxes[i]! }]) {
      const got = await pool.embed(photos[i]!, opts);
      const want = await single.embed(photos[i]!, opts);
      assert.ok(identical(got, want), `${PHOTOS[i]![0]} ${opts ? 'box' : 'whole'}: max |Δ| vs one instance ${maxAbsDiff(got, want)}`);
      const d = maxAbsDiff(got, await reference(await preprocess(photos[i]!, opts), 1));
      assert.ok(d <= 1e-5, `${PHOTOS[i]![0]} ${opts ? 'box' : 'whole'}: max |Δ| vs TF ${d}`);
    }
  }
});

test('embedBatch of 6 photos (whole, boxed, mixed): input order, bit-identical to one instance, within 1e-5 of TF', async () => {
  const whole = photos;
  const boxed: FaceInput[] = photos.map((image, i) => ({ image, box: boxes[i]! }));
  const mixed = photos.map((image, i) => (i % 2 ? { image, box: boxes[i]! } : image));
  for (const [name, faces] of [['whole', whole], ['boxed', boxed], ['mixed', mixed]] as const) {
    const got = await pool.embedBatch(faces);
    const want = await single.embedBatch(faces);
    assert.is(got.length, faces.length);
    const x = new Float32Array(faces.length * FACE);
    for (let i = 0; i < faces.length; i++) {
      const f = faces[i]!;
      x.set(await preprocess(f instanceof Uint8Array ? f : f.image, f instanceof Uint8Array ? {} : { box: f.box! }), i * FACE);
    }
    const ref = await reference(x, faces.length);
    for (let i = 0; i < faces.length; i++) {
      assert.ok(identical(got[i]!, want[i]!), `${name} row ${i}: max |Δ| vs one instance ${maxAbsDiff(got[i]!, want[i]!)}`);
      const d = maxAbsDiff(got[i]!, ref.subarray(i * 512, (i + 1) * 512));
      assert.ok(d <= 1e-5, `${name} row ${i}: max |Δ| vs TF ${d}`);
    }
  }
  // Input order: the reversed batch gives the reversed rows (and the photos differ from each other).
  const forward = await pool.embedBatch(photos);
  const reversed = await pool.embedBatch([...photos].reverse());
  for (let i = 0; i < photos.length; i++) assert.ok(identical(reversed[photos.length - 1 - i]!, forward[i]!), `reversed row ${i}`);
  for (let i = 1; i < photos.length; i++) assert.ok(maxAbsDiff(forward[0]!, forward[i]!) > 1e-3, `photo ${i} differs from photo 0`);
  assert.equal(await pool.embedBatch([]), []);
  // The caller's buffers are copied, never transferred away: a Node Buffer stays readable.
  const buf = readFileSync(new URL(`../../../shared/images/${PHOTOS[0]![0]}`, import.meta.url));
  const pixels = { width: 40, height: 30, channels: 3 as const, data: Buffer.alloc(40 * 30 * 3, 7) };
  assert.ok(identical(await pool.embed(buf), await single.embed(photos[0]!)), 'a Buffer');
  await pool.embedBatch([buf, pixels]);
  assert.is(buf.length, photos[0]!.length, 'the Buffer is intact');
  assert.is(buf[0], 0xff);
  assert.is(pixels.data.length, 40 * 30 * 3);
  assert.is(pixels.data[5], 7);
});

test('embedTensor splits faces across the workers: bit-identical to one instance, within 1e-5 of TF', async () => {
  for (const n of [1, 2, 5]) {
    const x = new Float32Array(n * FACE);
    for (let i = 0; i < n; i++) x.set(await preprocess(photos[i]!, { box: boxes[i]! }), i * FACE);
    const copy = x.slice();
    const got = await pool.embedTensor(x, n);
    assert.ok(identical(x, copy), 'the caller\'s tensor is left as it was (not transferred away)');
    const want = await single.embedTensor(x, n);
    assert.is(got.length, n * 512);
    assert.ok(identical(got, want), `n=${n}: max |Δ| vs one instance ${maxAbsDiff(got, want)}`);
    const d = maxAbsDiff(got, await reference(x, n));
    assert.ok(d <= 1e-5, `n=${n}: max |Δ| vs TF ${d}`);
  }
  assert.throws(() => pool.embedTensor(new Float32Array(FACE + 1), 1), (e: Error) => e instanceof RangeError && /not 1 faces of 160×160×3/.test(e.message));
  assert.throws(() => pool.embedTensor([] as unknown as Float32Array, 1), (e: Error) => e instanceof TypeError);
});

test('an invalid image rejects with ERR_IMAGE naming its index in the batch; the pool keeps working', async () => {
  const junk = new Uint8Array([1, 2, 3]);
  // Index 4 of 6 is in the second worker's chunk (faces 3-5): its own index there is 1.
  for (const bad of [1, 4, 5]) {
    const faces: Array<Uint8Array | FaceInput> = photos.map((p) => p);
    faces[bad] = junk;
    await rejects(pool.embedBatch(faces), 'ERR_IMAGE', new RegExp(`^Face ${bad}: Cannot decode image`));
  }
  // Two bad faces in different chunks: the lowest index is reported, as one instance reports it.
  await rejects(pool.embedBatch([photos[0]!, junk, photos[2]!, photos[3]!, junk, photos[5]!]), 'ERR_IMAGE', /^Face 1: /);
  await rejects(pool.embedBatch([...photos.slice(0, 4), { width: 2, height: 2, channels: 3, data: new Uint8Array(5) }]), 'ERR_IMAGE', /^Face 4: Cannot read 3-channel pixels: data has 5 values/);
  await rejects(pool.embed(junk), 'ERR_IMAGE', /^Cannot decode image/);
  const e = await rejection(pool.embed(photos[0]!, { box: { x1: 900, y1: 900, x2: 950, y2: 950 } }));
  const s = await rejection(single.embed(photos[0]!, { box: { x1: 900, y1: 900, x2: 950, y2: 950 } }));
  assert.is(e.constructor, s.constructor, 'same class as one instance');
  assert.is(e.message, s.message, 'same message as one instance');
  const te = await rejection(pool.embedBatch('nope' as never));
  assert.instance(te, TypeError);
  // Still right afterwards.
  assert.ok(identical(await pool.embed(photos[2]!), await single.embed(photos[2]!)));
  const after = await pool.embedBatch(photos);
  assert.ok(identical(after[4]!, await single.embed(photos[4]!)));
});

test('concurrent calls spread over the workers; results as sequential ones', async () => {
  const rec = recordingEnv();
  const p = await createFaceNetPool(rec.env, { model: raw, opencv: { build: 'simd' } }, 2);
  try {
    const sequential: Float32Array[] = [];
    for (const ph of photos) sequential.push(await single.embed(ph));
    const concurrent = await Promise.all([...photos, ...photos].map((ph) => p.embed(ph)));
    concurrent.forEach((e, i) => assert.ok(identical(e, sequential[i % photos.length]!), `call ${i}`));
    assert.ok(rec.posts[0]! >= 4 && rec.posts[1]! >= 4, `embed calls per worker: ${rec.posts.join(', ')}`);
  } finally {
    await p.dispose();
  }
  assert.is(rec.exited(), 2, 'dispose terminated both workers');
});

test('a worker that dies rejects its calls with a clear error; the other keeps serving', async () => {
  const rec = recordingEnv();
  const p = await createFaceNetPool(rec.env, { model: raw, opencv: { build: 'simd' } }, 2);
  try {
    const inFlight = p.embed(photos[0]!); // the least busy: worker 0
    await rec.workers[0]!.terminate(); // killed behind the pool's back
    await rejects(inFlight, 'ERR_OPENCV', /^Cannot run FaceNet: pool worker 0 stopped \(it exited with code 1\)/);
    // Later calls go to the living worker, batches included.
    assert.ok(identical(await p.embed(photos[1]!), await single.embed(photos[1]!)));
    const batch = await p.embedBatch(photos);
    for (let i = 0; i < photos.length; i++) assert.ok(identical(batch[i]!, await single.embed(photos[i]!)), `row ${i}`);
    await rec.workers[1]!.terminate();
    await rejects(p.embed(photos[0]!), 'ERR_OPENCV', /every worker of the pool has stopped/);
  } finally {
    await p.dispose();
  }
});

test('a bad model rejects createFaceNet with the model error and terminates every worker', async () => {
  // Not a graph: refused in this thread (ERR_DECODE) while the workers load OpenCV.js.
  const notGraph = recordingEnv();
  await rejects(createFaceNetPool(notGraph.env, { model: photos[0]! }, 2), 'ERR_DECODE', /JPEG/);
  assert.is(notGraph.workers.length, 2);
  assert.is(notGraph.exited(), 2, 'both workers terminated');
  // A graph OpenCV rejects: the workers' import error, rebuilt with its code and message.
  const b = new GraphBuilder();
  b.placeholder('input', [-1, 160, 160, 3]);
  b.placeholder('w', [3, 3, 3, 4]); // weights OpenCV's importer needs constant
  b.op('Conv2D', 'embeddings', ['input', 'w'], { strides: a.ints([1, 1, 1, 1]), padding: a.s('VALID'), data_format: a.s('NHWC') });
  const c = recordingEnv();
  await rejects(createFaceNetPool(c.env, { model: encodeGraph(b.build()), opencv: { build: 'simd' } }, 2), 'ERR_OPENCV', /Cannot import the TensorFlow graph into OpenCV: Const input blob for weights not found/);
  assert.is(c.exited(), 2, 'both workers terminated');
  // A forced build the workers cannot load: the loader's error.
  const d = recordingEnv();
  await rejects(createFaceNetPool(d.env, { model: raw, opencv: { url: '/nonexistent/opencv.js' } }, 2), 'ERR_OPENCV', /Cannot load OpenCV\.js: .*nonexistent/);
  assert.is(d.exited(), 2, 'both workers terminated');
  // Options a worker cannot receive are refused before any worker starts.
  const f = recordingEnv();
  const te = await rejection(createFaceNetPool(f.env, { model: raw, opencv: { fetch: fetch } }, 2));
  assert.instance(te, TypeError);
  assert.match(te.message, /opencv\.fetch cannot be sent to a worker/);
  assert.is(f.workers.length, 0);
});

test('dispose waits for calls in flight, is idempotent, and later calls reject', async () => {
  const batch = pool.embedBatch(photos);
  const single0 = pool.embed(photos[0]!);
  const disposing = pool.dispose();
  const late = pool.embed(photos[0]!);
  late.catch(() => undefined); // observed below, after the calls in flight
  const rows = await batch;
  assert.ok(identical(rows[5]!, await single.embed(photos[5]!)), 'the call in flight completed');
  assert.ok(identical(await single0, await single.embed(photos[0]!)));
  await disposing;
  await pool.dispose();
  await rejects(late, 'ERR_OPENCV', /disposed/);
  await rejects(pool.embed(photos[0]!), 'ERR_OPENCV', /disposed/);
  await rejects(pool.embedBatch(photos), 'ERR_OPENCV', /disposed/);
  await rejects(pool.embedTensor(new Float32Array(FACE), 1), 'ERR_OPENCV', /disposed/);
});

test('a Node process with a workers: 2 pool exits by itself after dispose (public createFaceNet)', async () => {
  const r = child('dispose');
  assert.is(r.status, 0, `exit status (stderr: ${r.stderr.slice(-800)})`);
  const want = await single.embed(photos[0]!);
  assert.equal(r.json['head'], Array.from(want.slice(0, 8)), 'same embedding as one instance');
  assert.is(r.json['same'], true);
});

test('a Node process whose workers: auto pool is never disposed exits by itself', () => {
  const r = child('no-dispose');
  assert.is(r.status, 0, `exit status (stderr: ${r.stderr.slice(-800)})`);
  assert.is(r.json['same'], true);
});

test('a Node process whose pool failed to start (bad model) exits by itself', () => {
  const r = child('bad-model');
  assert.is(r.status, 0, `exit status (stderr: ${r.stderr.slice(-800)})`);
  assert.is(r.json['code'], 'ERR_OPENCV', JSON.stringify(r.json));
  assert.match(String(r.json['message']), /Cannot import the TensorFlow graph into OpenCV: Const input blob for weights not found/);
});

test.run();

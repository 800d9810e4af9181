/**
 * createFaceNet end to end on real photos: preprocessing, batching, the raw-graph conversion on the
 * fly, and embeddings equal to TensorFlow semantics (tfjs on the ORIGINAL graph, phase_train=false)
 * for the same preprocessed input. Portable: runs in Node, Deno, Bun and Chromium.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createFaceNetIn, type FaceNet } from '../../src/runtime/embed/facenet.js';
import { preprocess } from '../../src/runtime/preprocess/index.js';
import { decodeGraph } from '../../src/converter/proto/codec.js';
import { convert } from '../../src/converter/convert.js';
import { FacenetDnnError } from '../../src/converter/errors.js';
import { runReference } from '../support/reference.js';
import { maxAbsDiff } from '../support/numeric.js';
import { getCV, repoBytes, sharedBytes } from './support/env.js';

const PHOTOS = ['Anthony_Hopkins_0001.jpg', 'Anthony_Hopkins_0002.jpg', 'emotion_happy.jpg'];
const FACE = 160 * 160 * 3;

let raw: Uint8Array;
let photos: Uint8Array[];
let facenet: FaceNet;

async function reference(nhwc: Float32Array, n: number): Promise<Float32Array> {
  const [out] = await runReference(
    decodeGraph(raw),
    {
      input: { shape: [n, 160, 160, 3], data: nhwc },
      phase_train: { shape: [], data: new Uint8Array([0]), dtype: 'bool' },
    },
    ['embeddings'],
  );
  assert.equal(out!.shape, [n, 512]);
  return out!.data;
}

async function rejects(p: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, FacenetDnnError);
    assert.is((e as FacenetDnnError).code, code, (e as Error).message);
    assert.match((e as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected a ${code} rejection`);
}

test.before(async () => {
  raw = await repoBytes('fixtures/facenet-tiny.pb');
  photos = await Promise.all(PHOTOS.map((p) => sharedBytes(`images/${p}`)));
  const cv = await getCV();
  // The raw facenet graph (queue-fed, tf.cond batch norms) is converted on the fly.
  facenet = await createFaceNetIn({ loadOpenCV: getCV }, { model: raw, cv });
});

test.after(async () => {
  await facenet?.dispose();
});

test('a raw facenet graph is converted on the fly and reported', () => {
  assert.ok(facenet.converted, 'converted');
  assert.is(facenet.converted!.opsAfter['Switch'], undefined);
  assert.is(facenet.dim, 512);
});

test('embed(photo) equals TF on the original graph for the same preprocessed input, within 1e-5', async () => {
  for (let i = 0; i < photos.length; i++) {
    const x = await preprocess(photos[i]!);
    const got = await facenet.embed(photos[i]!);
    const ref = await reference(x, 1);
    const d = maxAbsDiff(got, ref);
    assert.ok(d <= 1e-5, `${PHOTOS[i]}: max |Δ| ${d}`);
    let norm = 0;
    for (const v of got) norm += v * v;
    assert.ok(Math.abs(Math.sqrt(norm) - 1) < 1e-5, 'unit norm');
  }
});

test('embedBatch is a true batch: equals TF on the batch and the single calls', async () => {
  const batch = await facenet.embedBatch(photos);
  assert.is(batch.length, photos.length);
  const x = new Float32Array(photos.length * FACE);
  for (let i = 0; i < photos.length; i++) x.set(await preprocess(photos[i]!), i * FACE);
  const ref = await reference(x, photos.length);
  for (let i = 0; i < photos.length; i++) {
    assert.ok(maxAbsDiff(batch[i]!, ref.subarray(i * 512, (i + 1) * 512)) <= 1e-5, `row ${i} vs TF`);
    assert.ok(maxAbsDiff(batch[i]!, await facenet.embed(photos[i]!)) <= 1e-6, `row ${i} vs single call`);
  }
  // Different photos give different embeddings (the comparison is not between constants).
  assert.ok(maxAbsDiff(batch[0]!, batch[2]!) > 1e-3);
});

test('a face box crops with the margin rule before embedding', async () => {
  const box = { x1: 70, y1: 60, x2: 180, y2: 190 };
  const got = await facenet.embed(photos[0]!, { box });
  const ref = await reference(await preprocess(photos[0]!, { box }), 1);
  assert.ok(maxAbsDiff(got, ref) <= 1e-5);
  assert.ok(maxAbsDiff(got, await facenet.embed(photos[0]!)) > 1e-4, 'the crop changes the input');
});

test('maxBatch splits big batches without changing results', async () => {
  const small = await createFaceNetIn({ loadOpenCV: getCV }, { model: convert(raw, { preset: 'facenet' }).model, cv: await getCV(), maxBatch: 2 });
  try {
    assert.is(small.converted, undefined, 'an already converted model is used as is');
    const split = await small.embedBatch(photos);
    const whole = await facenet.embedBatch(photos);
    for (let i = 0; i < photos.length; i++) assert.ok(maxAbsDiff(split[i]!, whole[i]!) <= 1e-6);
  } finally {
    await small.dispose();
  }
});

test('concurrent calls are queued and give the same results as sequential ones', async () => {
  const sequential: Float32Array[] = [];
  for (const p of photos) sequential.push(await facenet.embed(p));
  const concurrent = await Promise.all([...photos, ...photos].map((p) => facenet.embed(p)));
  concurrent.forEach((e, i) => assert.ok(maxAbsDiff(e, sequential[i % photos.length]!) <= 1e-6));
});

test('bad images give clear errors and leave the model usable', async () => {
  await rejects(facenet.embed(new TextEncoder().encode('GIF89a not really')), 'ERR_IMAGE', /Cannot decode image/);
  await rejects(facenet.embed({ width: 0, height: 0, data: new Uint8Array(0), channels: 3 }), 'ERR_IMAGE', /zero|empty|0×0/i);
  // A PNG header claiming 50,000 × 50,000 pixels is refused before anything is decoded.
  const bomb = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0xc3, 0x50, 0, 0, 0xc3, 0x50, 8, 2, 0, 0, 0, 0, 0, 0, 0]);
  await rejects(facenet.embed(bomb), 'ERR_IMAGE', /maxPixels/);
  await rejects(facenet.embedBatch([photos[0]!, new Uint8Array([1, 2, 3])]), 'ERR_IMAGE', /Face 1/);
  const after = await facenet.embed(photos[0]!);
  assert.ok(maxAbsDiff(after, await reference(await preprocess(photos[0]!), 1)) <= 1e-5, 'still right afterwards');
});

test('bad models give clear errors', async () => {
  const cv = await getCV();
  const make = (model: Uint8Array, extra: object = {}) => createFaceNetIn({ loadOpenCV: getCV }, { model, cv, ...extra });
  await rejects(make(photos[0]!), 'ERR_DECODE', /JPEG/);
  await rejects(make(raw, { output: 'nope' }), 'ERR_UNKNOWN_NODE', /no output node "nope"/);
  await rejects(make(raw, { convert: false }), 'ERR_GRAPH', /unconverted.*facenet-dnn convert/);
  // A graph that runs but is not FaceNet: its output is not [N, 512].
  await rejects(
    make(convert(raw, { preset: 'facenet' }).model, { dim: 128 }).then((f) => f.embed(photos[0]!)),
    'ERR_OPENCV',
    /expected \[1,128\]/,
  );
});

test('dispose frees the model; later calls fail clearly', async () => {
  const f = await createFaceNetIn({ loadOpenCV: getCV }, { model: convert(raw, { preset: 'facenet' }).model, cv: await getCV() });
  await f.dispose();
  await f.dispose();
  await rejects(f.embed(photos[0]!), 'ERR_OPENCV', /disposed/);
});

test.run();

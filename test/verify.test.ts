/**
 * verifyConversion() through the library: its figures against a hand computation (OpenCV's forward
 * and the tfjs reference run here, differences counted here), passes on the full-size FaceNet-anatomy
 * graph and on the real graphs of shared/models (flags of test/e2e/shared-models.test.ts), fails on
 * a broken conversion naming the output, and refuses what it cannot check with a clear error.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { convert } from '../src/converter/convert.js';
import type { ConvertOptions } from '../src/converter/convert.js';
import { FacenetDnnError } from '../src/converter/errors.js';
import { decodeGraph, encodeGraph } from '../src/converter/proto/codec.js';
import type { GraphDef } from '../src/converter/proto/types.js';
import { constNode, constValue } from '../src/converter/tensor.js';
import { loadOpenCV } from '../src/runtime/opencv/node.js';
import { forwardTF } from '../src/runtime/opencv/forward.js';
import type { CV } from '../src/runtime/opencv/load.js';
import { randomInput, verifyConversion, verifyInput } from '../src/verify.js';
import type { VerifyConversionOptions, VerifyResult } from '../src/verify.js';
import { buildFacenetGraph, FACENET } from '../fixtures/facenet-anatomy.js';
import { runReference } from './support/reference.js';
import { maxAbsDiff } from './support/numeric.js';
import { readShared } from './support/shared.js';
import { loadImage, toTensor } from './support/images.js';

const tinyBytes = new Uint8Array(readFileSync(new URL('../fixtures/facenet-tiny.pb', import.meta.url)));
const tinyConverted = convert(tinyBytes, { preset: 'facenet', source: 'facenet-tiny.pb' }).model;
const FACE = 160 * 160 * 3;
const PHASE_FALSE = { phase_train: false };

let cvPromise: Promise<CV> | undefined;
const opencv = () => (cvPromise ??= loadOpenCV());

function figures(label: string, r: VerifyResult): string {
  const outs = r.outputs.map((o) => `${o.name} [${o.shape}] max|Δ| ${o.maxAbsDiff.toExponential(2)} mean|Δ| ${o.meanAbsDiff.toExponential(2)} cos ${o.cosine.toFixed(9)} (max|TF| ${o.maxAbsReference.toPrecision(3)})`);
  const line = `  ${label} (${r.runs.map((x) => x.label).join('; ')}): ${outs.join('; ')}`;
  console.log(line);
  return line;
}

/** The converted graph with one conv filter's first output channel shifted by `delta`: a broken conversion. */
function perturbConv(model: Uint8Array, delta: number): { bytes: Uint8Array; node: string } {
  const g = decodeGraph(model);
  const conv = g.node.find((n) => n.op === 'Conv2D')!;
  const wName = conv.input[1]!;
  const node: GraphDef['node'][number] = g.node.find((n) => n.name === wName)!;
  const w = constValue(node)!;
  const data = Float32Array.from(w.data);
  const outChannels = w.shape[3]!;
  for (let i = 0; i < data.length; i += outChannels) data[i]! += delta;
  const broken: GraphDef = { ...g, node: g.node.map((n) => (n.name === wName ? constNode(wName, { ...w, data }) : n)) };
  return { bytes: encodeGraph(broken), node: conv.name };
}

function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! ** 2;
    bb += b[i]! ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

test('figures equal a hand computation: OpenCV forward vs the tfjs reference on the same seeded inputs', async () => {
  const cv = await opencv();
  const { bytes: broken } = perturbConv(tinyConverted, 0.05);
  const r = await verifyConversion(tinyBytes, broken, { cv, set: PHASE_FALSE, randomSamples: 2, seed: 5, batch: false, backend: 'cpu' });
  assert.equal(r.runs.map((x) => x.label), ['random #1', 'random #2']);
  assert.equal(r.input, { name: 'input', shape: [-1, 160, 160, 3] });
  // By hand: random input i is randomInput(FACE, seed + i), fed at batch 1 to both runtimes.
  let max = 0;
  let sum = 0;
  let cos = 1;
  const graph = decodeGraph(tinyBytes);
  for (const seed of [5, 6]) {
    const x = randomInput(FACE, seed);
    assert.ok(x.every((v) => v >= -1 && v < 1), 'uniform in [-1, 1)');
    const [got] = forwardTF(cv, broken, { name: 'input', shape: [1, 160, 160, 3], data: x }, ['embeddings']);
    const [want] = await runReference(graph, { input: { shape: [1, 160, 160, 3], data: x }, phase_train: { shape: [], data: new Uint8Array([0]), dtype: 'bool' } }, ['embeddings']);
    max = Math.max(max, maxAbsDiff(got!.data, want!.data));
    for (let i = 0; i < 512; i++) sum += Math.abs(got!.data[i]! - want!.data[i]!);
    cos = Math.min(cos, cosine(got!.data, want!.data));
  }
  const o = r.outputs[0]!;
  assert.is(o.name, 'embeddings');
  assert.equal(o.shape, [1, 512]);
  assert.ok(Math.abs(o.maxAbsDiff - max) <= 1e-6 * max, `max |Δ| ${o.maxAbsDiff} vs ${max}`);
  assert.ok(Math.abs(o.meanAbsDiff - sum / 1024) <= 1e-6 * o.meanAbsDiff, `mean |Δ| ${o.meanAbsDiff} vs ${sum / 1024}`);
  assert.ok(Math.abs(o.cosine - cos) <= 1e-9, `cosine ${o.cosine} vs ${cos}`);
  assert.ok(max > 1e-3, `the perturbation shows (${max})`);
});

test('tiny FaceNet-anatomy fixture converted with the preset: passes, with the batch-of-2 check', async () => {
  const cv = await opencv();
  const r = await verifyConversion(tinyBytes, tinyConverted, { cv, set: PHASE_FALSE });
  figures('facenet-tiny', r);
  assert.ok(r.pass);
  assert.equal(r.runs.map((x) => x.label), ['random #1', 'random #2', 'batch of 2 (random #1, random #2)']);
  assert.equal(r.runs[2]!.shape, [2, 160, 160, 3]);
  const o = r.outputs[0]!;
  assert.ok(o.maxAbsDiff <= 1e-5 && o.cosine > 0.99999, `${o.maxAbsDiff} ${o.cosine}`);
  assert.ok(o.maxAbsReference > 0.01, 'embeddings are not zeros');
});

test('a broken conversion (one conv filter perturbed) fails and names the output', async () => {
  const cv = await opencv();
  const { bytes, node } = perturbConv(tinyConverted, 0.05);
  const r = await verifyConversion(tinyBytes, bytes, { cv, set: PHASE_FALSE, randomSamples: 1 });
  figures(`facenet-tiny with "${node}" perturbed`, r);
  assert.is(r.pass, false);
  const o = r.outputs[0]!;
  assert.is(o.name, 'embeddings');
  assert.is(o.pass, false);
  assert.ok(o.maxAbsDiff > 1e-3, `${o.maxAbsDiff}`);
  assert.ok(o.cosine < 0.99999, `${o.cosine}`);
  // The same with a tolerance above the damage passes: the verdict follows the tolerance.
  const loose = await verifyConversion(tinyBytes, bytes, { cv, set: PHASE_FALSE, randomSamples: 1, batch: false, tolerance: 10 });
  assert.ok(loose.pass);
});

test('a conversion of another graph (the trueBranchFirst twin, other weights) fails', async () => {
  const cv = await opencv();
  const other = buildFacenetGraph({ width: FACENET.tinyWidth, seed: 3, trueBranchFirst: true });
  const { model } = convert(other, { preset: 'facenet' });
  const r = await verifyConversion(tinyBytes, model, { cv, set: PHASE_FALSE, randomSamples: 1, batch: false });
  figures('facenet-tiny vs a converted seed-3 graph', r);
  assert.is(r.pass, false);
  // ...and its own original passes, though every Merge lists the training branch first.
  const own = await verifyConversion(other, model, { cv, set: PHASE_FALSE, randomSamples: 1, batch: false });
  figures('trueBranchFirst graph vs its conversion', own);
  assert.ok(own.pass);
});

test('refusals: unfed placeholder, unknown output, wrong sample size, two inputs, no inputs', async () => {
  const cv = await opencv();
  const rejects = async (options: Partial<VerifyConversionOptions>, type: new (...a: never[]) => Error, re: RegExp, code?: string) => {
    try {
      await verifyConversion(tinyBytes, tinyConverted, { cv, ...options });
    } catch (e) {
      assert.instance(e, type);
      assert.match((e as Error).message, re);
      if (code) assert.is((e as FacenetDnnError).code, code);
      return;
    }
    assert.unreachable(`expected ${re}`);
  };
  await rejects({}, FacenetDnnError, /placeholder "phase_train" \(DT_BOOL\).*--set phase_train=/, 'ERR_GRAPH');
  await rejects({ set: PHASE_FALSE, outputs: ['nope'] }, FacenetDnnError, /output "nope".*no node "nope"/, 'ERR_UNKNOWN_NODE');
  await rejects({ set: { phase_trian: false } }, FacenetDnnError, /set "phase_trian"/, 'ERR_UNKNOWN_NODE');
  await rejects({ set: PHASE_FALSE, samples: [new Float32Array(10)] }, RangeError, /sample #1.*10 values.*multiple of 76800/);
  await rejects({ set: PHASE_FALSE, inputs: [{ name: 'input' }, { name: 'embeddings' }] }, RangeError, /one input per forward/);
  await rejects({ set: PHASE_FALSE, randomSamples: 0, batch: false }, RangeError, /no inputs/);
  await rejects({ set: PHASE_FALSE, tolerance: -1 }, RangeError, /tolerance/);
  assert.equal(verifyInput(tinyConverted), { name: 'input', shape: [-1, 160, 160, 3] });
});

test('full-size FaceNet-anatomy graph (23.5 M parameters), one random input: passes', async () => {
  const t0 = performance.now();
  const g = buildFacenetGraph({ width: 1, seed: 1 });
  const t1 = performance.now();
  const { model } = convert(g, { preset: 'facenet' });
  const cv = await opencv();
  const r = await verifyConversion(g, model, { cv, set: PHASE_FALSE, randomSamples: 1, batch: false });
  console.log(`  (built in ${((t1 - t0) / 1000).toFixed(1)} s; verify ${((performance.now() - t1) / 1000).toFixed(1)} s incl. convert)`);
  figures('facenet-full', r);
  assert.ok(r.pass);
  assert.ok(r.outputs[0]!.maxAbsDiff <= 1e-5, `${r.outputs[0]!.maxAbsDiff}`);
  assert.ok(r.outputs[0]!.cosine > 0.99999);
});

// The real graphs, with the conversion flags of test/e2e/shared-models.test.ts.
interface Case {
  file: string;
  inputs: [{ name: string; shape: number[] }];
  outputs: string[];
  set?: ConvertOptions['set'];
  /** Random values in [0, 1) for models fed x / 255. */
  unit?: boolean;
  /** A real photo as one more input, preprocessed as the model expects. */
  image?: () => Float32Array;
}

const image = (file: string, options: Parameters<typeof toTensor>[1]) => () => toTensor(loadImage(file), options).data;

const CASES: Case[] = [
  {
    file: 'hed_graph.pb',
    inputs: [{ name: 'hed_input', shape: [1, 256, 256, 3] }],
    outputs: ['hed/dsn_fuse/conv2d/BiasAdd'],
    set: { is_training: false },
    unit: true,
    image: image('hed_test15.jpg', { width: 256, height: 256, scale: 1 / 255 }),
  },
  {
    file: 'emotion_mini_xception.pb',
    inputs: [{ name: 'input_1', shape: [-1, 64, 64, 1] }],
    outputs: ['predictions/Softmax'],
    unit: true,
    image: image('emotion_happy.jpg', { width: 64, height: 64, grey: true, scale: 1 / 255 }),
  },
  {
    file: 'aizoo_face_mask_detection.pb',
    inputs: [{ name: 'data_1', shape: [-1, 260, 260, 3] }],
    outputs: ['loc_branch_concat_1/concat', 'cls_branch_concat_1/concat'],
    unit: true,
  },
  {
    file: 'hse_mtcnn.pb',
    inputs: [{ name: 'rnet/input', shape: [-1, 24, 24, 3] }],
    outputs: ['rnet/prob1', 'rnet/conv5-2/conv5-2'],
  },
  {
    file: 'hse_mtcnn.pb',
    inputs: [{ name: 'onet/input', shape: [-1, 48, 48, 3] }],
    outputs: ['onet/prob1', 'onet/conv6-2/conv6-2', 'onet/conv6-3/conv6-3'],
  },
];

for (const c of CASES) {
  test(`${c.file} ${c.inputs[0].name} [${c.inputs[0].shape}]${c.set ? ` with ${JSON.stringify(c.set)}` : ''}: passes`, async () => {
    const bytes = readShared(`models/${c.file}`);
    const { model } = convert(bytes, { inputs: c.inputs, outputs: c.outputs, set: c.set, source: c.file });
    const cv = await opencv();
    const r = await verifyConversion(bytes, model, {
      cv,
      inputs: c.inputs,
      set: c.set,
      randomSamples: 1,
      range: c.unit ? [0, 1] : [-1, 1],
      samples: c.image ? [{ name: 'photo', data: c.image() }] : [],
    });
    figures(`${c.file} ${c.inputs[0].name}`, r);
    assert.equal(r.outputs.map((o) => o.name), c.outputs, 'outputs default to the converted graph\'s, here the ones converted');
    assert.ok(r.pass, 'every output within 1e-4');
    for (const o of r.outputs) assert.ok(o.cosine > 0.9999, `${o.name} cosine ${o.cosine}`);
    if (c.inputs[0].shape[0] === -1) assert.ok(r.runs.some((x) => x.label.startsWith('batch of 2')), 'dynamic batch: batch of 2 checked');
  });
}

test.run();

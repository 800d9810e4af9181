/**
 * End to end on every real TF1 graph in shared/models (trained weights no one here made): convert,
 * run the converted graph in OpenCV.js on a real photo, and compare with TensorFlow semantics (tfjs)
 * executing the *original* graph on the same input. Per model: every output within 1e-4, no op
 * OpenCV refuses, Switch/Merge/Identity gone, and (batch-dynamic inputs) a batch of 2 equal to two
 * single runs. OpenCV's own face detector must stay loadable with its .pbtxt and detect the same.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { convert } from '../../src/converter/convert.js';
import type { ConvertOptions } from '../../src/converter/convert.js';
import { decodeGraph } from '../../src/converter/proto/codec.js';
import type { GraphDef } from '../../src/converter/proto/types.js';
import { loadOpenCV } from '../../src/runtime/opencv/node.js';
import { forwardTF } from '../../src/runtime/opencv/forward.js';
import type { CV } from '../../src/runtime/opencv/load.js';
import { runReference } from '../support/reference.js';
import type { ReferenceFeed } from '../support/reference.js';
import { maxAbsDiff } from '../support/numeric.js';
import { readShared } from '../support/shared.js';
import { loadImage, stack, toTensor } from '../support/images.js';
import type { Image } from 'image-js';

const TOL = 1e-4;
/** A row of a batch-2 run against the single run of that image: same net, same weights. */
const BATCH_TOL = 1e-5;

interface Tensor {
  shape: number[];
  data: Float32Array;
}

const FALSE: ReferenceFeed = { shape: [], data: new Uint8Array([0]), dtype: 'bool' };

// Ops OpenCV fuses into the preceding layer, whose name the fused layer keeps.


/** Row `i` of an [N, …] result. */
function row(t: Tensor, i: number, n: number): Float32Array {
  const size = t.data.length / n;
  return t.data.subarray(i * size, (i + 1) * size);
}

const originals = new Map<string, { bytes: Uint8Array; graph: GraphDef }>();
function original(file: string) {
  let o = originals.get(file);
  if (!o) {
    const bytes = readShared(`models/${file}`);
    originals.set(file, (o = { bytes, graph: decodeGraph(bytes, { source: file }) }));
  }
  return o;
}

const images = new Map<string, Image>();
function image(file: string): Image {
  let img = images.get(file);
  if (!img) images.set(file, (img = loadImage(file)));
  return img;
}

let cvPromise: Promise<CV> | undefined;
const opencv = () => (cvPromise ??= loadOpenCV());

interface Case {
  label: string;
  file: string;
  input: string;
  /** The input shape given to the converter. */
  shape: number[];
  outputs: string[];
  set?: ConvertOptions['set'];
  /** Extra feeds of the original graph (frozen placeholders). */
  feeds?: Record<string, ReferenceFeed>;
  /** [1, H, W, C] real-image inputs, each compared with TF; with a -1 batch, the first two also run as one batch. */
  samples: Array<{ name: string; x: Tensor }>;
}

async function checkCase(c: Case): Promise<void> {
  const { bytes, graph } = original(c.file);
  const { model, graph: converted, report } = convert(bytes, {
    inputs: [{ name: c.input, shape: c.shape }],
    outputs: c.outputs,
    set: c.set,
    source: c.file,
  });
  assert.equal(report.rejected, [], `${c.label}: OpenCV accepts every op`);
  for (const op of ['Switch', 'Merge', 'Identity']) {
    assert.not.ok(converted.node.some((n) => n.op === op), `${c.label}: ${op} is gone`);
  }
  const cv = await opencv();
  const singles: Tensor[][] = [];
  for (const s of c.samples) {
    const got = forwardTF(cv, model, { name: c.input, shape: s.x.shape, data: s.x.data }, c.outputs);
    const ref = await runReference(graph, { [c.input]: s.x, ...c.feeds }, c.outputs, { backend: 'wasm' });
    singles.push(got);
    const figures: string[] = [];
    c.outputs.forEach((o, k) => {
      const g = got[k]!;
      const r = ref[k]!;
      assert.equal(g.shape, r.shape, `${c.label} ${s.name} ${o}: shape`);
      const d = maxAbsDiff(g.data, r.data);
      let peak = 0;
      for (const v of r.data) peak = Math.max(peak, Math.abs(v));
      figures.push(`${o} [${r.shape}] max|Δ| ${d.toExponential(2)} (max|TF| ${peak.toPrecision(3)})`);
      assert.ok(d <= TOL, `${c.label} ${s.name} ${o}: max |Δ| ${d} ≤ ${TOL}`);
    });
    console.log(`  ${c.label} · ${s.name}: ${figures.join('; ')}`);
  }
  if (c.shape[0] === -1 && c.samples.length >= 2) {
    const batch = stack([c.samples[0]!.x, c.samples[1]!.x]);
    const got = forwardTF(cv, model, { name: c.input, ...batch }, c.outputs);
    const figures: string[] = [];
    c.outputs.forEach((o, k) => {
      const g = got[k]!;
      assert.is(g.shape[0], 2, `${c.label} ${o}: batch of 2`);
      assert.equal(g.shape.slice(1), singles[0]![k]!.shape.slice(1), `${c.label} ${o}: per-image shape`);
      const d = Math.max(maxAbsDiff(row(g, 0, 2), singles[0]![k]!.data), maxAbsDiff(row(g, 1, 2), singles[1]![k]!.data));
      figures.push(`${o} ${d.toExponential(2)}`);
      assert.ok(d <= BATCH_TOL, `${c.label} ${o}: batch rows equal the single runs (${d})`);
    });
    // Two different images: the rows compared are not the same constants (a face probability
    // may saturate at 1 for both, so any output differing is enough).
    const apart = Math.max(...c.outputs.map((_, k) => maxAbsDiff(singles[0]![k]!.data, singles[1]![k]!.data)));
    assert.ok(apart > 1e-3, `${c.label}: the two images give different outputs (${apart})`);
    console.log(`  ${c.label} · batch 2 vs single runs: max|Δ| ${figures.join('; ')}`);
  }
}

// HED document-edge detector: 49 tf.cond batch norms stored as splats, conv2d_transpose output
// shapes computed from Const Shape chains. RGB, bilinear 256×256, /255.
const hedSamples = () =>
  ['hed_test15.jpg', 'hed_ios_test_image.jpg'].map((name) => ({ name, x: toTensor(image(name), { width: 256, height: 256, scale: 1 / 255 }) }));
const HED_OUT = 'hed/dsn_fuse/conv2d/BiasAdd';

for (const file of ['hed_graph.pb', 'hed_graph_ios_demo.pb']) {
  test(`${file}: --set is_training=false, [1,256,256,3], within ${TOL} of TF on document photos`, async () => {
    await checkCase({
      label: file,
      file,
      input: 'hed_input',
      shape: [1, 256, 256, 3],
      outputs: [HED_OUT],
      set: { is_training: false },
      feeds: { is_training: FALSE },
      samples: hedSamples(),
    });
  });
}

test('hed_graph.pb with a -1 batch: converts, equals TF per image, and OpenCV runs a batch of 2 row by row', async () => {
  // TF itself cannot run this graph at batch 2: each conv2d_transpose output_shape starts from a
  // Const Shape [1, h, w, 1] frozen into the file (tfjs fails at the concat of the side outputs).
  // OpenCV's deconvolution takes only H and W from output_shape, so the -1 conversion batches.
  const { graph } = original('hed_graph.pb');
  assert.ok(graph.node.some((n) => n.name === 'hed/dsn2/conv2d_transpose/Shape' && n.op === 'Const'), 'batch 1 baked into the original');
  await checkCase({
    label: 'hed_graph.pb [-1]',
    file: 'hed_graph.pb',
    input: 'hed_input',
    shape: [-1, 256, 256, 3],
    outputs: [HED_OUT],
    set: { is_training: false },
    feeds: { is_training: FALSE },
    samples: hedSamples(),
  });
});

test(`aizoo_face_mask_detection.pb: [-1,260,260,3], both heads within ${TOL} of TF, batch 2`, async () => {
  await checkCase({
    label: 'aizoo',
    file: 'aizoo_face_mask_detection.pb',
    input: 'data_1',
    shape: [-1, 260, 260, 3],
    outputs: ['loc_branch_concat_1/concat', 'cls_branch_concat_1/concat'],
    // The second image only gives the batch a different second row.
    samples: ['aizoo_demo2.jpg', 'hse_test_image.jpg'].map((name) => ({ name, x: toTensor(image(name), { width: 260, height: 260, scale: 1 / 255 }) })),
  });
});

test(`emotion_mini_xception.pb: [-1,64,64,1] grey centre crops, softmax within ${TOL} of TF, batch 2`, async () => {
  const sample = (name: string) => {
    const img = image(name);
    const side = Math.min(img.width, img.height);
    const crop = { x: Math.floor((img.width - side) / 2), y: Math.floor((img.height - side) / 2), width: side, height: side };
    return { name, x: toTensor(img, { crop, width: 64, height: 64, grey: true, scale: 1 / 255 }) };
  };
  await checkCase({
    label: 'emotion',
    file: 'emotion_mini_xception.pb',
    input: 'input_1',
    shape: [-1, 64, 64, 1],
    outputs: ['predictions/Softmax'],
    samples: [sample('emotion_happy.jpg'), sample('emotion_test.jpg')],
  });
});

// MTCNN as facenet's detect_face feeds it: (img − 127.5)·0.0078125, H and W swapped.
const MTCNN = { mean: 127.5, scale: 0.0078125, transpose: true } as const;
// Face boxes (x, y, side) in hse_test_image.jpg (784×588), read off OpenCV's res10 detector's output.
const FACES = [
  { x: 597, y: 210, side: 62 },
  { x: 282, y: 128, side: 64 },
];

test(`hse_mtcnn.pb P-Net: two concrete image scales, within ${TOL} of TF`, async () => {
  const img = image('hse_test_image.jpg');
  for (const scale of [0.25, 0.15]) {
    const width = Math.round(img.width * scale);
    const height = Math.round(img.height * scale);
    const x = toTensor(img, { width, height, ...MTCNN });
    await checkCase({
      label: `pnet ×${scale}`,
      file: 'hse_mtcnn.pb',
      input: 'pnet/input',
      shape: x.shape,
      outputs: ['pnet/prob1', 'pnet/conv4-2/BiasAdd'],
      samples: [{ name: `hse_test_image ${width}×${height}`, x }],
    });
  }
});

const faceCrops = (side: number) =>
  FACES.map((f, i) => ({
    name: `face ${i} ${side}×${side}`,
    x: toTensor(image('hse_test_image.jpg'), { crop: { x: f.x, y: f.y, width: f.side, height: f.side }, width: side, height: side, ...MTCNN }),
  }));

test(`hse_mtcnn.pb R-Net: [-1,24,24,3] face crops within ${TOL} of TF, batch 2`, async () => {
  await checkCase({
    label: 'rnet',
    file: 'hse_mtcnn.pb',
    input: 'rnet/input',
    shape: [-1, 24, 24, 3],
    outputs: ['rnet/prob1', 'rnet/conv5-2/conv5-2'],
    samples: faceCrops(24),
  });
});

test(`hse_mtcnn.pb O-Net: [-1,48,48,3] face crops within ${TOL} of TF, batch 2`, async () => {
  await checkCase({
    label: 'onet',
    file: 'hse_mtcnn.pb',
    input: 'onet/input',
    shape: [-1, 48, 48, 3],
    outputs: ['onet/prob1', 'onet/conv6-2/conv6-2', 'onet/conv6-3/conv6-3'],
    samples: faceCrops(48),
  });
});

test('opencv_face_detector_uint8.pb stays loadable with its .pbtxt and detects the same faces', async () => {
  const { bytes } = original('opencv_face_detector_uint8.pb');
  const config = new TextDecoder().decode(readShared('models/opencv_face_detector.pbtxt'));
  const { model, graph: converted, report } = convert(bytes, {
    inputs: ['data'],
    outputs: ['mbox_loc', 'mbox_conf_flatten'],
    source: 'opencv_face_detector_uint8.pb',
  });
  // With a config OpenCV builds the net from the .pbtxt and takes each weight from the .pb by
  // name: every node the .pbtxt reads but does not define must still be there.
  const defined = new Set([...config.matchAll(/^ {2}name: "([^"]+)"/gm)].map((m) => m[1]!));
  const have = new Set(converted.node.map((n) => n.name));
  const needed = [...new Set([...config.matchAll(/^ {2}input: "([^"]+)"/gm)].map((m) => m[1]!.replace(/:\d+$/, '')))].filter((n) => !defined.has(n));
  assert.ok(needed.length > 50, 'the .pbtxt reads its weights from the .pb');
  assert.equal(needed.filter((n) => !have.has(n)), [], 'every weight the .pbtxt names is in the converted .pb');

  const cv = await opencv();
  // BGR 300×300, mean (104, 117, 123), scale 1.
  const x = toTensor(image('hse_test_image.jpg'), { width: 300, height: 300, bgr: true, mean: [104, 117, 123] });
  const [want] = forwardTF(cv, bytes, { name: 'data', ...x }, ['detection_out'], { config });
  const [got] = forwardTF(cv, model, { name: 'data', ...x }, ['detection_out'], { config });
  assert.equal(got!.shape, want!.shape);
  const d = maxAbsDiff(got!.data, want!.data);
  // Rows of [image, label, confidence, x0, y0, x1, y1].
  const faces: number[][] = [];
  for (let i = 0; i + 7 <= got!.data.length; i += 7) if (got!.data[i + 2]! > 0.5) faces.push(Array.from(got!.data.subarray(i + 2, i + 7)));
  console.log(
    `  opencv_face_detector: ${report.nodesBefore} → ${report.nodesAfter} nodes, ${report.warnings.length} warnings; ` +
      `detections max|Δ| vs original ${d.toExponential(2)}; faces > 0.5: ${faces.map((f) => f[0]!.toFixed(3)).join(', ')}`,
  );
  assert.ok(d <= 1e-6, `detections equal the original's (${d})`);
  assert.ok(faces.length >= 1, 'at least one face with confidence > 0.5');
});

test.run();

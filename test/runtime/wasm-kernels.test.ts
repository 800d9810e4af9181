/**
 * The project's patches to OpenCV 4.6 in the committed builds (wasm/patches/opencv-4.6.0), checked
 * against TensorFlow semantics (TF.js running the same graph) on shapes that reach each new path:
 * - Winograd F(2x2, 3x3): 3x3 stride-1 convolutions with ≥ 16 input and output channels, SAME and
 *   VALID padding, odd and even sizes (partial tiles at the right and bottom edges), an output
 *   channel count that is not a multiple of 4, batch 2, with and without a fused ReLU;
 * - the out-of-line im2row kernel, whose last 1–3 positions of a block are computed in vector lanes
 *   (planes of 117, 9 and 13 positions, each ending in a block of 1 position);
 * - with threads, planes of fewer than 16 positions per thread shared out by output channel (the
 *   1×1 convolutions on a 3×3 plane with 64 output channels and on a 1×13 plane with 18, an uneven
 *   split); the 3×3 convolution on a 3×3 plane is a Winograd case of 4 tiles.
 * Every case runs on the SIMD build and on the SIMD+threads build with 2 threads.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeGraph } from '../../src/converter/proto/codec.js';
import { forwardTF } from '../../src/runtime/opencv/forward.js';
import { createNodeOpenCVLoader, type CV } from '../../src/runtime/opencv/node.js';
import { terminateThreads } from '../../src/runtime/opencv/shared.js';
import { GraphBuilder, a } from '../support/builder.js';
import { maxAbsDiff, uniform } from '../support/numeric.js';
import { runReference } from '../support/reference.js';

interface ConvCase {
  label: string;
  n: number;
  h: number;
  w: number;
  c: number;
  k: number;
  kernel: 1 | 3;
  padding: 'SAME' | 'VALID';
  relu: boolean;
}

/** x [N,H,W,C] → Conv2D (k×k, stride 1) → BiasAdd (→ Relu). */
function convCase(cs: ConvCase, seed: number) {
  const b = new GraphBuilder();
  b.placeholder('x', [-1, cs.h, cs.w, cs.c]);
  b.const('w', uniform(cs.kernel * cs.kernel * cs.c * cs.k, seed, -0.3, 0.3), [cs.kernel, cs.kernel, cs.c, cs.k]);
  b.const('b', uniform(cs.k, seed + 1, -0.5, 0.5), [cs.k]);
  b.op('Conv2D', 'conv', ['x', 'w'], { strides: a.ints([1, 1, 1, 1]), padding: a.s(cs.padding), data_format: a.s('NHWC') });
  b.op('BiasAdd', 'bias_add', ['conv', 'b'], { data_format: a.s('NHWC') });
  const out = cs.relu ? b.op('Relu', 'relu', ['bias_add']) : 'bias_add';
  // OpenCV's importer folds BiasAdd into the convolution layer, which keeps the Conv2D's name.
  return { graph: b.build(), out, cvOut: cs.relu ? out : 'conv' };
}

const CASES: ConvCase[] = [
  { label: 'Winograd, SAME, 9×11, C16→K20, ReLU, batch 2', n: 2, h: 9, w: 11, c: 16, k: 20, kernel: 3, padding: 'SAME', relu: true },
  { label: 'Winograd, VALID, 16×16, C24→K32, no activation', n: 1, h: 16, w: 16, c: 24, k: 32, kernel: 3, padding: 'VALID', relu: false },
  { label: 'Winograd, SAME, 17×17, C32→K32 (FaceNet block35 size), ReLU', n: 1, h: 17, w: 17, c: 32, k: 32, kernel: 3, padding: 'SAME', relu: true },
  { label: 'Winograd, VALID, 38×38, C80→K192 (FaceNet Conv2d_4a size), ReLU', n: 1, h: 38, w: 38, c: 80, k: 192, kernel: 3, padding: 'VALID', relu: true },
  { label: 'direct (C8 < 16), SAME, 9×13, ReLU: vector tail of 1 position', n: 1, h: 9, w: 13, c: 8, k: 12, kernel: 3, padding: 'SAME', relu: true },
  { label: 'small plane 3×3, 3×3 SAME conv C64→K64, ReLU', n: 1, h: 3, w: 3, c: 64, k: 64, kernel: 3, padding: 'SAME', relu: true },
  { label: 'small plane 3×3, 1×1 conv C96→K64, batch 2, no activation', n: 2, h: 3, w: 3, c: 96, k: 64, kernel: 1, padding: 'VALID', relu: false },
  { label: '1×1 conv on 13 positions (1×13), C40→K18, ReLU', n: 1, h: 1, w: 13, c: 40, k: 18, kernel: 1, padding: 'VALID', relu: true },
];

let simd: CV;
let threads: CV;

test.before(async () => {
  simd = await createNodeOpenCVLoader()({ build: 'simd' });
  threads = await createNodeOpenCVLoader()({ build: 'simd-threads', threads: 2 });
});

test.after(() => {
  if (threads) terminateThreads(threads);
});

CASES.forEach((cs, i) => {
  test(`patched OpenCV 4.6 vs TF.js: ${cs.label}`, async () => {
    const { graph, out, cvOut } = convCase(cs, 100 + 7 * i);
    const shape = [cs.n, cs.h, cs.w, cs.c];
    const x = uniform(cs.n * cs.h * cs.w * cs.c, 200 + i, -1, 1);
    const [ref] = await runReference(graph, { x: { shape, data: x } }, [out]);
    const pb = encodeGraph(graph);
    for (const [name, cv] of [['simd', simd], ['simd-threads', threads]] as const) {
      if (name === 'simd-threads') assert.is(cv['getNumThreads'](), 2, 'the threads build runs 2 threads');
      const [got] = forwardTF(cv, pb, { name: 'x', shape, data: x }, [cvOut]);
      assert.equal(got!.shape, ref!.shape, `${name}: shape`);
      const d = maxAbsDiff(got!.data, ref!.data);
      assert.ok(d <= 2e-5, `${name}: max |Δ| vs TF.js ${d}`);
    }
    // The case is not trivial: the outputs vary (and a ReLU leaves both signs before it).
    let [lo, hi] = [Infinity, -Infinity];
    for (const v of ref!.data) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
    const spread = hi - lo;
    assert.ok(spread > 0.5, `outputs vary (spread ${spread})`);
  });
});

test.run();

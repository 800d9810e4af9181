/**
 * fold-batch-norms on real TF1 graphs from ../shared/models: the Keras mini-Xception (batch norm
 * written out as Add/Rsqrt/Mul/Sub) and the Keras→TF1 face-mask SSD (FusedBatchNorm). The folded
 * graph is checked against the original, both run by the tfjs reference (test/support/reference.ts).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeGraph } from '../../src/converter/proto/codec.js';
import { parseInput, tensorName } from '../../src/converter/graph/names.js';
import { validateGraph } from '../../src/converter/graph/validate.js';
import { foldBatchNorms } from '../../src/converter/passes/fold-batch-norms.js';
import { makeContext } from '../../src/converter/passes/types.js';
import type { GraphDef } from '../../src/converter/proto/types.js';
import { opCounts } from '../support/builder.js';
import { readShared } from '../support/shared.js';
import { runReference } from '../support/reference.js';

/** Bypasses Identity nodes by rewiring their consumers (kept independent of the identity pass). */
function dropIdentity(g: GraphDef): GraphDef {
  const src = new Map<string, string>();
  for (const n of g.node) if (n.op === 'Identity') src.set(n.name, n.input[0]!);
  const resolve = (s: string): string => {
    const r = parseInput(s);
    let target = tensorName(r.node, r.port);
    while (src.has(parseInput(target).node) && parseInput(target).port === 0) target = src.get(parseInput(target).node)!;
    if (!r.control) return target;
    return `^${parseInput(target).node}`;
  };
  return { ...g, node: g.node.filter((n) => n.op !== 'Identity').map((n) => ({ ...n, input: n.input.map(resolve) })) };
}

function lcgData(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32));
}

test('emotion_mini_xception.pb: the 14 written-out batch norms fold into their convolutions', async () => {
  const g0 = dropIdentity(decodeGraph(readShared('models/emotion_mini_xception.pb'), { source: 'emotion_mini_xception.pb' }));
  validateGraph(g0);
  const before = opCounts(g0);
  assert.is(before['Rsqrt'], 14);
  const ctx = makeContext(['input_1'], ['predictions/Softmax']);
  const g1 = foldBatchNorms().run(g0, ctx);
  validateGraph(g1);
  assert.equal(ctx.warnings, []);
  const after = opCounts(g1);
  for (const op of ['Rsqrt', 'Sub', 'Mul']) assert.is(after[op], undefined, `no ${op} left`);
  assert.is(after['Add'], 4, 'only the 4 residual Adds remain');
  assert.is(after['BiasAdd'], (before['BiasAdd'] ?? 0) + 14);
  assert.is(after['Conv2D'], before['Conv2D']);
  assert.is(after['DepthwiseConv2dNative'], before['DepthwiseConv2dNative']);

  // Same numbers: logits before softmax (more sensitive) and the probabilities, batch of 2.
  const feeds = { input_1: { shape: [2, 64, 64, 1], data: lcgData(2 * 64 * 64, 7) } };
  const outs = ['global_average_pooling2d_1/Mean', 'predictions/Softmax'];
  const ref = await runReference(g0, feeds, outs);
  const got = await runReference(g1, feeds, outs);
  for (let k = 0; k < outs.length; k++) {
    let d = 0, scale = 0;
    ref[k]!.data.forEach((v, i) => {
      d = Math.max(d, Math.abs(v - got[k]!.data[i]!));
      scale = Math.max(scale, Math.abs(v));
    });
    assert.equal(got[k]!.shape, ref[k]!.shape);
    assert.ok(d <= 1e-5 * Math.max(1, scale), `${outs[k]}: max |Δ| ${d} (max |ref| ${scale})`);
  }
});

test('aizoo_face_mask_detection.pb: all 18 FusedBatchNorms fold (structure)', () => {
  const g0 = dropIdentity(decodeGraph(readShared('models/aizoo_face_mask_detection.pb')));
  const ctx = makeContext(['data_1'], ['loc_branch_concat_1/concat', 'cls_branch_concat_1/concat']);
  const g1 = foldBatchNorms().run(g0, ctx);
  validateGraph(g1);
  assert.equal(ctx.warnings, []);
  const before = opCounts(g0), after = opCounts(g1);
  assert.is(before['FusedBatchNorm'], 18);
  assert.is(after['FusedBatchNorm'], undefined);
  assert.is(after['BiasAdd'], 28, 'every conv now has exactly one BiasAdd');
  assert.is(after['Conv2D'], 28);
});

test.run();

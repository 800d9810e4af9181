/**
 * Real data: hed_graph.pb (MobileNetV2 HED, TF 1.7) has 49 tf.cond batch norms on `is_training`,
 * the same anatomy as FaceNet's. Freezing it to false and resolving the conds must leave exactly
 * the 49 inference FusedBatchNorms and no Switch/Merge.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readShared } from '../support/shared.js';
import { runReference } from '../support/reference.js';
import { opCounts } from '../support/builder.js';
import { decodeGraph } from '../../src/converter/proto/codec.js';
import { freezePlaceholders } from '../../src/converter/passes/freeze-placeholders.js';
import { resolveSwitchMerge } from '../../src/converter/passes/switch-merge.js';
import { prune } from '../../src/converter/passes/prune.js';
import { removeIdentity } from '../../src/converter/passes/remove-identity.js';
import { cleanup } from '../../src/converter/passes/cleanup.js';
import { makeContext, type Pass } from '../../src/converter/passes/types.js';
import { validateGraph } from '../../src/converter/graph/validate.js';
import { attr } from '../../src/converter/tensor.js';
import { FacenetDnnError } from '../../src/converter/errors.js';
import type { GraphDef } from '../../src/converter/proto/types.js';

const OUTPUT = 'hed/dsn_fuse/conv2d/BiasAdd';
const graph = decodeGraph(readShared('models/hed_graph.pb'), { source: 'hed_graph.pb' });

function timed(g: GraphDef, passes: Pass[], outputs = [OUTPUT]): { graph: GraphDef; ms: Record<string, number> } {
  const ctx = makeContext(['hed_input'], outputs);
  const ms: Record<string, number> = {};
  for (const p of passes) {
    const t0 = performance.now();
    const next = p.run(g, ctx);
    ms[p.name] = Math.round((performance.now() - t0) * 10) / 10;
    validateGraph(next, `after pass "${p.name}"`);
    g = next;
  }
  return { graph: g, ms };
}

test('hed_graph: freeze is_training + switch-merge + prune leaves the 49 inference batch norms', () => {
  const before = opCounts(graph);
  assert.is(before['FusedBatchNorm'], 98);
  assert.is(before['Merge'], 49);
  const { graph: out, ms } = timed(graph, [freezePlaceholders({ is_training: false }), resolveSwitchMerge(), prune()]);
  const ops = opCounts(out);
  assert.is(ops['Switch'], undefined);
  assert.is(ops['Merge'], undefined);
  assert.is(ops['FusedBatchNorm'], 49);
  for (const n of out.node.filter((n) => n.op === 'FusedBatchNorm')) {
    assert.is(attr.bool(n, 'is_training', true), false, `${n.name} should be an inference batch norm`);
  }
  // The frozen predicate is no longer needed by anything.
  assert.not.ok(out.node.some((n) => n.name === 'is_training'));
  assert.equal(out.node.filter((n) => n.op === 'Placeholder').map((n) => n.name), ['hed_input']);
  console.log(`  hed_graph (${graph.node.length} → ${out.node.length} nodes) ms per pass:`, JSON.stringify(ms));
});

test('hed_graph: the full structural chain stays valid and keeps the output', () => {
  const { graph: out, ms } = timed(graph, [
    freezePlaceholders({ is_training: false }),
    resolveSwitchMerge(),
    prune(),
    removeIdentity(),
    prune(),
    cleanup(),
  ]);
  const ops = opCounts(out);
  assert.is(ops['Identity'], undefined);
  assert.is(ops['FusedBatchNorm'], 49);
  assert.is(out.node.at(-1)!.name, OUTPUT);
  assert.not.ok(out.node.some((n) => n.device));
  console.log(`  hed_graph chain (${graph.node.length} → ${out.node.length} nodes) ms per pass:`, JSON.stringify(ms));
});

test('hed_graph: the converted graph computes what the original computes with is_training=false (tfjs reference)', async () => {
  const { graph: out } = timed(graph, [
    freezePlaceholders({ is_training: false }),
    resolveSwitchMerge(),
    prune(),
    removeIdentity(),
    prune(),
    cleanup(),
  ]);
  const data = new Float32Array(256 * 256 * 3);
  for (let i = 0; i < data.length; i++) data[i] = ((i * 7919) % 255) / 255;
  const input = { shape: [1, 256, 256, 3], data };
  // tfjs-converter's executor runs the original Switch/Merge graph with TF's semantics.
  const [orig] = await runReference(graph, { hed_input: input, is_training: { shape: [], data: Uint8Array.of(0), dtype: 'bool' } }, [OUTPUT], { backend: 'wasm' });
  const [conv] = await runReference(out, { hed_input: input }, [OUTPUT], { backend: 'wasm' });
  assert.equal(conv!.shape, orig!.shape);
  let diff = 0;
  let spread = 0;
  for (let i = 0; i < orig!.data.length; i++) {
    diff = Math.max(diff, Math.abs(orig!.data[i]! - conv!.data[i]!));
    spread = Math.max(spread, Math.abs(orig!.data[i]! - orig!.data[0]!));
  }
  assert.ok(spread > 0.1, 'the output should not be constant');
  assert.ok(diff <= 1e-4, `max abs diff ${diff}`);
});

test('hed_graph: without freezing, switch-merge names the Switch and is_training', () => {
  try {
    resolveSwitchMerge().run(graph, makeContext(['hed_input'], [OUTPUT]));
    assert.unreachable('should throw');
  } catch (e) {
    assert.instance(e, FacenetDnnError);
    assert.is((e as FacenetDnnError).code, 'ERR_NOT_CONSTANT');
    assert.match((e as Error).message, /^Cannot resolve Switch "hed\/[^"]+": its predicate "is_training" is not a constant/);
  }
});

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GraphBuilder, a } from '../support/builder.js';
import { setInputs } from '../../src/converter/passes/set-inputs.js';
import { prune } from '../../src/converter/passes/prune.js';
import { makeContext } from '../../src/converter/passes/types.js';
import { validateGraph } from '../../src/converter/graph/validate.js';
import { FacenetDnnError } from '../../src/converter/errors.js';
import { DataType } from '../../src/converter/proto/types.js';
import type { GraphDef } from '../../src/converter/proto/types.js';
import { attr, shapeDims } from '../../src/converter/tensor.js';

const { DT_FLOAT, DT_INT32, DT_INT64, DT_HALF, DT_UINT8 } = DataType;

/** FaceNet's input chain: a FIFO queue dequeued into `image_batch` → `input` (Identities). */
function facenetInputs(): GraphDef {
  const b = new GraphBuilder();
  b.placeholder('batch_size', [], DT_INT32);
  b.op('FIFOQueueV2', 'batch_join/fifo_queue', [], { T: undefined, component_types: { list: { type: [DT_FLOAT, DT_INT64] } } });
  b.op('QueueDequeueUpToV2', 'batch_join', ['batch_join/fifo_queue', 'batch_size'], { T: undefined, component_types: { list: { type: [DT_FLOAT, DT_INT64] } } });
  b.op('Identity', 'image_batch', ['batch_join']);
  b.op('Identity', 'input', ['image_batch']);
  b.op('Identity', 'label_batch', ['batch_join:1'], { T: a.type(DT_INT64) });
  b.const('w', [1, 1, 1], [1, 1, 3, 1]);
  b.op('Conv2D', 'conv', ['input', 'w'], { strides: a.ints([1, 1, 1, 1]), padding: a.s('SAME') });
  return b.build();
}

const run = (g: GraphDef, specs: Parameters<typeof setInputs>[0], ctx = makeContext()) => {
  const before = JSON.stringify(g);
  const out = setInputs(specs).run(g, ctx);
  assert.is(JSON.stringify(g), before, 'input graph mutated');
  validateGraph(out);
  return out;
};

test('FaceNet: the `input` Identity becomes a Placeholder with the given shape; the queue is pruned away', () => {
  const g = facenetInputs();
  const out = run(g, [{ name: 'input', shape: [-1, 160, 160, 3] }]);
  const input = out.node.find((n) => n.name === 'input')!;
  assert.is(input.op, 'Placeholder');
  assert.equal(input.input, []);
  assert.is(attr.type(input, 'dtype'), DT_FLOAT); // from the Identity's T
  assert.equal(attr.shape(input, 'shape'), [-1, 160, 160, 3]);
  assert.equal(out.node.find((n) => n.name === 'conv')!.input, ['input', 'w']);
  assert.is(out.node.length, g.node.length, 'set-inputs replaces, prune removes');
  const pruned = prune().run(out, makeContext(['input'], ['conv']));
  validateGraph(pruned);
  assert.equal(pruned.node.map((n) => n.name).sort(), ['conv', 'input', 'w']);
});

test('dtype: given, else the node\'s T/dtype attr, else DT_FLOAT; shape defaults to unknown rank', () => {
  const b = new GraphBuilder();
  b.placeholder('p', [1]);
  b.op('Identity', 'half', ['p'], { T: a.type(DT_HALF) });
  b.op('Cast', 'noT', ['p'], { T: undefined });
  b.op('Identity', 'given', ['p']);
  const out = run(b.build(), [{ name: 'half' }, { name: 'noT' }, { name: 'given', dtype: DT_UINT8, shape: [2, 3] }]);
  const get = (n: string) => out.node.find((x) => x.name === n)!;
  assert.is(attr.type(get('half'), 'dtype'), DT_HALF);
  assert.is(attr.type(get('noT'), 'dtype'), DT_FLOAT);
  assert.is(attr.type(get('given'), 'dtype'), DT_UINT8);
  assert.is(attr.shape(get('half'), 'shape'), undefined);
  assert.equal(attr.shape(get('given'), 'shape'), [2, 3]);
});

test('an existing Placeholder only gets its shape replaced', () => {
  const b = new GraphBuilder();
  b.placeholder('x', [1, 256, 256, 3]);
  b.op('Relu', 'y', ['x']);
  const g = b.build();
  const out = run(g, [{ name: 'x', shape: [-1, 256, 256, 3] }]);
  assert.equal(shapeDims(out.node[0]!.attr['shape']!.shape), [-1, 256, 256, 3]);
  assert.is(attr.type(out.node[0]!, 'dtype'), DT_FLOAT);
  // Without a shape the Placeholder keeps its own.
  const same = run(g, [{ name: 'x' }]);
  assert.equal(attr.shape(same.node[0]!, 'shape'), [1, 256, 256, 3]);
});

test('a PlaceholderWithDefault becomes a Placeholder keeping its declared shape', () => {
  const b = new GraphBuilder();
  b.const('d', [0, 0], [1, 2]);
  b.op('PlaceholderWithDefault', 'x', ['d'], { T: undefined, dtype: a.type(DT_FLOAT), shape: a.shape([-1, 2]) });
  b.op('Relu', 'y', ['x']);
  const out = run(b.build(), [{ name: 'x' }]);
  const x = out.node.find((n) => n.name === 'x')!;
  assert.is(x.op, 'Placeholder');
  assert.equal(x.input, []);
  assert.equal(attr.shape(x, 'shape'), [-1, 2]);
});

test('errors: unknown node, output port >= 1 read, bad shape', () => {
  const g = facenetInputs();
  try {
    run(g, [{ name: 'nope' }]);
    assert.unreachable();
  } catch (e) {
    assert.is((e as FacenetDnnError).code, 'ERR_UNKNOWN_NODE');
    assert.match((e as Error).message, '"nope"');
  }
  try {
    run(g, [{ name: 'batch_join' }]);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, FacenetDnnError);
    assert.match((e as Error).message, /^Cannot make "batch_join" \(QueueDequeueUpToV2\) an input: "label_batch" reads its output 1/);
  }
  assert.throws(() => setInputs([{ name: 'input', shape: [1.5] }]), (e: Error) => e instanceof RangeError && /"input"/.test(e.message));
});

test.run();

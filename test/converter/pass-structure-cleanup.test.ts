import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GraphBuilder } from '../support/builder.js';
import { cleanup } from '../../src/converter/passes/cleanup.js';
import { makeContext } from '../../src/converter/passes/types.js';
import { validateGraph } from '../../src/converter/graph/validate.js';
import { FacenetDnnError } from '../../src/converter/errors.js';

test('sorts stably, clears devices, drops redundant control inputs, controls last', () => {
  const b = new GraphBuilder();
  b.op('Add', 'c', ['^a', 'a', 'b:1', '^b', '^k', '^k']);
  b.placeholder('a');
  b.op('Unpack', 'b', ['a'], { num: { i: 2 } });
  b.const('k', [1], []);
  b.op('Relu', 'd', ['a']);
  const g = b.build();
  g.node[1]!.device = '/device:GPU:0';
  g.node[3]!.device = '/job:localhost/replica:0/task:0/device:CPU:0';
  const before = JSON.stringify(g);
  const out = cleanup().run(g, makeContext());
  assert.is(JSON.stringify(g), before, 'input graph mutated');
  validateGraph(out);
  // `a` first (ready), then b, k (original order among ready nodes), then c, d.
  assert.equal(out.node.map((n) => n.name), ['a', 'b', 'k', 'c', 'd']);
  assert.not.ok(out.node.some((n) => 'device' in n));
  // ^a and ^b duplicate data inputs (b:1 reads node b), ^k is repeated.
  assert.equal(out.node.find((n) => n.name === 'c')!.input, ['a', 'b:1', '^k']);
  // An untouched node is passed through as is.
  assert.is(out.node.find((n) => n.name === 'd'), g.node[4]);
});

test('a cycle is an ERR_GRAPH naming its nodes', () => {
  const b = new GraphBuilder();
  b.op('Relu', 'x', ['y']);
  b.op('Relu', 'y', ['x']);
  try {
    cleanup().run(b.build(), makeContext());
    assert.unreachable();
  } catch (e) {
    assert.is((e as FacenetDnnError).code, 'ERR_GRAPH');
    assert.match((e as Error).message, '"x"');
  }
});

test.run();

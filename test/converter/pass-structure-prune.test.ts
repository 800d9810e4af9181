import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GraphBuilder } from '../support/builder.js';
import { prune } from '../../src/converter/passes/prune.js';
import { makeContext } from '../../src/converter/passes/types.js';
import { validateGraph } from '../../src/converter/graph/validate.js';
import { FacenetDnnError } from '../../src/converter/errors.js';
import { DataType } from '../../src/converter/proto/types.js';
import type { GraphDef } from '../../src/converter/proto/types.js';

function graph(): GraphDef {
  const b = new GraphBuilder();
  b.placeholder('queue_size', [], DataType.DT_INT32); // above the input: not needed
  b.op('Identity', 'upstream', ['queue_size'], { T: undefined });
  b.op('Identity', 'input', ['upstream']); // fed: its inputs are not needed
  b.placeholder('extra', [1]); // a placeholder the output needs but the caller does not feed
  b.const('w', [2], [1]);
  b.op('NoOp', 'init', [], { T: undefined });
  b.op('Mul', 'mul', ['input', 'w', '^init']); // control inputs are needed too
  b.op('Add', 'out', ['mul', 'extra']);
  b.op('Relu', 'unused', ['out']);
  b.op('Sqrt', 'side', ['w']);
  return b.build();
}

const names = (g: GraphDef) => g.node.map((n) => n.name);

test('keeps what the outputs need (data + control), stops at the inputs, keeps order', () => {
  const g = graph();
  const ctx = makeContext(['input'], ['out']);
  const before = JSON.stringify(g);
  const out = prune().run(g, ctx);
  assert.is(JSON.stringify(g), before, 'input graph mutated');
  assert.equal(names(out), ['input', 'extra', 'w', 'init', 'mul', 'out']);
  // The input still reads `upstream` (it was not made a Placeholder first): the pass says so.
  assert.ok(ctx.warnings.some((w) => w.includes('"input"')));
});

test('with the input a Placeholder the result is a valid graph; an extra Placeholder is kept', () => {
  const g = graph();
  g.node[2] = { name: 'input', op: 'Placeholder', input: [], attr: { dtype: { type: DataType.DT_FLOAT } } };
  const ctx = makeContext(['input'], ['out:0']);
  const out = prune().run(g, ctx);
  validateGraph(out);
  assert.ok(names(out).includes('extra'));
  assert.not.ok(names(out).includes('upstream'));
  assert.equal(ctx.warnings, []);
});

test('an unused input is kept, with a warning', () => {
  const ctx = makeContext(['input', 'queue_size'], ['side']);
  const out = prune().run(graph(), ctx);
  assert.equal(names(out), ['queue_size', 'input', 'w', 'side']);
  assert.ok(ctx.warnings.some((w) => w.includes('"queue_size"') && w.includes('not used')));
});

test('errors name the missing output / input', () => {
  for (const [inputs, outputs, name] of [[['input'], ['nope'], 'output "nope"'], [['ghost'], ['out'], 'input "ghost"']] as const) {
    try {
      prune().run(graph(), makeContext(inputs, outputs));
      assert.unreachable();
    } catch (e) {
      assert.is((e as FacenetDnnError).code, 'ERR_UNKNOWN_NODE');
      assert.match((e as Error).message, `Cannot prune the graph: ${name} is not in the graph`);
    }
  }
  assert.throws(() => prune().run(graph(), makeContext([], [])), /no outputs/);
});

test.run();

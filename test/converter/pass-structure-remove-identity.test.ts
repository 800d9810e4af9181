import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GraphBuilder, a, opCounts } from '../support/builder.js';
import { removeIdentity } from '../../src/converter/passes/remove-identity.js';
import { makeContext, type PassContext } from '../../src/converter/passes/types.js';
import { validateGraph } from '../../src/converter/graph/validate.js';
import { FacenetDnnError } from '../../src/converter/errors.js';
import { DataType } from '../../src/converter/proto/types.js';
import type { GraphDef } from '../../src/converter/proto/types.js';
import { attr } from '../../src/converter/tensor.js';

function run(g: GraphDef, ctx: PassContext = makeContext(['x'], ['out'])): GraphDef {
  const before = JSON.stringify(g);
  const out = removeIdentity().run(g, ctx);
  assert.is(JSON.stringify(g), before, 'input graph mutated');
  validateGraph(out);
  return out;
}
const node = (g: GraphDef, name: string) => g.node.find((n) => n.name === name);

test('bypasses Identity chains, CheckNumerics, StopGradient, Snapshot; ports are kept', () => {
  const b = new GraphBuilder();
  b.placeholder('x', [2, 3]);
  b.const('w', [1, 2, 3], [3]);
  b.op('Identity', 'w/read', ['w']);
  b.op('Identity', 'w/read2', ['w/read']);
  b.op('Unpack', 'u', ['x'], { num: a.i(2) });
  b.op('CheckNumerics', 'chk', ['u:1']);
  b.op('StopGradient', 'sg', ['chk']);
  b.op('Snapshot', 'snap', ['sg']);
  b.op('Mul', 'out', ['snap', 'w/read2']);
  const out = run(b.build());
  assert.equal(Object.keys(opCounts(out)).sort(), ['Const', 'Mul', 'Placeholder', 'Unpack']);
  assert.equal(node(out, 'out')!.input, ['u:1', 'w']);
});

test('PlaceholderWithDefault: bypassed to its default, or a plain Placeholder when it is an input', () => {
  const b = new GraphBuilder();
  b.const('d', [0, 0], [1, 2]);
  b.op('PlaceholderWithDefault', 'x', ['d'], { T: undefined, dtype: a.type(DataType.DT_FLOAT), shape: a.shape([-1, 2]) });
  b.op('PlaceholderWithDefault', 'rate', ['d'], { T: undefined, dtype: a.type(DataType.DT_FLOAT), shape: a.shape([-1, 2]) });
  b.op('Add', 'out', ['x', 'rate']);
  const out = run(b.build());
  const x = node(out, 'x')!;
  assert.is(x.op, 'Placeholder');
  assert.equal(x.input, []);
  assert.equal(attr.shape(x, 'shape'), [-1, 2]);
  assert.is(node(out, 'rate'), undefined);
  assert.equal(node(out, 'out')!.input, ['x', 'd']);
});

test('nodes named as inputs or outputs are kept even when they are Identities', () => {
  const b = new GraphBuilder();
  b.placeholder('q');
  b.op('Identity', 'x', ['q']);
  b.op('Identity', 'mid', ['x']);
  b.op('Identity', 'out', ['mid']);
  const out = run(b.build());
  assert.equal(out.node.map((n) => n.name), ['q', 'x', 'out']);
  assert.equal(node(out, 'out')!.input, ['x']);
});

test('NoOps are removed; control edges to them take over their own control inputs', () => {
  const b = new GraphBuilder();
  b.placeholder('x');
  b.op('Relu', 'a', ['x']);
  b.op('Relu', 'b', ['x']);
  b.op('NoOp', 'group_deps', ['^a', '^b'], { T: undefined });
  b.op('NoOp', 'empty', [], { T: undefined });
  b.op('NoOp', 'outer', ['^group_deps'], { T: undefined });
  b.op('Identity', 'x/id', ['x', '^empty']);
  b.op('Neg', 'out', ['x/id', '^outer', '^empty']);
  const out = run(b.build());
  assert.is(opCounts(out)['NoOp'], undefined);
  assert.equal(node(out, 'out')!.input, ['x', '^a', '^b']);
});

test('control inputs: ^bypassed → ^its producer; own control inputs dropped unless a Merge reads it', () => {
  const b = new GraphBuilder();
  b.placeholder('x');
  b.const('p', [0], [], DataType.DT_BOOL);
  b.op('Relu', 'side', ['x']);
  b.op('Identity', 'id', ['x', '^side']);
  b.op('Neg', 'n', ['id']);
  b.op('Abs', 'ordered', ['n', '^id']);
  // A still-unresolved cond: the branch Identity's control input carries deadness into the Merge.
  b.op('Switch', 'sw', ['x', 'p']);
  b.op('Identity', 'cond/switch_t', ['sw:1']);
  b.op('Identity', 'branch', ['sw:1', '^cond/switch_t']);
  b.op('Merge', 'm', ['sw', 'branch'], { N: a.i(2) });
  b.op('AddN', 'out', ['ordered', 'm'], { N: a.i(2) });
  const out = run(b.build());
  assert.equal(node(out, 'n')!.input, ['x']);
  assert.equal(node(out, 'ordered')!.input, ['n', '^x']);
  assert.equal(node(out, 'm')!.input, ['sw', 'sw:1', '^cond/switch_t']);
  // The pivot stays: `^sw` would be live on both branches, `^cond/switch_t` only on the true one.
  assert.equal(node(out, 'cond/switch_t')!.input, ['sw:1']);
});

test('reading output 1 of an Identity is an ERR_GRAPH naming both nodes', () => {
  const b = new GraphBuilder();
  b.placeholder('x');
  b.op('Identity', 'id', ['x']);
  b.op('Neg', 'out', ['id:1']);
  try {
    removeIdentity().run(b.build(), makeContext(['x'], ['out']));
    assert.unreachable();
  } catch (e) {
    assert.is((e as FacenetDnnError).code, 'ERR_GRAPH');
    assert.match((e as Error).message, /^Cannot bypass "id": "out" reads its output 1/);
  }
});

test('a graph with nothing to remove is returned as is', () => {
  const b = new GraphBuilder();
  b.placeholder('x');
  b.op('Identity', 'out', ['x']);
  const g = b.build();
  assert.is(removeIdentity().run(g, makeContext(['x'], ['out'])), g);
});

test.run();

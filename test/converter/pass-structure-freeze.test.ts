import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GraphBuilder, a, opCounts } from '../support/builder.js';
import { freezePlaceholders } from '../../src/converter/passes/freeze-placeholders.js';
import { makeContext } from '../../src/converter/passes/types.js';
import { validateGraph } from '../../src/converter/graph/validate.js';
import { FacenetDnnError } from '../../src/converter/errors.js';
import { DataType } from '../../src/converter/proto/types.js';
import type { GraphDef } from '../../src/converter/proto/types.js';
import { constValue } from '../../src/converter/tensor.js';

const { DT_BOOL, DT_INT32, DT_INT64, DT_FLOAT, DT_DOUBLE, DT_STRING } = DataType;

function graph(): GraphDef {
  const b = new GraphBuilder();
  b.placeholder('phase_train', undefined, DT_BOOL); // unknown rank, as facenet's
  b.placeholder('batch_size', [], DT_INT32);
  b.placeholder('steps', [], DT_INT64);
  b.placeholder('keep', [], DT_FLOAT);
  b.placeholder('lr', [], DT_DOUBLE);
  b.placeholder('image', [1, 2]);
  b.placeholder('name', [], DT_STRING);
  b.const('default', [0.5], []);
  b.op('PlaceholderWithDefault', 'rate', ['default'], { T: undefined, dtype: a.type(DT_FLOAT), shape: a.shape([]) });
  b.op('LogicalNot', 'not', ['phase_train'], { T: undefined });
  b.op('Mul', 'y', ['image', 'rate']);
  return b.build();
}

const run = (values: Record<string, number | boolean>, g = graph()) => {
  const before = JSON.stringify(g);
  const out = freezePlaceholders(values).run(g, makeContext());
  assert.is(JSON.stringify(g), before, 'input graph mutated');
  validateGraph(out);
  return out;
};

test('each dtype becomes a scalar Const of that dtype holding the value', () => {
  const out = run({ phase_train: false, batch_size: -7, steps: 2 ** 40, keep: 0.8, lr: 1e-300, rate: 0.25 });
  const expect: Array<[string, number, number]> = [
    ['phase_train', DT_BOOL, 0],
    ['batch_size', DT_INT32, -7],
    ['steps', DT_INT64, 2 ** 40],
    ['keep', DT_FLOAT, Math.fround(0.8)],
    ['lr', DT_DOUBLE, 1e-300],
    ['rate', DT_FLOAT, 0.25],
  ];
  for (const [name, dtype, value] of expect) {
    const n = out.node.find((x) => x.name === name)!;
    assert.is(n.op, 'Const', name);
    assert.is(n.attr['dtype']!.type, dtype, name);
    const h = constValue(n)!;
    assert.equal(h.shape, [], name);
    assert.is(h.dtype, dtype, name);
    assert.is(h.data[0], value, name);
  }
  // The PlaceholderWithDefault's default input is dropped; consumers still read the same name.
  assert.equal(out.node.find((x) => x.name === 'rate')!.input, []);
  assert.equal(out.node.find((x) => x.name === 'not')!.input, ['phase_train']);
  assert.is(opCounts(out)['Placeholder'], 2);
  assert.is(constValue(run({ phase_train: true }).node[0]!)!.data[0], 1);
  assert.is(constValue(run({ phase_train: 1 }).node[0]!)!.data[0], 1);
});

test('an empty value map returns the graph unchanged', () => {
  const g = graph();
  assert.is(freezePlaceholders({}).run(g, makeContext()), g);
});

function throws(values: Record<string, number | boolean>, kind: Function, re: RegExp, code?: string) {
  try {
    run(values);
    assert.unreachable('should throw');
  } catch (e) {
    assert.instance(e, kind);
    if (code) assert.is((e as FacenetDnnError).code, code);
    assert.match((e as Error).message, re);
  }
}

test('errors name the node and the problem', () => {
  throws({ nope: 1 }, FacenetDnnError, /"nope"/, 'ERR_UNKNOWN_NODE');
  throws({ y: 1 }, FacenetDnnError, /^Cannot freeze "y": it is a Mul, not a Placeholder$/, 'ERR_UNSUPPORTED_OP');
  throws({ image: 1 }, FacenetDnnError, /^Cannot freeze "image": its declared shape \[1,2\] is not a scalar$/, 'ERR_UNSUPPORTED_OP');
  throws({ name: 1 }, FacenetDnnError, /^Cannot freeze "name": dtype DT_STRING is not supported/, 'ERR_UNSUPPORTED_OP');
  throws({ batch_size: 1.5 }, RangeError, /^Cannot freeze "batch_size" \(DT_INT32\): 1\.5 is not an integer/);
  throws({ batch_size: 2 ** 31 }, RangeError, /"batch_size"/);
  throws({ steps: 2 ** 60 }, RangeError, /"steps"/);
  throws({ phase_train: 2 }, RangeError, /^Cannot freeze "phase_train" \(DT_BOOL\): expected true, false, 0 or 1, got 2$/);
  throws({ keep: true }, TypeError, /^Cannot freeze "keep" \(DT_FLOAT\): expected a number/);
  throws({ keep: 1e300 }, RangeError, /overflows float32/);
});

test.run();

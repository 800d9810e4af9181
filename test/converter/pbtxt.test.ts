import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { decodeGraph, encodeGraph } from '../../src/converter/proto/codec.js';
import { DataType } from '../../src/converter/proto/types.js';
import type { GraphDef } from '../../src/converter/proto/types.js';
import { cEscape, formatDouble, formatFloat, graphToText, textToGraph } from '../../src/converter/pbtxt/index.js';
import { FacenetDnnError } from '../../src/converter/errors.js';
import { MODELS, SHARED_MODELS, readShared } from '../support/shared.js';

const enc = (s: string) => new TextEncoder().encode(s);

/** A small graph touching every printing rule; attrs inserted out of key order on purpose. */
function smallGraph(): GraphDef {
  return {
    node: [
      {
        name: 'in',
        op: 'Placeholder',
        input: [],
        attr: {
          shape: { shape: { dim: [{ size: -1 }, { size: 2 }] } },
          dtype: { type: DataType.DT_FLOAT },
        },
      },
      {
        name: 'w',
        op: 'Const',
        input: [],
        attr: {
          value: {
            tensor: {
              dtype: DataType.DT_FLOAT,
              tensor_shape: { dim: [{ size: 2 }] },
              // 1.0 and -2.0 little-endian: 00 00 80 3f, 00 00 00 c0
              tensor_content: new Uint8Array([0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0]),
            },
          },
          dtype: { type: DataType.DT_FLOAT },
        },
      },
      {
        name: 'mul',
        op: 'Mul',
        input: ['in', 'w:0', '^ctl'],
        device: '/cpu:0',
        attr: {
          T: { type: DataType.DT_FLOAT },
          eps: { f: 0.001 },
          zero: { i: 0 },
          off: { b: false },
          label: { s: enc('a"b\n\u00e9') },
          ks: { list: { i: [1, 3, 3, 1] } },
          empty: { list: {} },
        },
      },
    ],
    versions: { producer: 27 },
  };
}

// Written by hand from the rules of Python protobuf's text_format (not produced by the writer).
const SMALL_TEXT = `node {
  name: "in"
  op: "Placeholder"
  attr {
    key: "dtype"
    value {
      type: DT_FLOAT
    }
  }
  attr {
    key: "shape"
    value {
      shape {
        dim {
          size: -1
        }
        dim {
          size: 2
        }
      }
    }
  }
}
node {
  name: "w"
  op: "Const"
  attr {
    key: "dtype"
    value {
      type: DT_FLOAT
    }
  }
  attr {
    key: "value"
    value {
      tensor {
        dtype: DT_FLOAT
        tensor_shape {
          dim {
            size: 2
          }
        }
        tensor_content: "\\000\\000\\200?\\000\\000\\000\\300"
      }
    }
  }
}
node {
  name: "mul"
  op: "Mul"
  input: "in"
  input: "w:0"
  input: "^ctl"
  device: "/cpu:0"
  attr {
    key: "T"
    value {
      type: DT_FLOAT
    }
  }
  attr {
    key: "empty"
    value {
      list {
      }
    }
  }
  attr {
    key: "eps"
    value {
      f: 0.001
    }
  }
  attr {
    key: "ks"
    value {
      list {
        i: 1
        i: 3
        i: 3
        i: 1
      }
    }
  }
  attr {
    key: "label"
    value {
      s: "a\\"b\\n\\303\\251"
    }
  }
  attr {
    key: "off"
    value {
      b: false
    }
  }
  attr {
    key: "zero"
    value {
      i: 0
    }
  }
}
versions {
  producer: 27
}
`;

/** Attr maps in key order: text output sorts them, while TF's binary writer leaves them in any order. */
function sortAttrs(g: GraphDef): GraphDef {
  return {
    ...g,
    node: g.node.map((n) => ({ ...n, attr: Object.fromEntries(Object.keys(n.attr).sort().map((k) => [k, n.attr[k]!])) })),
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

test('golden text of a small hand-built graph', () => {
  assert.fixture(graphToText(smallGraph()), SMALL_TEXT);
});

test('the golden text parses back to the same graph', () => {
  const g = textToGraph(SMALL_TEXT, 'small.pbtxt');
  assert.ok(sameBytes(encodeGraph(g), encodeGraph(sortAttrs(smallGraph()))));
  assert.is(g.node[2]!.attr['eps']!.f, Math.fround(0.001));
  assert.equal(Array.from(g.node[1]!.attr['value']!.tensor!.tensor_content!), [0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0]);
  assert.is(new TextDecoder().decode(g.node[2]!.attr['label']!.s), 'a"b\n\u00e9');
});

test('floats: Python protobuf rules (6..9 significant digits, first that round-trips as float32)', () => {
  assert.is(formatFloat(0.1), '0.1');
  assert.is(formatFloat(Math.fround(0.9)), '0.9'); // not 0.899999976
  assert.is(formatFloat(1), '1.0');
  assert.is(formatFloat(1e-5), '1e-05');
  assert.is(formatFloat(0.0001), '0.0001');
  assert.is(formatFloat(-2.5), '-2.5');
  // float32(123456789) = 123456792; '%.8g' gives 123456790, which reads back as the same float32.
  assert.is(formatFloat(123456789), '123456790.0');
  // FLT_MAX: 3.40282347e38; 8 digits (3.4028235e38) round to it.
  assert.is(formatFloat(3.4028234663852886e38), '3.4028235e+38');
  assert.is(formatFloat(1e16), '1e+16');
  assert.is(formatFloat(-0), '-0.0');
  assert.is(formatFloat(NaN), 'nan');
  assert.is(formatFloat(-Infinity), '-inf');
  for (const v of [Math.fround(1 / 3), Math.fround(Math.PI), 1.401298464324817e-45, Math.fround(6.02e23)]) {
    assert.is(Math.fround(Number(formatFloat(v))), v, `${v} round-trips`);
  }
  assert.is(formatDouble(0.1), '0.1');
  assert.is(formatDouble(1 / 3), '0.3333333333333333');
  assert.is(formatDouble(1e22), '1e+22');
  assert.is(formatDouble(123.0), '123.0');
});

test('C escaping: named escapes, octal for the rest of the non-printables', () => {
  const bytes = new Uint8Array([0, 7, 9, 10, 13, 34, 39, 92, 65, 32, 126, 127, 200, 255]);
  assert.is(cEscape(bytes), "\\000\\007\\t\\n\\r\\\"\\'\\\\A ~\\177\\310\\377");
});

test('determinism: same graph, attrs in another insertion order, same text', () => {
  const a = graphToText(smallGraph());
  const g = smallGraph();
  for (const n of g.node) n.attr = Object.fromEntries(Object.entries(n.attr).reverse());
  assert.is(graphToText(g), a);
  assert.is(graphToText(smallGraph()), a);
});

test('every shared model: graph -> text -> graph gives the same bytes, text -> graph -> text the same text', () => {
  for (const file of SHARED_MODELS) {
    const g = decodeGraph(readShared(`models/${file}`), { source: file });
    const text = graphToText(g);
    const back = textToGraph(text, file);
    assert.ok(sameBytes(encodeGraph(sortAttrs(back)), encodeGraph(sortAttrs(g))), `${file}: bytes differ after text round trip`);
    assert.is(graphToText(back), text, `${file}: text differs after round trip`);
  }
});

test("parses OpenCV's own opencv_face_detector.pbtxt", () => {
  const text = readFileSync(new URL('opencv_face_detector.pbtxt', `file://${MODELS}`), 'utf8');
  const g = textToGraph(text, 'opencv_face_detector.pbtxt');
  // Independent counts straight from the text.
  assert.is(g.node.length, text.match(/^node \{/gm)!.length);
  for (const op of ['Conv2D', 'Const', 'DetectionOutput', 'PriorBox', 'FusedBatchNorm']) {
    assert.is(g.node.filter((n) => n.op === op).length, text.split(`op: "${op}"\n`).length - 1, op);
  }
  const bn = g.node.find((n) => n.name === 'data_bn/FusedBatchNorm')!;
  assert.equal(bn.input, ['data:0', 'data_bn/gamma', 'data_bn/beta', 'data_bn/mean', 'data_bn/std']);
  assert.is(bn.attr['epsilon']!.f, Math.fround(1.00099996416e-5));
  const pads = g.node.find((n) => n.name === 'SpaceToBatchND/paddings')!.attr['value']!.tensor!;
  assert.is(pads.dtype, DataType.DT_INT32);
  assert.equal(pads.int_val, [3, 3, 3, 3]);
  assert.equal(pads.tensor_shape!.dim!.map((d) => d.size), [2, 2]);
  const again = textToGraph(graphToText(g));
  assert.ok(sameBytes(encodeGraph(again), encodeGraph(sortAttrs(g))));
});

test('reader: comments, <> and list syntax, quotes, escapes, numbers in every spelling', () => {
  const text = `# a comment
node <
  name: 'a' "b"   # adjacent strings concatenate
  op: "Const";
  input: ["x", 'y:1'],
  attr { key: "value" value: {
    tensor {
      dtype: 1
      tensor_shape { dim: [ { size: 0x3 }, { size: 010 } ] }
      float_val: [1.5f, -inf, inf, nan, 2, .25, 1e-3]
      tensor_content: "\\x41\\101\\u00e9"
    }
  } }
  attr { value { b: True } key: "flag" }
>
versions { producer: 1 min_consumer: 0 }
`;
  const g = textToGraph(text);
  const n = g.node[0]!;
  assert.is(n.name, 'ab');
  assert.equal(n.input, ['x', 'y:1']);
  const t = n.attr['value']!.tensor!;
  assert.is(t.dtype, DataType.DT_FLOAT);
  assert.equal(t.tensor_shape!.dim!.map((d) => d.size), [3, 8]);
  assert.equal(t.float_val!.slice(0, 3), [1.5, -Infinity, Infinity]);
  assert.ok(Number.isNaN(t.float_val![3]));
  assert.equal(t.float_val!.slice(4), [2, 0.25, Math.fround(1e-3)]);
  assert.equal(Array.from(t.tensor_content!), [0x41, 0x41, 0xc3, 0xa9]);
  assert.is(n.attr['flag']!.b, true);
  assert.is(g.versions!.producer, 1);
});

test('reader: errors name the source and line:column', () => {
  const cases: Array<[string, RegExp]> = [
    ['node {\n  name: "a"\n  opp: "X"\n}\n', /Cannot parse g\.pbtxt at 3:3: unknown field "opp" in tensorflow\.NodeDef/],
    ['node {\n  name "a"\n}\n', /at 2:8: expected ":" after field "name"/],
    ['node {\n  name: "a\n}\n', /at 2:9: string literal is not terminated/],
    ['node {\n  name: "a"\n', /expected "}" before the end of input/],
    ['node { name: "a" op: "B" attr { key: "T" value { type: DT_NOPE } } }', /at 1:56: unknown DataType value "DT_NOPE"/],
    ['versions { producer: 99999999999 }', /at 1:22: 99999999999 is out of range for int32/],
    ['node { name: "a" name: "b" op: "C" }', /at 1:18: non-repeated field "name" is given more than once/],
    ['node { name: "a" }', /Cannot parse g\.pbtxt: node #0 has no op \(name "a"\)/],
  ];
  for (const [text, re] of cases) {
    try {
      textToGraph(text, 'g.pbtxt');
      assert.unreachable(`should have thrown for ${JSON.stringify(text)}`);
    } catch (e) {
      assert.instance(e, FacenetDnnError);
      assert.is((e as FacenetDnnError).code, 'ERR_DECODE');
      assert.match((e as Error).message, re);
    }
  }
});

test('opencvConfig: no Const nodes, no tensors, no internal attrs; Identity kept', () => {
  const g = smallGraph();
  g.node.push({
    name: 'w/read',
    op: 'Identity',
    input: ['w'],
    attr: {
      T: { type: DataType.DT_FLOAT },
      _class: { list: { s: [enc('loc:@w')] } },
      _output_shapes: { list: { shape: [{ dim: [{ size: 2 }] }] } },
    },
  });
  const text = graphToText(g, { opencvConfig: true });
  const back = textToGraph(text);
  assert.equal(back.node.map((n) => n.name), ['in', 'mul', 'w/read']);
  assert.not.match(text, /tensor|_output_shapes|_class|Const/);
  assert.equal(Object.keys(back.node[2]!.attr), ['T']);
  assert.is(back.versions!.producer, 27);
});

test('writer refuses opaque parts it cannot print as TF text, config mode drops them', () => {
  const g = smallGraph();
  g.node[2]!.experimental_type = new Uint8Array([8, 1]);
  assert.throws(() => graphToText(g), (e: unknown) => e instanceof FacenetDnnError && /node "mul".*experimental_type/.test((e as Error).message));
  assert.not.match(graphToText(g, { opencvConfig: true }), /experimental_type/);
});

test.run();

/** A tiny GraphDef builder for tests: hand-made graphs in a few lines. */
import { DataType } from '../../src/converter/proto/types.js';
import type { AttrValue, GraphDef, NodeDef } from '../../src/converter/proto/types.js';
import { attrValue, constNode, makeShape } from '../../src/converter/tensor.js';

export { attrValue as a };

export class GraphBuilder {
  readonly nodes: NodeDef[] = [];

  /** A Placeholder; `shape` undefined means unknown rank. */
  placeholder(name: string, shape?: number[], dtype: number = DataType.DT_FLOAT): string {
    const attr: Record<string, AttrValue> = { dtype: { type: dtype } };
    if (shape) attr['shape'] = { shape: makeShape(shape) };
    this.nodes.push({ name, op: 'Placeholder', input: [], attr });
    return name;
  }

  /** A Const written as tensor_content. */
  const(name: string, data: ArrayLike<number>, shape: number[], dtype: number = DataType.DT_FLOAT): string {
    const typed =
      dtype === DataType.DT_FLOAT ? Float32Array.from(data)
      : dtype === DataType.DT_BOOL ? Uint8Array.from(data)
      : dtype === DataType.DT_INT64 ? Float64Array.from(data)
      : Int32Array.from(data);
    this.nodes.push(constNode(name, { dtype, shape, data: typed }));
    return name;
  }

  /** A Const stored as TF's splat form: one float_val for a whole shape (as slim's gamma of ones). */
  splat(name: string, value: number, shape: number[]): string {
    this.nodes.push({
      name,
      op: 'Const',
      input: [],
      attr: {
        dtype: { type: DataType.DT_FLOAT },
        value: { tensor: { dtype: DataType.DT_FLOAT, tensor_shape: makeShape(shape), float_val: [value] } },
      },
    });
    return name;
  }

  /** Any op; `T` defaults to DT_FLOAT unless given in attrs (pass `T: undefined` to omit). */
  op(op: string, name: string, inputs: string[], attrs: Record<string, AttrValue | undefined> = {}): string {
    const attr: Record<string, AttrValue> = {};
    const withT = { T: attrValue.type(DataType.DT_FLOAT), ...attrs };
    for (const [k, v] of Object.entries(withT)) if (v) attr[k] = v;
    this.nodes.push({ name, op, input: inputs, attr });
    return name;
  }

  build(): GraphDef {
    return { node: this.nodes.map((n) => ({ ...n, input: [...n.input], attr: { ...n.attr } })), versions: { producer: 26 } };
  }
}

/** The op histogram of a graph, e.g. `{ Const: 3, Conv2D: 1 }`. */
export function opCounts(graph: GraphDef): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of graph.node) out[n.op] = (out[n.op] ?? 0) + 1;
  return out;
}

/**
 * A read-only index over a GraphDef: nodes by name and who consumes each node. Built once per pass;
 * passes never mutate the GraphDef they are given, they build a new node list.
 */
import { FacenetDnnError } from '../errors.js';
import type { GraphDef, NodeDef } from '../proto/types.js';
import { parseInput, type InputRef } from './names.js';

/** One consumer edge: `node.input[index]` reads from the indexed node. */
export interface Consumer {
  node: NodeDef;
  index: number;
  ref: InputRef;
}

export class GraphIndex {
  readonly graph: GraphDef;
  readonly byName: ReadonlyMap<string, NodeDef>;
  private readonly consumerMap = new Map<string, Consumer[]>();

  constructor(graph: GraphDef) {
    this.graph = graph;
    const byName = new Map<string, NodeDef>();
    for (const n of graph.node) {
      if (byName.has(n.name)) throw new FacenetDnnError('ERR_GRAPH', `Invalid graph: node name "${n.name}" appears twice`);
      byName.set(n.name, n);
    }
    this.byName = byName;
    for (const n of graph.node) {
      n.input.forEach((s, index) => {
        const ref = parseInput(s);
        let list = this.consumerMap.get(ref.node);
        if (!list) this.consumerMap.set(ref.node, (list = []));
        list.push({ node: n, index, ref });
      });
    }
  }

  get nodes(): readonly NodeDef[] {
    return this.graph.node;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The node called `name`, or undefined. */
  find(name: string): NodeDef | undefined {
    return this.byName.get(name);
  }

  /**
   * The node called `name`.
   * @throws {FacenetDnnError} `ERR_UNKNOWN_NODE` when there is none.
   */
  get(name: string, role = 'node'): NodeDef {
    const n = this.byName.get(name);
    if (!n) throw new FacenetDnnError('ERR_UNKNOWN_NODE', `Cannot find ${role} "${name}" in the graph`);
    return n;
  }

  /** Every edge (data and control) that reads from `name`. */
  consumers(name: string): readonly Consumer[] {
    return this.consumerMap.get(name) ?? [];
  }

  /** The node that produces data input `input` of some node (without `^`/`:N`). */
  producer(input: string): NodeDef | undefined {
    return this.byName.get(parseInput(input).node);
  }
}

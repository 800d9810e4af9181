/**
 * Stable topological order and cycle detection. TensorFlow while loops feed a Merge back from a
 * NextIteration; that edge is not a dependency and is ignored, as TensorFlow's own executor does.
 */
import { FacenetDnnError } from '../errors.js';
import type { GraphDef, NodeDef } from '../proto/types.js';
import { parseInput } from './names.js';

function isBackEdge(consumer: NodeDef, producer: NodeDef | undefined): boolean {
  return consumer.op === 'Merge' && producer?.op === 'NextIteration';
}

/**
 * Orders nodes so that every node comes after its (data and control) inputs. Among nodes that are
 * ready at the same time, the one earlier in the original list comes first, so an already sorted
 * graph is returned unchanged and the result is deterministic.
 *
 * @throws {FacenetDnnError} `ERR_GRAPH` naming the nodes of a cycle, or a missing input.
 */
export function topoSort(nodes: readonly NodeDef[]): NodeDef[] {
  const index = new Map<string, number>();
  nodes.forEach((n, i) => index.set(n.name, i));
  const pending = new Int32Array(nodes.length);
  const out: number[][] = nodes.map(() => []);
  nodes.forEach((n, i) => {
    for (const s of n.input) {
      const ref = parseInput(s);
      const j = index.get(ref.node);
      if (j === undefined) {
        throw new FacenetDnnError('ERR_GRAPH', `Invalid graph: node "${n.name}" (${n.op}) reads "${s}", which is not in the graph`);
      }
      if (isBackEdge(n, nodes[j])) continue;
      pending[i]!++;
      out[j]!.push(i);
    }
  });
  // A binary min-heap of ready node indices keeps the order stable in O(N log N).
  const heap: number[] = [];
  const push = (v: number) => {
    heap.push(v);
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (heap[p]! <= v) break;
      heap[i] = heap[p]!;
      i = p;
    }
    heap[i] = v;
  };
  const pop = (): number => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= heap.length) break;
        const r = l + 1;
        const c = r < heap.length && heap[r]! < heap[l]! ? r : l;
        if (heap[c]! >= last) break;
        heap[i] = heap[c]!;
        i = c;
      }
      heap[i] = last;
    }
    return top;
  };
  for (let i = 0; i < nodes.length; i++) if (pending[i] === 0) push(i);
  const order: NodeDef[] = [];
  while (heap.length) {
    const i = pop();
    order.push(nodes[i]!);
    for (const j of out[i]!) if (--pending[j]! === 0) push(j);
  }
  if (order.length !== nodes.length) {
    throw new FacenetDnnError('ERR_GRAPH', `Invalid graph: it has a cycle through ${describeCycle(nodes, pending, index)}`);
  }
  return order;
}

function describeCycle(nodes: readonly NodeDef[], pending: Int32Array, index: Map<string, number>): string {
  // Walk backwards from an unsorted node along unsorted inputs until a node repeats.
  let i = pending.findIndex((p) => p > 0);
  const seen = new Map<number, number>();
  const path: number[] = [];
  while (!seen.has(i)) {
    seen.set(i, path.length);
    path.push(i);
    const n = nodes[i]!;
    const next = n.input
      .map((s) => index.get(parseInput(s).node)!)
      .find((j) => pending[j]! > 0 && !isBackEdge(n, nodes[j]));
    if (next === undefined) break;
    i = next;
  }
  const cycle = path.slice(seen.get(i) ?? 0).reverse().map((k) => `"${nodes[k]!.name}"`);
  const shown = cycle.length > 6 ? [...cycle.slice(0, 6), '…'] : cycle;
  return `${shown.join(' → ')} → ${cycle[0]}`;
}

/** The graph with nodes in stable topological order. */
export function sortGraph(graph: GraphDef): GraphDef {
  return { ...graph, node: topoSort(graph.node) };
}

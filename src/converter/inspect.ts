/**
 * Graph summaries in the spirit of TensorFlow's summarize_graph: inputs, outputs, op histogram,
 * constant parameters, control edges; plus inference of a graph's inputs and outputs.
 */
import { GraphIndex } from './graph/graph.js';
import { parseInput } from './graph/names.js';
import { DataType, dataTypeName } from './proto/types.js';
import type { GraphDef, NodeDef } from './proto/types.js';
import { attr, numElements, shapeDims } from './tensor.js';

/** A graph input as the summary shows it. */
export interface InputInfo {
  name: string;
  op: string;
  dtype: string;
  /** Dims, -1 unknown; `null` for unknown rank. */
  shape: number[] | null;
}

export interface GraphSummary {
  nodes: number;
  /** Placeholders (and PlaceholderWithDefault). */
  inputs: InputInfo[];
  /** Nodes whose outputs nothing reads, excluding Const, NoOp and side-effect-only ops. */
  outputs: string[];
  /** op → count, sorted by count descending then op name. */
  ops: Record<string, number>;
  /** Number of elements of every Const, as summarize_graph counts "constant parameters". */
  constParameters: number;
  controlEdges: number;
  /** Queue ops that feed the graph (a graph fed by training queues needs `--input`). */
  queues: string[];
}

const NOT_OUTPUTS = new Set(['Const', 'NoOp', 'Assign', 'AssignSub', 'AssignAdd', 'SaveV2', 'RestoreV2']);
const QUEUE_OPS = new Set(['FIFOQueueV2', 'FIFOQueue', 'PaddingFIFOQueueV2', 'RandomShuffleQueueV2', 'QueueDequeueUpToV2', 'QueueDequeueManyV2', 'QueueDequeueV2']);

function nodeShape(n: NodeDef): number[] | null {
  if (!n.attr['shape']) return null;
  return shapeDims(n.attr['shape'].shape) ?? null;
}

/** Summarizes a graph. Cheap: reads Const shapes, never their values. */
export function summarizeGraph(graph: GraphDef): GraphSummary {
  const index = new GraphIndex(graph);
  const ops: Record<string, number> = {};
  let constParameters = 0;
  let controlEdges = 0;
  const inputs: InputInfo[] = [];
  const queues: string[] = [];
  for (const n of graph.node) {
    ops[n.op] = (ops[n.op] ?? 0) + 1;
    for (const s of n.input) if (s.startsWith('^')) controlEdges++;
    if (n.op === 'Const') {
      const dims = shapeDims(n.attr['value']?.tensor?.tensor_shape);
      if (dims) constParameters += numElements(dims);
    } else if (n.op === 'Placeholder' || n.op === 'PlaceholderWithDefault') {
      inputs.push({ name: n.name, op: n.op, dtype: dataTypeName(attr.type(n, 'dtype', DataType.DT_INVALID)), shape: nodeShape(n) });
    } else if (QUEUE_OPS.has(n.op) && n.op.startsWith('FIFO')) {
      queues.push(n.name);
    }
  }
  const outputs = graph.node
    .filter((n) => !NOT_OUTPUTS.has(n.op) && !QUEUE_OPS.has(n.op) && index.consumers(n.name).length === 0)
    .map((n) => n.name);
  const sorted = Object.fromEntries(Object.entries(ops).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
  return { nodes: graph.node.length, inputs, outputs, ops: sorted, constParameters, controlEdges, queues };
}

/** Names of every node `from` reaches through data and control edges (forward). */
export function reachableFrom(graph: GraphDef, from: readonly string[]): Set<string> {
  const index = new GraphIndex(graph);
  const seen = new Set<string>(from);
  const stack = [...from];
  while (stack.length) {
    const name = stack.pop()!;
    for (const c of index.consumers(name)) {
      if (!seen.has(c.node.name)) {
        seen.add(c.node.name);
        stack.push(c.node.name);
      }
    }
  }
  return seen;
}

/** Names of every node `to` needs (backward through data and control inputs), stopping at `stopAt`. */
export function ancestorsOf(graph: GraphDef, to: readonly string[], stopAt: ReadonlySet<string> = new Set()): Set<string> {
  const index = new GraphIndex(graph);
  const seen = new Set<string>(to);
  const stack = [...to];
  while (stack.length) {
    const name = stack.pop()!;
    if (stopAt.has(name)) continue;
    const n = index.find(name);
    if (!n) continue;
    for (const s of n.input) {
      const p = parseInput(s).node;
      if (!seen.has(p)) {
        seen.add(p);
        stack.push(p);
      }
    }
  }
  return seen;
}

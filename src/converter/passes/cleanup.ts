/**
 * Pass `cleanup`: the last tidy-up before writing a graph for OpenCV (TF's
 * `sort_by_execution_order` + `remove_device`, plus redundant control edges).
 */
import { parseInput } from '../graph/names.js';
import { sortGraph } from '../graph/sort.js';
import { cloneNode } from '../proto/codec.js';
import type { NodeDef } from '../proto/types.js';
import type { Pass } from './types.js';

function tidy(n: NodeDef): NodeDef {
  const data: string[] = [];
  const dataNodes = new Set<string>();
  const controls: string[] = [];
  const seen = new Set<string>();
  for (const s of n.input) {
    const ref = parseInput(s);
    if (!ref.control) {
      data.push(s);
      dataNodes.add(ref.node);
    }
  }
  for (const s of n.input) {
    const ref = parseInput(s);
    // A control edge from a node already read as data orders nothing more (TF's
    // graph_constructor drops the same redundancy), and a repeated one orders nothing at all.
    if (!ref.control || dataNodes.has(ref.node) || seen.has(ref.node)) continue;
    seen.add(ref.node);
    controls.push(s);
  }
  const input = [...data, ...controls];
  const sameInputs = input.length === n.input.length && input.every((s, i) => s === n.input[i]);
  if (sameInputs && !n.device) return n;
  const out = cloneNode(n, { input });
  // OpenCV ignores devices, but a device from the training machine (`/device:GPU:0`) makes
  // TensorFlow itself refuse the graph elsewhere; the converted graph should run anywhere.
  delete out.device;
  return out;
}

/**
 * Sorts the nodes in stable topological order (`sortGraph`: an already sorted graph keeps its
 * order), clears every `device`, drops control inputs that repeat or that duplicate a data input
 * of the same node, and puts control inputs after data inputs (as TensorFlow requires).
 *
 * @throws {FacenetDnnError} `ERR_GRAPH` for a cycle or a dangling input (from the sort).
 */
export function cleanup(): Pass {
  return {
    name: 'cleanup',
    run(graph) {
      return sortGraph({ ...graph, node: graph.node.map(tidy) });
    },
  };
}

/** Structural validation of a GraphDef: unique names, known inputs, no cycle. */
import { FacenetDnnError } from '../errors.js';
import type { GraphDef } from '../proto/types.js';
import { GraphIndex } from './graph.js';
import { topoSort } from './sort.js';

/**
 * Checks that every node has a unique name, every input names a node in the graph, and the graph
 * has no cycle (a while loop's NextIteration → Merge edge is allowed).
 *
 * @param where names the stage in messages, e.g. `after pass "fold-constants"`.
 * @throws {FacenetDnnError} `ERR_GRAPH` naming the offending node.
 */
export function validateGraph(graph: GraphDef, where?: string): void {
  try {
    new GraphIndex(graph);
    topoSort(graph.node);
  } catch (e) {
    if (e instanceof FacenetDnnError && where) {
      throw new FacenetDnnError(e.code, `${e.message} (${where})`, { cause: e });
    }
    throw e;
  }
}

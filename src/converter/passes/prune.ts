/**
 * Pass `prune`: keeps only what the outputs need, as TF's `strip_unused_nodes` / `extract_sub_graph`
 * do, with the inputs as the frontier (what is above a fed node is not needed).
 */
import { FacenetDnnError } from '../errors.js';
import { parseInput } from '../graph/names.js';
import type { NodeDef } from '../proto/types.js';
import type { Pass } from './types.js';

/**
 * Keeps the nodes that `ctx.outputs` need through data and control inputs, transitively, without
 * looking past `ctx.inputs` (an input is kept; its own inputs are not needed since it is fed).
 * Every node named in `ctx.inputs` / `ctx.outputs` is kept, even if unused (with a warning).
 * A Placeholder reached that is not in `ctx.inputs` is kept too: it is an extra input the caller
 * must feed or freeze, and reports. Node order is preserved.
 *
 * @throws {FacenetDnnError} `ERR_UNKNOWN_NODE` naming an output or input that is not in the graph;
 *   `ERR_AMBIGUOUS` when `ctx.outputs` is empty (everything would be removed).
 */
export function prune(): Pass {
  return {
    name: 'prune',
    run(graph, ctx) {
      if (ctx.outputs.length === 0) {
        throw new FacenetDnnError('ERR_AMBIGUOUS', 'Cannot prune the graph: no outputs were given');
      }
      const byName = new Map<string, NodeDef>();
      for (const n of graph.node) byName.set(n.name, n);
      // Accept `name:0` spellings of outputs, as users copy tensor names from TF code.
      const outputs = ctx.outputs.map((o) => parseInput(o).node);
      for (const o of outputs) {
        if (!byName.has(o)) throw new FacenetDnnError('ERR_UNKNOWN_NODE', `Cannot prune the graph: output "${o}" is not in the graph`);
      }
      const inputs = new Set(ctx.inputs.map((i) => parseInput(i).node));
      for (const i of inputs) {
        if (!byName.has(i)) throw new FacenetDnnError('ERR_UNKNOWN_NODE', `Cannot prune the graph: input "${i}" is not in the graph`);
      }
      const keep = new Set<string>();
      const stack = [...outputs];
      while (stack.length) {
        const name = stack.pop()!;
        if (keep.has(name)) continue;
        keep.add(name);
        const node = byName.get(name);
        if (inputs.has(name)) {
          if (node && node.input.length > 0) {
            ctx.warn(`Input "${name}" (${node.op}) has inputs of its own, which are pruned away: make it a Placeholder first (set-inputs)`);
          }
          continue;
        }
        if (!node) {
          // A dangling input: leave it for validateGraph to report with the consumer's name.
          continue;
        }
        for (const s of node.input) {
          const dep = parseInput(s).node;
          if (!keep.has(dep)) stack.push(dep);
        }
      }
      for (const i of inputs) {
        if (!keep.has(i)) {
          ctx.warn(`Input "${i}" is not used by any output`);
          keep.add(i);
        }
      }
      if (keep.size === graph.node.length) return graph;
      return { ...graph, node: graph.node.filter((n) => keep.has(n.name)) };
    },
  };
}

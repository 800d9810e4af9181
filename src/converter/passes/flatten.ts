/**
 * Pass `flatten`: makes batch-dynamic Reshapes constant without baking the batch in.
 *
 * slim.flatten writes `Reshape(x, Pack(StridedSlice(Shape(x), [0], [1], [1], shrink_axis_mask=1), -1))`,
 * and FaceNet's bottleneck batch norm reshapes back with `Reshape(y, Shape(MatMul))`. With a
 * dynamic batch, constant folding must leave those shape computations live (their first element is
 * the batch), and OpenCV cannot run a live Shape outside its own flatten pattern. TF's
 * `strip_unused_nodes(shape="1,…")` + `fold_constants` instead bakes batch 1 in (`Reshape [1,-1]`),
 * which breaks OpenCV runs with N > 1 (docs/facenet-graph.md, docs/opencv-js.md).
 *
 * The rewrite is only made when shape inference *proves* it: the Reshape's output shape is
 * [b, d1, …, dk] where b is the very same unknown dim as x's dim 0 (the batch symbol) and every di
 * is known. Then `Reshape(x, [-1, d1, …, dk])` gives the same result for every batch size, since
 * the element counts agree and -1 resolves to b. Anything else is left as is (with a warning when a
 * dynamic shape computation remains). A Reshape with a constant shape is never changed, even one
 * whose first dim is 1 on a batch-dynamic input: that is warned about, not guessed at.
 *
 * The shape computations the rewrite orphans (Shape, StridedSlice, Pack, their constants) are
 * removed, except nodes named in ctx.inputs/ctx.outputs.
 */
import { GraphIndex } from '../graph/graph.js';
import { parseInput, tensorKey } from '../graph/names.js';
import { analyzeShapes } from '../graph/shapes.js';
import { KERNELS } from '../kernels/index.js';
import { DataType } from '../proto/types.js';
import type { NodeDef } from '../proto/types.js';
import { attr, constNode, constValue } from '../tensor.js';
import type { Pass } from './types.js';

/**
 * Creates the `flatten` pass. Run it after `fold-constants` (so constant shapes are already Consts).
 *
 * @example
 * ```ts
 * const g = flattenBatchDynamic().run(foldConstants().run(graph, ctx), ctx);
 * ```
 */
export function flattenBatchDynamic(): Pass {
  return {
    name: 'flatten',
    run(graph, ctx) {
      const io = new Set([...ctx.inputs, ...ctx.outputs].map((n) => parseInput(n).node));
      const analysis = analyzeShapes(graph);
      const index = new GraphIndex(graph);
      const taken = new Set(graph.node.map((n) => n.name));
      const replaced = new Map<string, NodeDef>();
      const added = new Map<string, NodeDef>();
      const orphanCandidates: string[] = [];

      for (const n of graph.node) {
        if (n.op !== 'Reshape') continue;
        const data = n.input.filter((s) => !s.startsWith('^'));
        if (data.length !== 2) continue;
        const xRef = parseInput(data[0]!);
        const sRef = parseInput(data[1]!);
        const xs = analysis.shape(tensorKey(xRef.node, xRef.port));
        const batch = xs?.[0];
        const batchDynamic = batch !== undefined && batch < 0;
        const producer = index.find(sRef.node);
        if (producer?.op === 'Const') {
          let first: number | undefined;
          try {
            first = constValue(producer)?.data[0];
          } catch {
            first = undefined;
          }
          if (batchDynamic && first === 1) {
            ctx.warn(`Reshape "${n.name}" has the constant shape input "${producer.name}" with batch 1 although its input's batch is dynamic; left as is, so the graph only runs batch 1`);
          }
          continue;
        }
        const out = analysis.shape(tensorKey(n.name, 0));
        if (analysis.knownValue(tensorKey(sRef.node, sRef.port))) continue; // fold-constants' job
        if (!batchDynamic || !out || out[0] !== batch || out.slice(1).some((d) => d < 0)) {
          if (batchDynamic) {
            ctx.warn(
              `Cannot make Reshape "${n.name}" batch-dynamic: its output shape [${out?.map((d) => (d < 0 ? -1 : d)) ?? '?'}] is not [batch, known dims…] of its input's batch; left as is`,
            );
          }
          continue;
        }
        const dtype = attr.type(n, 'Tshape', DataType.DT_INT32);
        let name = `${n.name}/shape`;
        for (let i = 1; taken.has(name); i++) name = `${n.name}/shape_${i}`;
        taken.add(name);
        const dims = [-1, ...out.slice(1)];
        const data32 = dtype === DataType.DT_INT64 ? Float64Array.from(dims) : Int32Array.from(dims);
        added.set(n.name, constNode(name, { dtype: dtype === DataType.DT_INT64 ? dtype : DataType.DT_INT32, shape: [dims.length], data: data32 }, n.device));
        const input = n.input.map((s) => (s === data[1] ? name : s));
        replaced.set(n.name, { ...n, input, attr: { ...n.attr } });
        orphanCandidates.push(sRef.node);
      }
      if (replaced.size === 0) return graph;

      let nodes: NodeDef[] = [];
      for (const n of graph.node) {
        const a = added.get(n.name);
        if (a) nodes.push(a);
        nodes.push(replaced.get(n.name) ?? n);
      }
      // Remove the now-unused pure shape computations, transitively.
      const uses = new Map<string, number>();
      for (const n of nodes) for (const s of n.input) {
        const p = parseInput(s).node;
        uses.set(p, (uses.get(p) ?? 0) + 1);
      }
      const byName = new Map(nodes.map((n) => [n.name, n]));
      const removed = new Set<string>();
      const stack = [...orphanCandidates];
      while (stack.length) {
        const name = stack.pop()!;
        const n = byName.get(name);
        if (!n || removed.has(name) || io.has(name) || (uses.get(name) ?? 0) > 0) continue;
        if (!(n.op === 'Const' || n.op === 'Shape' || KERNELS.has(n.op))) continue;
        removed.add(name);
        for (const s of n.input) {
          const p = parseInput(s).node;
          uses.set(p, (uses.get(p) ?? 1) - 1);
          stack.push(p);
        }
      }
      nodes = nodes.filter((n) => !removed.has(n.name));
      return { ...graph, node: nodes };
    },
  };
}

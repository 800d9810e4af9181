/**
 * Pass `fold-constants`: evaluates, on the CPU, every node whose value does not depend on what is
 * fed, and replaces it with a Const of the same name. OpenCV's importer cannot run shape
 * arithmetic (a live Shape, Rsqrt or Maximum outside its fused patterns is rejected, see
 * docs/opencv-js.md), and HED's conv2d_transpose output shapes are exactly such chains.
 *
 * What is folded:
 * - a node whose data inputs are all constant, when a kernel exists for its op (kernels/);
 * - a node whose value static shape inference knows completely (graph/shapes.ts): `Shape(x)` when
 *   x's shape is fully known, or `StridedSlice(Shape(x), [1], [4])` when only x's batch is dynamic.
 *   A dynamic (-1) dim is never turned into a constant: `Shape(x)` of a [-1,4,4,3] tensor stays.
 *
 * Naming: a folded node becomes a Const with its own name holding output 0. When a consumer reads
 * output k > 0 of a folded multi-output node (Unpack, Split), a Const named `<name>/_<k>` (made
 * unique with a `_<n>` suffix if needed) holds it and the consumer is rewired to it.
 *
 * Control inputs of a folded node are dropped: in a frozen inference graph they only order side
 * effects (variable updates, asserts), and a constant has none to order. The one case where a
 * control edge carries meaning, a tf.cond branch (a dead Switch output makes everything below it
 * dead, and TF ties branch constants with `^switch_t`), is excluded: nodes downstream of a Switch
 * (by data or control edges, up to a Merge) are never folded, so resolve Switch/Merge first.
 *
 * Const nodes that were consumed before and are not any more are removed (never a node named in
 * ctx.inputs/ctx.outputs); a folded output keeps its name.
 *
 * Cost: weights are never decoded unless a foldable op consumes them; Identity-like ops of a Const
 * share its TensorProto without decoding.
 */
import { GraphIndex } from '../graph/graph.js';
import { parseInput, tensorKey, tensorName } from '../graph/names.js';
import { analyzeShapes } from '../graph/shapes.js';
import { topoSort } from '../graph/sort.js';
import { KERNELS } from '../kernels/index.js';
import type { NodeDef, TensorProto } from '../proto/types.js';
import { constNode, isNumericDtype, numElements, shapeDims, tensorToHost, type HostTensor } from '../tensor.js';
import type { Pass } from './types.js';

/** Options of {@link foldConstants}. */
export interface FoldOptions {
  /**
   * Largest constant (in elements) the pass creates when the result is bigger than every input,
   * as Fill, Tile or a broadcast can do; such nodes are skipped with a warning. Results no larger
   * than an existing constant (e.g. weights × scale) are always allowed. Default 16 Mi elements.
   */
  maxElements?: number;
}

/** Ops that are never folded, whatever their inputs: they read feeds, state or randomness. */
const NEVER_FOLD = new Set([
  'Placeholder', 'PlaceholderWithDefault', 'PlaceholderV2', 'Variable', 'VariableV2', 'VarHandleOp',
  'ReadVariableOp', 'RandomUniform', 'RandomUniformInt', 'RandomStandardNormal', 'TruncatedNormal',
  'RandomShuffle', 'Multinomial', 'RandomGamma', 'RandomPoisson', 'Assign', 'AssignAdd', 'AssignSub',
]);

/** Ops that start or carry a control-flow frame: their outputs may be dead. */
const COND_OPS = new Set(['Switch', 'RefSwitch', 'Enter', 'RefEnter', 'NextIteration', 'LoopCond', 'Exit']);

/** Ops that pass their input through unchanged: folding them shares the Const's TensorProto. */
const ALIAS_OPS = new Set(['Identity', 'Snapshot', 'StopGradient', 'PreventGradient']);

/** A folded value: a TensorProto shared from a Const, or a host tensor computed by a kernel. */
type Folded = { proto: TensorProto; dtype: number; shape: number[] } | { host: HostTensor };

function foldedShape(f: Folded): number[] {
  return 'host' in f ? f.host.shape : f.shape;
}

/**
 * Creates the `fold-constants` pass.
 *
 * @example
 * ```ts
 * const folded = foldConstants().run(graph, makeContext(['input'], ['embeddings']));
 * ```
 */
export function foldConstants(options: FoldOptions = {}): Pass {
  const maxElements = options.maxElements ?? 16 * 1024 * 1024;
  return {
    name: 'fold-constants',
    run(graph, ctx) {
      const io = new Set([...ctx.inputs, ...ctx.outputs].map((n) => parseInput(n).node));
      const outputs = new Set(ctx.outputs.map((n) => parseInput(n).node));
      const multiOutput = (n: NodeDef) => n.op === 'Unpack' || n.op === 'Split';
      const index = new GraphIndex(graph);
      const order = topoSort(graph.node);
      const analysis = analyzeShapes(graph);

      // Dead-ness taint: outputs of control-flow ops and everything below them, up to a Merge.
      const tainted = new Set<string>();
      for (const n of order) {
        if (COND_OPS.has(n.op)) tainted.add(n.name);
        else if (n.op !== 'Merge' && n.input.some((s) => tainted.has(parseInput(s).node))) tainted.add(n.name);
      }

      // Constant tensors by key: original Consts are decoded lazily, folded ones are stored.
      const folded = new Map<string, Folded[]>();
      const decoded = new Map<string, HostTensor>();
      const isConstNode = (n: NodeDef | undefined): n is NodeDef => {
        const t = n?.op === 'Const' ? n.attr['value']?.tensor : undefined;
        return !!n && !!t && isNumericDtype(t.dtype) && !tainted.has(n.name);
      };
      const valueAt = (name: string, port: number): Folded | undefined => {
        const f = folded.get(name);
        if (f) return f[port];
        const n = index.find(name);
        if (port !== 0 || !isConstNode(n)) return undefined;
        const t = n.attr['value']!.tensor!;
        return { proto: t, dtype: t.dtype, shape: shapeDims(t.tensor_shape) ?? [] };
      };
      const hostOf = (name: string, f: Folded): HostTensor => {
        if ('host' in f) return f.host;
        let h = decoded.get(name);
        if (!h) decoded.set(name, (h = tensorToHost(f.proto, `"${name}"`)));
        return h;
      };

      for (const node of order) {
        if (node.op === 'Const' || NEVER_FOLD.has(node.op) || tainted.has(node.name) || io.has(node.name) && !outputs.has(node.name)) continue;
        // A fetched multi-output node keeps its op, so `name:k` stays fetchable.
        if (outputs.has(node.name) && multiOutput(node)) continue;
        const refs = node.input.map(parseInput);
        const data = refs.filter((r) => !r.control);
        const ins = data.map((r) => valueAt(r.node, r.port));
        const kernel = KERNELS.get(node.op);
        if (kernel && data.length > 0 && ins.every((v) => v !== undefined)) {
          const inputs = ins as Folded[];
          if (ALIAS_OPS.has(node.op)) {
            folded.set(node.name, [inputs[0]!]);
            continue;
          }
          const outShape = analysis.shape(tensorKey(node.name, 0));
          const biggestIn = Math.max(0, ...inputs.map((f) => numElements(foldedShape(f))));
          if (outShape && outShape.every((d) => d >= 0) && numElements(outShape) > maxElements && numElements(outShape) > biggestIn) {
            ctx.warn(`Cannot fold "${node.name}" (${node.op}): its ${numElements(outShape)}-element result exceeds the ${maxElements}-element limit; left as is`);
            continue;
          }
          try {
            const hosts = inputs.map((f, i) => hostOf(data[i]!.node, f));
            const outs = kernel(hosts, node);
            folded.set(node.name, outs.map((h) => ({ host: h })));
          } catch (e) {
            ctx.warn(`Cannot fold "${node.name}" (${node.op}): ${(e as Error).message}; left as is`);
          }
          continue;
        }
        // Shape-derived values: fully known though the inputs are not constant.
        const k0 = analysis.knownValue(tensorKey(node.name, 0));
        if (!k0) continue;
        const usedPorts = new Set(index.consumers(node.name).filter((c) => !c.ref.control).map((c) => c.ref.port));
        const outs: Folded[] = [{ host: k0 }];
        let ok = true;
        for (const p of usedPorts) {
          if (p === 0) continue;
          const v = analysis.knownValue(tensorKey(node.name, p));
          if (!v) ok = false;
          else outs[p] = { host: v };
        }
        if (ok) folded.set(node.name, outs);
      }
      if (folded.size === 0) return graph;

      // Which outputs of folded nodes are still read, and which Consts are still needed.
      const taken = new Set(graph.node.map((n) => n.name));
      const portName = new Map<string, string>();
      const nameFor = (node: string, port: number): string => {
        const key = tensorKey(node, port);
        let name = portName.get(key);
        if (!name) {
          name = `${node}/_${port}`;
          for (let i = 1; taken.has(name); i++) name = `${node}/_${port}_${i}`;
          taken.add(name);
          portName.set(key, name);
        }
        return name;
      };
      const neededPorts = new Map<string, Set<number>>();
      const needPort = (name: string, port: number) => {
        let s = neededPorts.get(name);
        if (!s) neededPorts.set(name, (s = new Set()));
        s.add(port);
      };
      const needed = new Set<string>();
      const stack: string[] = [];
      const visit = (name: string) => {
        if (!needed.has(name)) {
          needed.add(name);
          stack.push(name);
        }
      };
      for (const n of graph.node) {
        const unconsumedConst = n.op === 'Const' && index.consumers(n.name).length === 0;
        if ((n.op !== 'Const' && !folded.has(n.name)) || io.has(n.name) || unconsumedConst) visit(n.name);
        // A folded node nobody read stays as a Const: removing dead code is prune's job.
        if (folded.has(n.name) && (io.has(n.name) || index.consumers(n.name).length === 0)) needPort(n.name, 0);
      }
      while (stack.length) {
        const n = index.find(stack.pop()!);
        if (!n || folded.has(n.name)) continue;
        for (const s of n.input) {
          const r = parseInput(s);
          if (folded.has(r.node)) needPort(r.node, r.control ? 0 : r.port);
          visit(r.node);
        }
      }

      const nodes: NodeDef[] = [];
      for (const n of graph.node) {
        const f = folded.get(n.name);
        if (f) {
          for (const p of [...(neededPorts.get(n.name) ?? [])].sort((a, b) => a - b)) {
            const v = f[p];
            if (!v) continue;
            nodes.push(makeConst(p === 0 ? n.name : nameFor(n.name, p), v, n.device));
          }
          continue;
        }
        if (!needed.has(n.name)) continue;
        if (n.input.some((s) => {
          const r = parseInput(s);
          return !r.control && r.port > 0 && folded.has(r.node);
        })) {
          const input = n.input.map((s) => {
            const r = parseInput(s);
            return !r.control && r.port > 0 && folded.has(r.node) ? tensorName(nameFor(r.node, r.port)) : s;
          });
          nodes.push({ ...n, input });
        } else nodes.push(n);
      }
      return { ...graph, node: nodes };
    },
  };
}

function makeConst(name: string, f: Folded, device: string | undefined): NodeDef {
  if ('host' in f) return constNode(name, f.host, device);
  const node: NodeDef = { name, op: 'Const', input: [], attr: { dtype: { type: f.dtype }, value: { tensor: f.proto } } };
  if (device) node.device = device;
  return node;
}


/**
 * Pass `remove-identity`: bypasses nodes that only forward their input, and removes NoOps.
 *
 * A frozen TF1 graph reads every variable through a `<var>/read` Identity and wraps inputs in
 * Identity/StopGradient/CheckNumerics; they cost nothing in TensorFlow but are layers in OpenCV,
 * and they hide the patterns later passes (batch-norm folding, constant folding) look for.
 * This is TF's `remove_nodes(op=Identity, op=CheckNumerics, ...)` transform, done without Python.
 */
import { FacenetDnnError } from '../errors.js';
import { GraphIndex } from '../graph/graph.js';
import { parseInput } from '../graph/names.js';
import { topoSort } from '../graph/sort.js';
import { cloneNode } from '../proto/codec.js';
import type { NodeDef } from '../proto/types.js';
import type { Pass } from './types.js';

/** Ops whose output 0 is their data input 0, unchanged (at inference time). */
const BYPASS = new Set([
  'Identity',
  'RefIdentity',
  'CheckNumerics',
  'StopGradient',
  'PreventGradient',
  'Snapshot',
  'PlaceholderWithDefault',
]);
const MERGE = new Set(['Merge', 'RefMerge']);
const SWITCH = new Set(['Switch', 'RefSwitch']);

/**
 * Bypasses Identity, RefIdentity, CheckNumerics, StopGradient, PreventGradient, Snapshot and
 * PlaceholderWithDefault nodes (consumers read the bypassed node's data input, port included:
 * `x:1` stays `x:1`; a PlaceholderWithDefault is replaced by its default), and removes NoOps.
 *
 * Nodes named in `ctx.inputs` / `ctx.outputs` are never removed (OpenCV cannot fetch an Identity,
 * but that is the caller's concern); a PlaceholderWithDefault named in `ctx.inputs` becomes a plain
 * Placeholder instead.
 *
 * Control edges, the choice made: a control edge *to* a removed node (`^id`) is redirected to the
 * node that now produces its value (and, for a NoOp, to the NoOp's own control inputs, so a
 * grouping NoOp keeps ordering what it ordered). Control inputs *of* a bypassed node are dropped,
 * because once Switch/Merge are resolved they only order stateful ops an inference graph no
 * longer has; the exception is a bypassed node read by a Merge/RefMerge: there a control input can
 * make a branch dead in TensorFlow's executor, so it is moved to the consumers to keep the
 * semantics for graphs whose conds are not resolved yet. For the same reason an Identity of a
 * Switch output that is read through control edges (a cond pivot, `cond/switch_t`) is kept.
 *
 * @throws {FacenetDnnError} `ERR_GRAPH` when a node reads an output port other than 0 of a node
 *   to bypass (such a graph is malformed).
 */
export function removeIdentity(): Pass {
  return {
    name: 'remove-identity',
    run(graph, ctx) {
      const inputs = new Set(ctx.inputs.map((s) => parseInput(s).node));
      const keep = new Set([...inputs, ...ctx.outputs.map((s) => parseInput(s).node)]);
      if (!graph.node.some((n) => (BYPASS.has(n.op) || n.op === 'NoOp') && (!keep.has(n.name) || n.op === 'PlaceholderWithDefault'))) {
        return graph;
      }
      const index = new GraphIndex(graph);
      // Bypassed node -> the tensor consumers read instead (already resolved through chains).
      const alias = new Map<string, string>();
      // Removed node -> the nodes a control input `^node` is replaced by.
      const ctrlAlias = new Map<string, string[]>();
      // Bypassed node read by a Merge -> control inputs its data consumers take over.
      const forwarded = new Map<string, string[]>();

      const resolveData = (consumer: NodeDef, s: string): string => {
        const ref = parseInput(s);
        const to = alias.get(ref.node);
        if (to === undefined) return s;
        if (ref.port !== 0) {
          throw new FacenetDnnError(
            'ERR_GRAPH',
            `Cannot bypass "${ref.node}": "${consumer.name}" reads its output ${ref.port}, but it has one output`,
          );
        }
        return to;
      };
      /** The control inputs node `n` should have once removed nodes are replaced. */
      const controlsOf = (n: NodeDef): string[] => {
        const out = new Set<string>();
        for (const s of n.input) {
          const ref = parseInput(s);
          if (ref.control) {
            for (const c of ctrlAlias.get(ref.node) ?? [ref.node]) out.add(c);
          } else {
            for (const c of forwarded.get(ref.node) ?? []) out.add(c);
          }
        }
        out.delete(n.name);
        return [...out];
      };

      const replaced = new Map<string, NodeDef>();
      for (const n of topoSort(graph.node)) {
        if (n.op === 'PlaceholderWithDefault' && inputs.has(n.name)) {
          // The caller feeds it: TF's PlaceholderWithDefault is a Placeholder with a fallback.
          const p: NodeDef = { name: n.name, op: 'Placeholder', input: [], attr: {} };
          if (n.attr['dtype']) p.attr['dtype'] = n.attr['dtype'];
          if (n.attr['shape']) p.attr['shape'] = n.attr['shape'];
          if (n.device) p.device = n.device;
          replaced.set(n.name, p);
          continue;
        }
        if (keep.has(n.name)) continue;
        if (n.op === 'NoOp') {
          ctrlAlias.set(n.name, controlsOf(n));
          continue;
        }
        const data = n.input.find((s) => !s.startsWith('^'));
        if (!BYPASS.has(n.op) || data === undefined) continue;
        // A cond pivot (`cond/switch_t` = Identity(Switch:1)) read through control edges is what
        // makes a branch's constants dead in TF's executor; `^Switch` would always be live. Such
        // pivots only exist while conds are unresolved (switch-merge runs first in the pipeline).
        const from = index.find(parseInput(data).node);
        if (from && SWITCH.has(from.op) && index.consumers(n.name).some((c) => c.ref.control)) continue;
        const target = resolveData(n, data);
        alias.set(n.name, target);
        const ctrls = controlsOf(n);
        const readByMerge = index.consumers(n.name).some((c) => MERGE.has(c.node.op));
        if (readByMerge && ctrls.length > 0) forwarded.set(n.name, ctrls);
        ctrlAlias.set(n.name, [parseInput(target).node, ...(readByMerge ? ctrls : [])]);
      }

      const out: NodeDef[] = [];
      for (const n of graph.node) {
        if (ctrlAlias.has(n.name)) continue; // bypassed or NoOp
        const r = replaced.get(n.name);
        if (r) {
          out.push(r);
          continue;
        }
        const dataIn = n.input.filter((s) => !s.startsWith('^')).map((s) => resolveData(n, s));
        const next = [...dataIn, ...controlsOf(n).map((c) => `^${c}`)];
        const same = next.length === n.input.length && next.every((s, i) => s === n.input[i]);
        out.push(same ? n : cloneNode(n, { input: next }));
      }
      return { ...graph, node: out };
    },
  };
}

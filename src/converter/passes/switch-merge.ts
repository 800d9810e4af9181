/**
 * Pass `switch-merge`: resolves TF1 control flow (`tf.cond`) whose predicates are constants.
 *
 * TF1 `tf.cond(pred, true_fn, false_fn)` is built from `Switch(data, pred)` nodes, whose output 0
 * carries `data` when `pred` is false and output 1 when it is true (the other output is *dead*), and
 * `Merge(inputs...)` nodes, which forward whichever input is alive (output 1 is the index of that
 * input, int32). TensorFlow's executor propagates deadness: a node with a dead input is not run and
 * its outputs are dead too; a control input from a dead node makes the node dead as well (that is
 * how the constants of a branch, which carry `^cond/switch_t`, are tied to it); only a Merge runs
 * as soon as one input is alive.
 *
 * OpenCV's importer knows neither op, and FaceNet has 2019 Switch and 449 Merge (every slim batch
 * norm and the dropout sit in a `tf.cond` on `phase_train`). Once the predicate is frozen, this pass
 * replays the executor's deadness propagation statically: dead nodes are removed, and the Switch
 * and Merge nodes are bypassed. Unlike rewiring every Merge consumer to `input[0]`, this picks the
 * live input whatever order the Merge lists its inputs in.
 */
import { FacenetDnnError } from '../errors.js';
import { parseInput, tensorName } from '../graph/names.js';
import { cloneNode } from '../proto/codec.js';
import { topoSort } from '../graph/sort.js';
import { DataType } from '../proto/types.js';
import type { NodeDef } from '../proto/types.js';
import { constNode, constValue } from '../tensor.js';
import type { Pass } from './types.js';

const SWITCH = new Set(['Switch', 'RefSwitch']);
const MERGE = new Set(['Merge', 'RefMerge']);
/** Ops that forward their input 0 unchanged: a predicate may reach a Switch through them. */
const FORWARD = new Set(['Identity', 'RefIdentity', 'Snapshot', 'StopGradient']);

interface Pred {
  value: boolean | null;
  /** The node where the predicate chain ends (the Const, or what is not a constant). */
  root: string;
}

/**
 * Resolves every `Switch` / `RefSwitch` and `Merge` / `RefMerge` whose predicate is constant.
 *
 * Predicates are followed through Identity-like nodes (FaceNet's `cond/pred_id` is an Identity of
 * `phase_train`), `LogicalNot` and already-resolved Switch/Merge outputs to a scalar DT_BOOL Const.
 * Then:
 * - nodes that TensorFlow would find dead are removed;
 * - consumers of a Switch's taken output read the Switch's data input instead (with its port);
 * - consumers of `Merge` / `Merge:0` read the Merge's one live input; consumers of `Merge:1` read a
 *   new int32 Const `<merge>/value_index` holding that input's index;
 * - a control input `^S` on a removed live Switch/Merge is forwarded to the node now feeding its
 *   consumers (keeping the ordering it expressed); control inputs from dead nodes disappear with
 *   the nodes (any live consumer of one would itself be dead).
 * A Switch or Merge named in `ctx.inputs`/`ctx.outputs` is kept as an Identity of the same name.
 * Runs in O(N) after a topological sort (O(N log N)).
 *
 * @throws {FacenetDnnError} `ERR_NOT_CONSTANT` when a live Switch's predicate is not a constant
 *   (e.g. `phase_train` was not frozen); `ERR_UNSUPPORTED_OP` for a while loop's Switch;
 *   `ERR_GRAPH` when a node named in `ctx.outputs`/`ctx.inputs` is on an untaken branch.
 * @example
 * ```ts
 * let g = freezePlaceholders({ phase_train: false }).run(graph, ctx);
 * g = resolveSwitchMerge().run(g, ctx);
 * ```
 */
export function resolveSwitchMerge(): Pass {
  return {
    name: 'switch-merge',
    run(graph, ctx) {
      if (!graph.node.some((n) => SWITCH.has(n.op) || MERGE.has(n.op))) return graph;
      const byName = new Map<string, NodeDef>();
      for (const n of graph.node) byName.set(n.name, n);
      // Dead node -> the Switch whose untaken output killed it (for messages).
      const dead = new Map<string, string>();
      // Live Switch -> its taken output port.
      const takenPort = new Map<string, number>();
      // `node:port` of a bypassed Switch/Merge output -> the (already resolved) tensor it forwards.
      const alias = new Map<string, string>();
      // Bypassed Switch/Merge -> the node that replaces it in control inputs.
      const ctrlAlias = new Map<string, string>();
      // Live Merge -> index of its live input (the value of Merge:1).
      const mergeIndex = new Map<string, number>();
      const predMemo = new Map<string, Pred>();

      const resolve = (s: string): string => {
        const ref = parseInput(s);
        return alias.get(`${ref.node}:${ref.port}`) ?? tensorName(ref.node, ref.port);
      };
      /** The Switch that makes data input `s` dead, or undefined when `s` is live. */
      const deadCause = (s: string): string | undefined => {
        const ref = parseInput(s);
        const d = dead.get(ref.node);
        if (d !== undefined) return d;
        if (ref.control) return undefined; // a control edge from a live Switch is live (TF executor)
        const port = takenPort.get(ref.node);
        return port !== undefined && port !== ref.port ? ref.node : undefined;
      };
      const predicate = (tensor: string): Pred => {
        // Walk Identity/LogicalNot chains iteratively, memoizing every node on the way, so that
        // 2019 Switches sharing a handful of predicates cost O(N) in total.
        const path: NodeDef[] = [];
        let t = resolve(tensor);
        let result: Pred | undefined;
        for (;;) {
          const ref = parseInput(t);
          const memo = predMemo.get(ref.node);
          if (memo && ref.port === 0) {
            result = memo;
            break;
          }
          const node = byName.get(ref.node);
          if (!node || ref.port !== 0) {
            result = { value: null, root: ref.node };
            break;
          }
          if ((FORWARD.has(node.op) || node.op === 'LogicalNot') && node.input[0] !== undefined) {
            path.push(node);
            t = resolve(node.input[0]);
            continue;
          }
          let value: boolean | null = null;
          if (node.op === 'Const') {
            const h = constValue(node);
            if (h && h.dtype === DataType.DT_BOOL && h.data.length === 1) value = h.data[0] !== 0;
          }
          result = { value, root: node.name };
          predMemo.set(node.name, result);
          break;
        }
        for (let i = path.length - 1; i >= 0; i--) {
          const node = path[i]!;
          if (node.op === 'LogicalNot' && result.value !== null) result = { value: !result.value, root: result.root };
          predMemo.set(node.name, result);
        }
        return result;
      };

      for (const n of topoSort(graph.node)) {
        if (MERGE.has(n.op)) {
          // A Merge ignores dead inputs and control inputs: it runs when one data input is live.
          let live = -1;
          let liveCount = 0;
          let cause: string | undefined;
          let k = 0;
          for (const s of n.input) {
            if (s.startsWith('^')) continue;
            const c = deadCause(s);
            if (c === undefined) {
              if (live < 0) live = k;
              liveCount++;
            } else cause ??= c;
            k++;
          }
          if (live < 0) {
            dead.set(n.name, cause ?? n.name);
            continue;
          }
          if (liveCount > 1) {
            ctx.warn(`Merge "${n.name}" has ${liveCount} live inputs; TensorFlow forwards whichever comes first, input ${live} is used`);
          }
          const dataInputs = n.input.filter((s) => !s.startsWith('^'));
          const target = resolve(dataInputs[live]!);
          alias.set(`${n.name}:0`, target);
          ctrlAlias.set(n.name, parseInput(target).node);
          mergeIndex.set(n.name, live);
          continue;
        }
        let cause: string | undefined;
        for (const s of n.input) {
          cause = deadCause(s);
          if (cause !== undefined) break;
        }
        if (cause !== undefined) {
          dead.set(n.name, cause);
          continue;
        }
        if (SWITCH.has(n.op)) {
          const data = n.input[0];
          const predInput = n.input[1];
          if (data === undefined || predInput === undefined || predInput.startsWith('^')) {
            throw new FacenetDnnError('ERR_GRAPH', `Cannot resolve ${n.op} "${n.name}": it needs a data and a predicate input`);
          }
          const pred = predicate(predInput);
          if (pred.value === null) {
            if (byName.get(pred.root)?.op === 'LoopCond') {
              throw new FacenetDnnError(
                'ERR_UNSUPPORTED_OP',
                `Cannot resolve ${n.op} "${n.name}": it belongs to a while loop (its predicate "${pred.root}" is a LoopCond)`,
              );
            }
            throw new FacenetDnnError(
              'ERR_NOT_CONSTANT',
              `Cannot resolve Switch "${n.name}": its predicate "${pred.root}" is not a constant (freeze it, e.g. --set phase_train=false)`,
            );
          }
          const port = pred.value ? 1 : 0;
          const target = resolve(data);
          takenPort.set(n.name, port);
          alias.set(`${n.name}:${port}`, target);
          ctrlAlias.set(n.name, parseInput(target).node);
        }
      }

      const kept = new Set([...ctx.inputs, ...ctx.outputs].map((s) => parseInput(s).node));
      for (const name of kept) {
        const cause = dead.get(name);
        if (cause !== undefined) {
          throw new FacenetDnnError(
            'ERR_GRAPH',
            `Cannot resolve conditionals: "${name}" is on the untaken branch of Switch "${cause}", so it is never computed`,
          );
        }
      }

      const taken = new Set<string>(byName.keys());
      const uniqueName = (base: string): string => {
        let name = base;
        for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
        taken.add(name);
        return name;
      };
      const indexConst = new Map<string, string>();
      const out: NodeDef[] = [];
      for (const n of graph.node) {
        if (dead.has(n.name)) continue;
        const bypassed = takenPort.has(n.name) || mergeIndex.has(n.name);
        if (bypassed) {
          if (kept.has(n.name)) {
            // Never drop a node the caller feeds or fetches: keep its name as an Identity.
            const port = takenPort.get(n.name) ?? 0;
            const from = alias.get(`${n.name}:${port}`)!;
            const id: NodeDef = { name: n.name, op: 'Identity', input: [from], attr: {} };
            if (n.attr['T']) id.attr['T'] = n.attr['T'];
            if (n.device) id.device = n.device;
            out.push(id);
          }
          continue;
        }
        let changed = false;
        const inputs = n.input.map((s) => {
          const ref = parseInput(s);
          if (ref.control) {
            const to = ctrlAlias.get(ref.node);
            if (to === undefined) return s;
            changed = true;
            return `^${to}`;
          }
          if (mergeIndex.has(ref.node) && ref.port === 1) {
            let c = indexConst.get(ref.node);
            if (c === undefined) {
              c = uniqueName(`${ref.node}/value_index`);
              indexConst.set(ref.node, c);
              out.push(constNode(c, { dtype: DataType.DT_INT32, shape: [], data: Int32Array.of(mergeIndex.get(ref.node)!) }));
            }
            changed = true;
            return c;
          }
          const to = alias.get(`${ref.node}:${ref.port}`);
          if (to === undefined) return s;
          changed = true;
          return to;
        });
        out.push(changed ? cloneNode(n, { input: inputs }) : n);
      }
      return { ...graph, node: out };
    },
  };
}

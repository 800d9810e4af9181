/**
 * The ordered pass list and the runner that validates the graph before and after every pass.
 */
import { FacenetDnnError } from './errors.js';
import { validateGraph } from './graph/validate.js';
import type { GraphDef } from './proto/types.js';
import type { InputSpec, Pass, PassContext } from './passes/types.js';
import { freezePlaceholders } from './passes/freeze-placeholders.js';
import { setInputs } from './passes/set-inputs.js';
import { prune } from './passes/prune.js';
import { resolveSwitchMerge } from './passes/switch-merge.js';
import { removeIdentity } from './passes/remove-identity.js';
import { foldConstants } from './passes/fold-constants.js';
import { flattenBatchDynamic } from './passes/flatten.js';
import { foldBatchNorms } from './passes/fold-batch-norms.js';
import { opencvCompat } from './passes/opencv-compat.js';
import { cleanup } from './passes/cleanup.js';

/** Progress of a pipeline run, reported after each pass. */
export interface PassProgress {
  pass: string;
  /** 1-based position of the pass. */
  index: number;
  total: number;
  /** Wall time of the pass in milliseconds. */
  ms: number;
  nodes: number;
}

export interface PipelineSettings {
  /** Placeholders to freeze to scalar constants, e.g. `{ phase_train: false }`. */
  set: Readonly<Record<string, number | boolean>>;
  /** Inputs to create or reshape. */
  inputs: readonly InputSpec[];
}

/** The passes of a full conversion, in order. */
export function defaultPasses(settings: PipelineSettings): Pass[] {
  const passes: Pass[] = [];
  if (Object.keys(settings.set).length) passes.push(freezePlaceholders({ ...settings.set }));
  passes.push(
    setInputs([...settings.inputs]),
    prune(),
    resolveSwitchMerge(),
    removeIdentity(),
    foldConstants(),
    flattenBatchDynamic(),
    foldBatchNorms(),
    // Batch-norm folding leaves per-channel arithmetic on constants (scale·W, shift) already
    // computed, but a second folding round catches chains it exposed (e.g. Mul of two consts).
    foldConstants(),
    opencvCompat(),
    prune(),
    cleanup(),
  );
  return passes;
}

/**
 * Runs passes in order, validating the graph before the first and after every pass.
 *
 * @throws {FacenetDnnError} from any pass, or `ERR_GRAPH` naming the pass after which the graph
 *   became invalid (a bug in that pass).
 */
export function runPasses(
  graph: GraphDef,
  passes: readonly Pass[],
  ctx: PassContext,
  onProgress?: (p: PassProgress) => void,
): GraphDef {
  validateGraph(graph, 'in the input graph');
  let g = graph;
  passes.forEach((pass, i) => {
    const t0 = performance.now();
    g = pass.run(g, ctx);
    try {
      validateGraph(g, `after pass "${pass.name}"`);
    } catch (e) {
      if (e instanceof FacenetDnnError) throw new FacenetDnnError('ERR_GRAPH', `Internal error: ${e.message}`, { cause: e });
      throw e;
    }
    onProgress?.({ pass: pass.name, index: i + 1, total: passes.length, ms: performance.now() - t0, nodes: g.node.length });
  });
  return g;
}

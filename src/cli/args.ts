/** Argument parsing helpers for the CLI: shapes, `--set` values, `--input NAME[:dims]`. */
import type { InputSpec } from '../converter/passes/types.js';

/** A usage mistake: printed with a hint to `--help`, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Parses `1,160,160,3` (with `-1` or `?` for a dynamic size). */
export function parseShape(text: string, what = 'shape'): number[] {
  const parts = text.split(',').map((s) => s.trim());
  const dims = parts.map((p) => (p === '?' ? -1 : Number(p)));
  if (!parts.length || parts.some((p) => p === '') || dims.some((d) => !Number.isInteger(d) || d < -1)) {
    throw new UsageError(`Cannot parse ${what}: "${text}" is not comma-separated integers such as 1,160,160,3 (-1 for dynamic)`);
  }
  return dims;
}

/**
 * Parses `--input NAME[:d0,d1,...]`. TensorFlow node names cannot contain a colon (it separates a
 * tensor's output index), so everything after the last colon is the shape, and a bad shape is a usage
 * error rather than a node name nobody has.
 */
export function parseInputSpec(text: string): InputSpec {
  const colon = text.lastIndexOf(':');
  if (colon < 0) {
    if (!text) throw new UsageError('Cannot parse --input "": expected NAME or NAME:d0,d1,...');
    return { name: text };
  }
  const name = text.slice(0, colon);
  if (!name) throw new UsageError(`Cannot parse --input "${text}": expected NAME or NAME:d0,d1,... with a name before the colon`);
  return { name, shape: parseShape(text.slice(colon + 1), `the shape in --input "${text}"`) };
}

/** Parses `--set NAME=VALUE` where VALUE is true, false or a number. */
export function parseSet(text: string): [string, number | boolean] {
  const eq = text.lastIndexOf('=');
  if (eq <= 0) throw new UsageError(`Cannot parse --set "${text}": expected NAME=VALUE, e.g. phase_train=false`);
  const name = text.slice(0, eq);
  const raw = text.slice(eq + 1).trim();
  if (raw === 'true' || raw === 'True') return [name, true];
  if (raw === 'false' || raw === 'False') return [name, false];
  const n = Number(raw);
  if (raw === '' || !Number.isFinite(n)) {
    throw new UsageError(`Cannot parse --set "${text}": value "${raw}" is not true, false or a number`);
  }
  return [name, n];
}

const BUILDS = ['auto', 'simd-threads', 'simd', 'stock'] as const;

/**
 * `--build NAME` and `--threads N` as OpenCV.js load options (forward, embed, compare, verify).
 * Read before anything slow runs, so a mistake is a usage error at once.
 */
export function parseOpenCVFlags(values: Record<string, unknown>): { build?: (typeof BUILDS)[number]; threads?: number } {
  const out: { build?: (typeof BUILDS)[number]; threads?: number } = {};
  const build = values['build'];
  if (build !== undefined) {
    if (!(BUILDS as readonly unknown[]).includes(build)) throw new UsageError(`Cannot use --build "${String(build)}": expected ${BUILDS.join(', ')}`);
    out.build = build as (typeof BUILDS)[number];
  }
  const threads = values['threads'];
  if (threads !== undefined) {
    const n = Number(threads);
    if (!Number.isInteger(n) || n < 1 || n > 4) throw new UsageError(`Cannot use --threads "${String(threads)}": expected an integer from 1 to 4 (the threads build's pool)`);
    out.threads = n;
  }
  return out;
}

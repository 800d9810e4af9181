/** File I/O for the CLI: reading inputs with clear errors, and all-or-nothing writes. */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UsageError } from './args.js';

/** Reads a whole file; a missing or unreadable file is a usage error naming it. */
export function readInput(path: string): Uint8Array {
  try {
    const b = readFileSync(path);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (e as Error).message;
    throw new UsageError(`Cannot read "${path}": ${why}`);
  }
}

/**
 * Writes several files all-or-nothing: each goes to a temporary file beside its target, and the
 * temporaries are renamed into place only once all were written. On any failure none of the targets
 * is created or changed and the temporaries are removed.
 */
export function writeAll(files: Array<{ path: string; data: Uint8Array | string }>): void {
  const temps: string[] = [];
  try {
    for (const f of files) {
      const tmp = join(dirname(f.path), `.${basename(f.path)}.${process.pid}.tmp`);
      temps.push(tmp);
      writeFileSync(tmp, f.data);
    }
    files.forEach((f, i) => renameSync(temps[i]!, f.path));
  } catch (e) {
    for (const t of temps) rmSync(t, { force: true });
    throw e;
  }
}

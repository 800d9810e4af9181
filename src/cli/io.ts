/** File I/O for the CLI: reading inputs with clear errors, and all-or-nothing writes. */
import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** A file that cannot be read or written: printed as is, exit code 1 (not a usage mistake). */
export class FileError extends Error {
  override name = 'FileError';
}

function reason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EISDIR':
      return 'it is a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EROFS':
      return 'read-only file system';
    default:
      return (e as Error).message;
  }
}

/** Reads a whole file; a missing or unreadable file is a {@link FileError} naming it. */
export function readInput(path: string): Uint8Array {
  try {
    const b = readFileSync(path);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    throw new FileError(`Cannot read "${path}": ${reason(e)}`);
  }
}

/**
 * Checks that `path` can be a new or replaced file: its directory exists, and it is not a directory.
 * Done before a conversion so a typo in `-o` fails in milliseconds, not after the work.
 */
export function checkWritable(path: string): void {
  const dir = dirname(path);
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new FileError(`Cannot write "${path}": directory "${dir}" does not exist`);
  }
  if (!isDir) throw new FileError(`Cannot write "${path}": "${dir}" is not a directory`);
  let target;
  try {
    target = statSync(path);
  } catch {
    return;
  }
  if (target.isDirectory()) throw new FileError(`Cannot write "${path}": it is a directory`);
}

/**
 * Writes several files all-or-nothing: each goes to a temporary file beside its target, and the
 * temporaries are renamed into place only once all were written (a rename within one directory is
 * atomic on POSIX, so a reader never sees a half-written model). On any failure none of the targets
 * is created or changed and the temporaries are removed.
 */
export function writeAll(files: Array<{ path: string; data: Uint8Array | string }>): void {
  const temps: string[] = [];
  let current = files[0]?.path ?? '';
  try {
    for (const f of files) {
      current = f.path;
      const tmp = join(dirname(f.path), `.${basename(f.path)}.${process.pid}.tmp`);
      temps.push(tmp);
      writeFileSync(tmp, f.data);
    }
    files.forEach((f, i) => {
      current = f.path;
      renameSync(temps[i]!, f.path);
    });
  } catch (e) {
    for (const t of temps) rmSync(t, { force: true });
    const code = (e as NodeJS.ErrnoException).code;
    // ENOENT on the temporary means its directory is missing: say so about the file the user named.
    const why = code === 'ENOENT' ? `directory "${dirname(current)}" does not exist` : reason(e);
    throw new FileError(`Cannot write "${current}": ${why}`);
  }
}

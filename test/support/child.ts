/** Runs a TypeScript script in a fresh Node process (through tsx) and reads the JSON of its last stdout line. */
import { spawnSync } from 'node:child_process';

export interface ChildResult {
  status: number | null;
  /** The last stdout line parsed, or `{ unparsed: stdout }`. */
  json: Record<string, unknown>;
  stderr: string;
  ms: number;
}

export function runChild(script: string, args: string[], timeoutMs: number): ChildResult {
  const t = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { encoding: 'utf8', timeout: timeoutMs });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(line) as Record<string, unknown>;
  } catch {
    json = { unparsed: r.stdout };
  }
  return { status: r.status, json, stderr: r.stderr, ms: Date.now() - t };
}

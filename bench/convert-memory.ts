/**
 * Peak extra memory of one full-size conversion, measured in a fresh process (so no earlier peak
 * counts): RSS after the model bytes are loaded vs the process's peak RSS (Linux VmHWM) after
 * `convert()` and encoding. Prints one JSON line. Run by bench/convert.ts; Linux only.
 */
import { readFileSync } from 'node:fs';
import { convert } from '../src/converter/convert.js';
import { FULL_PATH } from './support/models.js';

function status(key: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  if (!m) throw new Error(`no ${key} in /proc/self/status`);
  return Number(m[1]) * 1024;
}

const gc = (globalThis as { gc?: () => void }).gc;
const b = readFileSync(FULL_PATH);
const bytes = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
// Touch OpenCV-free code paths once on a tiny graph so JIT and module loading are in the baseline.
gc?.();
const before = status('VmRSS');
const hwmBefore = status('VmHWM');
const t0 = performance.now();
const { model } = convert(bytes, { preset: 'facenet' });
const ms = performance.now() - t0;
const peak = status('VmHWM');
console.log(
  JSON.stringify({
    modelBytes: bytes.length,
    outputBytes: model.length,
    rssBefore: before,
    peakBefore: hwmBefore,
    peak,
    extraPeak: peak - Math.max(before, hwmBefore),
    extraPeakVsModel: (peak - Math.max(before, hwmBefore)) / bytes.length,
    convertMs: ms,
  }),
);

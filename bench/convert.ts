/**
 * Converter benchmarks on the full-size FaceNet-anatomy graph (~95 MB, 23.5 M parameters):
 * decode, encode, full `convert()` (benny, saved as JSON + chart), and peak extra memory of one
 * conversion in a fresh process. Targets (issue #2): convert < 2 s, extra memory < 3× model size.
 */
import b from 'benny';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { convert } from '../src/converter/convert.js';
import { decodeGraph, encodeGraph } from '../src/converter/proto/codec.js';
import { fullModelBytes } from './support/models.js';

const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));

export interface ConvertBenchResult {
  decodeMs: number;
  encodeMs: number;
  convertMs: number;
  memory: { modelBytes: number; extraPeak: number; extraPeakVsModel: number; convertMs: number };
}

function medianMs(r: { details: { median: number } }): number {
  return r.details.median * 1000;
}

export async function runConvertBench(log: (s: string) => void = console.log): Promise<ConvertBenchResult> {
  const bytes = fullModelBytes(log);
  const graph = decodeGraph(bytes);
  mkdirSync(RESULTS, { recursive: true });
  const summary = await b.suite(
    'convert: full-size FaceNet-anatomy graph',
    b.add('decode (95 MB .pb → GraphDef)', () => {
      decodeGraph(bytes);
    }),
    b.add('encode (GraphDef → .pb)', () => {
      encodeGraph(graph);
    }),
    b.add('convert --preset facenet (decode + all passes + encode)', () => {
      convert(bytes, { preset: 'facenet' });
    }),
    b.configure({ cases: { minSamples: 5, maxTime: 8 } }),
    b.cycle(),
    b.complete(),
    b.save({ file: 'convert', folder: RESULTS, format: 'json', details: true }),
    b.save({ file: 'convert', folder: RESULTS, format: 'chart.html' }),
  );
  const [dec, enc, conv] = summary.results as unknown as Array<{ details: { median: number } }>;
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(new URL('./convert-memory.ts', import.meta.url))], {
    encoding: 'utf8',
  });
  const memory = JSON.parse(out.trim().split('\n').pop()!);
  const result = { decodeMs: medianMs(dec!), encodeMs: medianMs(enc!), convertMs: medianMs(conv!), memory };
  writeFileSync(`${RESULTS}convert-summary.json`, JSON.stringify(result, null, 2) + '\n');
  log(
    `convert: decode ${result.decodeMs.toFixed(0)} ms, encode ${result.encodeMs.toFixed(0)} ms, convert ${result.convertMs.toFixed(0)} ms (median); ` +
      `peak extra memory ${(memory.extraPeak / 1e6).toFixed(0)} MB = ${memory.extraPeakVsModel.toFixed(2)}× the ${(memory.modelBytes / 1e6).toFixed(1)} MB model`,
  );
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) await runConvertBench();

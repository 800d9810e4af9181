/** `facenet-dnn verify`: compare a converted graph in OpenCV.js with the original in TensorFlow.js. */
import { basename } from 'node:path';
import { env as tfEnv } from '@tensorflow/tfjs-core';
import { FacenetDnnError } from '../converter/errors.js';
import { PRESETS } from '../converter/presets.js';
import type { InputSpec } from '../converter/passes/types.js';
import { resizeBilinear, toRgb } from '../runtime/preprocess/index.js';
import { loadOpenCV } from '../runtime/opencv/node.js';
import { verifyConversion, verifyInput } from '../verify.js';
import type { VerifyResult, VerifySample } from '../verify.js';
import { parseInputSpec, parseOpenCVFlags, parseSet, UsageError } from './args.js';
import type { Io } from './convert.js';
import { readInput } from './io.js';

type Values = Record<string, string | boolean | string[] | undefined>;

function list(v: unknown): string[] {
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

/**
 * How `--image` pixels become input values: `(x − mean) · scale` per 8-bit channel value.
 * facenet: the fixed standardization 20180402-114759 was trained with; unit: `x / 255`.
 */
const PREPROCESS: Record<string, { mean: number; scale: number }> = {
  facenet: { mean: 127.5, scale: 1 / 128 },
  fixed: { mean: 127.5, scale: 1 / 128 },
  unit: { mean: 0, scale: 1 / 255 },
};

function number(values: Values, key: string, check: (n: number) => boolean, expected: string): number | undefined {
  const raw = values[key];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n) || !check(n)) {
    throw new UsageError(`Cannot use --${key} "${String(raw)}": expected ${expected}`);
  }
  return n;
}

/**
 * One image file as an [H, W, C] float32 input: decoded (JPEG/PNG), converted to grey when C is 1
 * (BT.601 luma, rounded: what OpenCV's `cvtColor(RGB2GRAY)` computes), resized to W×H with the
 * OpenCV-exact bilinear resize of the runtime (aspect ratio not kept), then `(x − mean) · scale`.
 */
async function imageSample(path: string, bytes: Uint8Array, shape: readonly number[], pre: { mean: number; scale: number }): Promise<VerifySample> {
  const [, h, w, c] = shape as [number, number, number, number];
  if (c !== 1 && c !== 3) throw new UsageError(`Cannot use --image "${path}": the input has ${c} channels; images give 1 (grey) or 3 (RGB)`);
  let rgb;
  try {
    rgb = await toRgb(bytes);
  } catch (e) {
    if (e instanceof FacenetDnnError) throw new FacenetDnnError(e.code, `${path}: ${e.message}`, { cause: e });
    throw e;
  }
  let pixels: { width: number; height: number; channels: 1 | 3; data: Uint8Array } = rgb;
  if (c === 1) {
    const grey = new Uint8Array(rgb.width * rgb.height);
    for (let i = 0; i < grey.length; i++) {
      grey[i] = Math.round(0.299 * rgb.data[3 * i]! + 0.587 * rgb.data[3 * i + 1]! + 0.114 * rgb.data[3 * i + 2]!);
    }
    pixels = { width: rgb.width, height: rgb.height, channels: 1, data: grey };
  }
  const resized = resizeBilinear(pixels, { width: w, height: h });
  const data = new Float32Array(resized.data.length);
  for (let i = 0; i < data.length; i++) data[i] = (resized.data[i]! - pre.mean) * pre.scale;
  return { name: basename(path), data };
}

const fmt = (v: number) => (Number.isFinite(v) ? (v === 0 ? '0' : v.toExponential(2)) : String(v));
/** 1e-4 rather than 0.0001: tolerances are read as orders of magnitude. */
const fmtTol = (t: number) => (t !== 0 && t < 1e-3 ? t.toExponential() : String(t));
/** A difference in the failure line: 2 significant digits, 0.43 or 1.7e-5. */
const fmtDelta = (v: number) => (!Number.isFinite(v) ? String(v) : v >= 1e-3 && v < 1e4 ? v.toPrecision(2) : v.toExponential(1));
const fmtCos = (v: number) => (Number.isFinite(v) ? v.toFixed(9) : String(v));

/** JSON with NaN and ±Infinity kept readable (JSON.stringify would write null). */
function toJson(result: VerifyResult, files: { original: string; converted: string }): string {
  return JSON.stringify({ ...files, ...result }, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2);
}

export async function runVerify(args: string[], values: Values, io: Io): Promise<number> {
  if (args.length !== 2) {
    throw new UsageError(`verify takes the original and the converted graph, got ${args.length} file${args.length === 1 ? '' : 's'}: facenet-dnn verify ORIGINAL.pb CONVERTED.pb`);
  }
  const [originalPath, convertedPath] = args as [string, string];
  const opencvFlags = parseOpenCVFlags(values);
  const presetName = typeof values['preset'] === 'string' ? values['preset'] : undefined;
  if (presetName !== undefined && !Object.hasOwn(PRESETS, presetName)) {
    throw new UsageError(`Unknown preset "${presetName}" (known: ${Object.keys(PRESETS).join(', ')})`);
  }
  const preset = presetName !== undefined ? PRESETS[presetName] : undefined;
  // Explicit flags win over the preset, as in convert.
  const set = { ...preset?.set, ...Object.fromEntries(list(values['set']).map(parseSet)) };
  const given = list(values['input']).map(parseInputSpec);
  if (given.length > 1) throw new UsageError(`verify takes one --input (OpenCV.js feeds one input per forward), got ${given.length}`);
  const inputs: InputSpec[] | undefined = given.length
    ? given.map((g) => ({ ...g, shape: g.shape ?? preset?.inputs.find((p) => p.name === g.name)?.shape }))
    : preset?.inputs;
  const outputsGiven = list(values['output']);
  const outputs = outputsGiven.length ? outputsGiven : preset?.outputs;
  const tolerance = number(values, 'tolerance', (n) => n >= 0, 'a number ≥ 0 such as 1e-4') ?? 1e-4;
  const randomSamples = number(values, 'random', (n) => Number.isInteger(n) && n >= 0, 'an integer ≥ 0');
  const seed = number(values, 'seed', (n) => Number.isInteger(n), 'an integer');
  let range: [number, number] | undefined;
  if (typeof values['range'] === 'string') {
    const r = values['range'].split(',').map((s) => (s.trim() === '' ? NaN : Number(s)));
    if (r.length !== 2 || !r.every(Number.isFinite) || !(r[0]! < r[1]!)) throw new UsageError(`Cannot use --range "${values['range']}": expected LO,HI with LO < HI, e.g. 0,1`);
    range = [r[0]!, r[1]!];
  }
  const backend = values['backend'] ?? 'wasm';
  if (backend !== 'wasm' && backend !== 'cpu') throw new UsageError(`Cannot use --backend "${String(backend)}": expected wasm or cpu`);
  const preName = typeof values['preprocess'] === 'string' ? values['preprocess'] : presetName === 'facenet' ? 'facenet' : 'unit';
  const pre = PREPROCESS[preName];
  if (!pre) throw new UsageError(`Cannot use --preprocess "${preName}" with verify: expected facenet ((x - 127.5) / 128) or unit (x / 255)`);
  const standardize = {
    mean: number(values, 'image-mean', () => true, 'a number') ?? pre.mean,
    scale: number(values, 'image-scale', (n) => n !== 0, 'a non-zero number') ?? pre.scale,
  };
  const images = list(values['image']);

  const originalBytes = readInput(originalPath);
  const convertedBytes = readInput(convertedPath);
  const imageBytes = images.map((f) => readInput(f)); // a missing image fails now, not after loading OpenCV.js
  // tfjs prints advice to stdout/stderr (e.g. "install our node backend") unless in prod mode.
  tfEnv().set('PROD', true);
  const cv = await loadOpenCV(opencvFlags);
  const names = { original: basename(originalPath), converted: basename(convertedPath) };

  let samples: VerifySample[] | undefined;
  if (images.length) {
    // Images are resized for the shape verifyConversion will feed.
    const { shape } = verifyInput(convertedBytes, { inputs, name: names.converted });
    samples = [];
    for (let i = 0; i < images.length; i++) samples.push(await imageSample(images[i]!, imageBytes[i]!, shape, standardize));
  }
  const result = await verifyConversion(originalBytes, convertedBytes, {
    cv,
    inputs,
    outputs,
    set: Object.keys(set).length ? set : undefined,
    samples,
    randomSamples,
    range,
    seed,
    tolerance,
    backend,
    names,
  });

  if (values['json']) {
    io.out(toJson(result, { original: originalPath, converted: convertedPath }));
  } else {
    const r = range ?? [-1, 1];
    const randoms = result.runs.filter((x) => x.label.startsWith('random #')).length;
    io.out(`verify ${originalPath} (TensorFlow.js, ${backend}) vs ${convertedPath} (OpenCV.js)`);
    io.out(`  input:   ${result.input.name} [${result.input.shape}]: ${randoms} random in [${r[0]},${r[1]}) (seed ${seed ?? 1})${images.length ? `, ${images.length} image${images.length > 1 ? 's' : ''}` : ''}`);
    io.out(`  runs:    ${result.runs.map((x) => x.label).join('; ')}`);
    const rows = result.outputs.map((o) => [o.name, `[${o.shape}]`, fmt(o.maxAbsDiff), fmt(o.meanAbsDiff), fmtCos(o.cosine), o.maxAbsReference.toPrecision(3), o.pass ? 'ok' : 'FAIL']);
    const head = ['output', 'shape', 'max |Δ|', 'mean |Δ|', 'cosine', 'max |TF|', ''];
    const widths = head.map((h, k) => Math.max(h.length, ...rows.map((row) => row[k]!.length)));
    const line = (cells: string[]) => '  ' + cells.map((s, k) => s.padEnd(widths[k]!)).join('  ').trimEnd();
    io.out(line(head));
    for (const row of rows) io.out(line(row));
    for (const o of result.outputs) if (o.note) io.out(`  note: ${o.name}: ${o.note}`);
    io.out(result.pass ? `verify passed: every output within ${fmtTol(tolerance)}` : `verify FAILED: tolerance ${fmtTol(tolerance)}`);
  }
  if (result.pass) return 0;
  const failed = result.outputs
    .filter((o) => !o.pass)
    .map((o) => `output "${o.name}" max |Δ| ${fmtDelta(o.maxAbsDiff)} > ${fmtTol(tolerance)}${o.note ? ` (${o.note})` : ''}`);
  io.err(`facenet-dnn: verify failed: ${failed.join('; ')}`);
  return 1;
}

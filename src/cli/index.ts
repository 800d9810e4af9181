#!/usr/bin/env node
/**
 * The `facenet-dnn` command. The only module that prints or exits.
 */
import { parseArgs } from 'node:util';
import { FacenetDnnError } from '../converter/errors.js';
import { UsageError } from './args.js';
import { runConvert, runInspect } from './convert.js';
import { runForward } from './forward.js';
import { runCompare, runEmbed } from './embed.js';
import { FileError } from './io.js';

const HELP = `facenet-dnn: run TensorFlow FaceNet graphs with OpenCV DNN

Usage:
  facenet-dnn convert IN.pb -o OUT.pb [--preset facenet] [--input NAME[:d0,d1,...]]...
                      [--output NAME]... [--set NAME=VALUE]... [--pbtxt OUT.pbtxt [--opencv-config]] [--quiet]
  facenet-dnn inspect MODEL.pb [--json]
  facenet-dnn forward MODEL.pb --input-file X.f32 --shape N,H,W,C [--input NAME] [--output NAME]... [--json]
  facenet-dnn embed MODEL.pb IMAGE... [--json] [--preprocess fixed|prewhiten] [--box X1,Y1,X2,Y2]... [--margin PX]
  facenet-dnn compare MODEL.pb IMAGE... [--json] [--preprocess fixed|prewhiten] [--box X1,Y1,X2,Y2]... [--margin PX]
  facenet-dnn verify ORIGINAL.pb CONVERTED.pb [--preset facenet] [--set NAME=VALUE]... [--input NAME[:dims]]
                     [--output NAME]... [--image FILE]... [--preprocess facenet|unit] [--tolerance X] [--json]

Commands:
  convert   Convert a TensorFlow 1 frozen graph into one OpenCV's DNN module loads and computes right
  inspect   Summarize a graph: inputs, outputs, ops, parameters, and ops OpenCV will reject
  forward   Run a (converted) graph in OpenCV.js on a raw little-endian float32 NHWC tensor
  embed     FaceNet embeddings of JPEG/PNG images (a raw facenet .pb is converted on the fly)
  compare   The distance matrix between faces, like facenet's compare.py
  verify    Check a conversion: the original in TensorFlow.js against the converted graph in OpenCV.js,
            on seeded random inputs and --image files; max |Δ|, mean |Δ| and cosine per output

Options:
  -o, --out FILE     Where convert writes the binary .pb
  --preset NAME      Known model settings: facenet (input [-1,160,160,3], output embeddings, phase_train=false)
  --input SPEC       Input node, optionally with a shape (-1 for a dynamic size); repeatable
  --output NAME      Output node; repeatable
  --set NAME=VALUE   Freeze a placeholder to a constant (true, false or a number); repeatable
  --pbtxt FILE       Also write the graph in TensorFlow text format
  --opencv-config    Write the --pbtxt as OpenCV's config variant (no constants)
  --input-file FILE  Raw float32 little-endian tensor for forward
  --shape DIMS       Shape of --input-file, NHWC, e.g. 1,160,160,3
  --preprocess MODE  fixed: (x - 127.5) / 128, what the model was trained with (default); prewhiten
  --box X1,Y1,X2,Y2  Face box in pixels, one per image, cropped with --margin around it (default: whole image)
  --margin PX        Margin around a --box, facenet's compare.py rule (default 44)
  --image FILE       verify: also compare on this JPEG/PNG, resized to the input's H×W (grey when C is 1); repeatable
  --preprocess MODE  verify: image values, facenet: (x - 127.5) / 128 (default with --preset facenet); unit: x / 255 (default)
  --image-mean M     verify: (x - M) · S for image values, overriding --preprocess (with --image-scale S)
  --image-scale S
  --tolerance X      verify: largest max |Δ| an output may have (default 1e-4)
  --random N         verify: number of seeded uniform random inputs (default 2)
  --range LO,HI      verify: interval of the random values (default -1,1; 0,1 for x / 255 models)
  --seed N           verify: seed of the first random input (default 1)
  --backend NAME     verify: TensorFlow.js backend for the original, wasm (default) or cpu
  --build NAME       forward, embed, compare, verify: the OpenCV.js build, auto (default: the fastest this
                     machine runs), simd-threads, simd or stock (@techstark/opencv-js)
  --threads N        OpenCV threads of the simd-threads build, 1 to 4 (default: the cores, at most 4)
  --json             Machine-readable output
  -q, --quiet        No summary, only errors
  -h, --help         This help
  -v, --version      The version

Exit status: 0 on success, 1 on a failed conversion, run or verification, 2 on a usage error.`;

declare const __VERSION__: string;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      out: { type: 'string', short: 'o' },
      preset: { type: 'string' },
      input: { type: 'string', multiple: true },
      output: { type: 'string', multiple: true },
      set: { type: 'string', multiple: true },
      pbtxt: { type: 'string' },
      'opencv-config': { type: 'boolean' },
      'input-file': { type: 'string' },
      shape: { type: 'string' },
      preprocess: { type: 'string' },
      box: { type: 'string', multiple: true },
      margin: { type: 'string' },
      image: { type: 'string', multiple: true },
      'image-mean': { type: 'string' },
      'image-scale': { type: 'string' },
      tolerance: { type: 'string' },
      random: { type: 'string' },
      range: { type: 'string' },
      seed: { type: 'string' },
      backend: { type: 'string' },
      build: { type: 'string' },
      threads: { type: 'string' },
      json: { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  if (values.version) {
    process.stdout.write(`${typeof __VERSION__ === 'string' ? __VERSION__ : 'dev'}\n`);
    return 0;
  }
  const [command, ...rest] = positionals;
  const out = (s: string) => void process.stdout.write(s + '\n');
  const err = (s: string) => void process.stderr.write(s + '\n');
  switch (command) {
    case 'convert':
      return runConvert(rest, values, { out, err, progress: !values.quiet && !!process.stderr.isTTY });
    case 'inspect':
      return runInspect(rest, values, { out, err, progress: false });
    case 'forward':
      return runForward(rest, values, { out, err, progress: false });
    case 'embed':
      return runEmbed(rest, values, { out, err, progress: false });
    case 'compare':
      return runCompare(rest, values, { out, err, progress: false });
    case 'verify': {
      // Loaded on demand: TensorFlow.js costs every other command ~0.4 s of start-up otherwise.
      const { runVerify } = await import('./verify.js');
      return runVerify(rest, values, { out, err, progress: false });
    }
    case undefined:
      throw new UsageError('Missing command: convert, inspect, forward, embed, compare or verify');
    default:
      throw new UsageError(`Unknown command "${command}": expected convert, inspect, forward, embed, compare or verify`);
  }
}

/**
 * Node's parseArgs errors in the CLI's own style. Its messages are long and quote with '...'
 * ("Unknown option '--frob'. To specify a positional argument starting with a '-', place it at the
 * end of the command after '--', as in '-- \"--frob\""); the first sentence with the option is enough.
 */
function parseArgsMessage(e: { code: string; message: string }): string {
  const opt = /'(-[^', ]*)(?:, (--[^' ]+))?/.exec(e.message);
  const name = opt ? (opt[2] ?? opt[1]!) : undefined;
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      if (name) return `Unknown option "${name}"`;
      break;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (name && /argument missing/.test(e.message)) return `Option "${name}" needs a value`;
      if (name && /does not take an argument/.test(e.message)) return `Option "${name}" takes no value`;
      break;
  }
  return e.message;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    const code = (e as { code?: unknown })?.code;
    const parseError = typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
    const usage = e instanceof UsageError || parseError;
    let msg = parseError ? parseArgsMessage(e as { code: string; message: string }) : e instanceof Error ? e.message : String(e);
    // One line on stderr, whatever the source (OpenCV's exceptions span several lines).
    msg = msg.replace(/\s*\n\s*/g, ' ').trim();
    process.stderr.write(`facenet-dnn: ${msg}${usage ? ' (see facenet-dnn --help)' : ''}\n`);
    const expected = usage || e instanceof FacenetDnnError || e instanceof FileError;
    if (!expected && process.env['FACENET_DNN_DEBUG']) {
      process.stderr.write(`${(e as Error).stack}\n`);
    }
    process.exitCode = usage ? 2 : 1;
  },
);

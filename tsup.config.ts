import { defineConfig } from 'tsup';
import { readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync('./package.json', 'utf8')) as { version: string };

export default defineConfig([
  {
    entry: { 'index.node': 'src/index.node.ts', 'index.web': 'src/index.web.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'es2022',
    platform: 'neutral',
    // Dependencies stay external: OpenCV.js (11 MB) is loaded lazily, never bundled.
    external: ['protobufjs', '@techstark/opencv-js', 'image-js'],
  },
  {
    entry: { cli: 'src/cli/index.ts' },
    format: ['esm'],
    target: 'node18',
    platform: 'node',
    sourcemap: true,
    define: { __VERSION__: JSON.stringify(version) },
    external: ['protobufjs', '@techstark/opencv-js', 'image-js'],
  },
  {
    // The FaceNet pool's worker_threads entry, found beside the Node bundle (src/runtime/pool/node.ts).
    entry: { 'pool-worker.node': 'src/runtime/pool/worker/node.ts' },
    format: ['esm'],
    target: 'node18',
    platform: 'node',
    sourcemap: true,
    external: ['protobufjs', '@techstark/opencv-js', 'image-js'],
  },
  {
    // The pool's module Web Worker entry, started from beside the web bundle
    // (src/runtime/pool/web.ts). Self-contained but for OpenCV.js (fetched by the loader): a module
    // worker sees no import map, so a page without a bundler could not resolve bare imports there.
    entry: { 'pool-worker.web': 'src/runtime/pool/worker/web.ts' },
    format: ['esm'],
    target: 'es2022',
    platform: 'browser',
    sourcemap: true,
    minify: true,
    noExternal: ['protobufjs', 'image-js'],
    external: ['@techstark/opencv-js'],
  },
]);

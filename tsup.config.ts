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
]);

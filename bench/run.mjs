// `npm run bench [-- options]` (options: see bench/main.ts).
// Builds (npm run build: the Langium parser, the WebAssembly kernels, out/ with the CLI the
// end-to-end rows run), bundles bench/main.ts with esbuild into .cache/bench/bench.js (kept out of out/, which is what
// the extension package ships) and runs it with the same arguments.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
const run = (cmd, args) => execFileSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });

// the whole build: the end-to-end rows run out/cli.js as a user does
run(process.execPath, ['scripts/build.mjs']);

mkdirSync('.cache/bench', { recursive: true });
await esbuild.build({
  entryPoints: ['bench/main.ts'],
  outfile: '.cache/bench/bench.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  mainFields: ['module', 'main'],
});
execFileSync(process.execPath, ['--enable-source-maps', '.cache/bench/bench.js', ...process.argv.slice(2)], { stdio: 'inherit' });

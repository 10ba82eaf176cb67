// `npm run bench [-- options]` (options: see bench/main.ts).
// Makes sure the generated code the benchmark needs exists (Langium parser, WebAssembly kernel),
// bundles bench/main.ts with esbuild into .cache/bench/bench.js (kept out of out/, which is what
// the extension package ships) and runs it with the same arguments.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
const run = (cmd, args) => execFileSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });

if (existsSync('language/nn.langium') && !existsSync('language/generated/ast.ts')) {
  run(join(root, 'node_modules', '.bin', 'langium'), ['generate']);
}
run(process.execPath, ['scripts/gen-wasm.mjs']);

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

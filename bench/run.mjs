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
// --cpu N: the whole benchmark — this process's engine, the PyTorch child, the nnlens train children
// (they inherit the affinity) — on one core. The 2 vCPUs of a shared host can differ by 30 % for
// minutes at a time (a busy neighbour on one of them), so a process that lands on the other core
// than its opponent's measures the host, not the code.
const args = process.argv.slice(2);
const at = args.indexOf('--cpu');
let cmd = process.execPath;
let cmdArgs = ['--enable-source-maps', '.cache/bench/bench.js'];
const env = { ...process.env };
if (at >= 0) {
  const cpu = args[at + 1];
  if (!/^\d+$/.test(cpu ?? '')) throw new Error('--cpu needs a CPU number');
  args.splice(at, 2);
  cmdArgs = ['-c', cpu, process.execPath, ...cmdArgs];
  cmd = 'taskset';
  env.NNLENS_BENCH_CPU = cpu;
}
execFileSync(cmd, [...cmdArgs, ...args], { stdio: 'inherit', env });

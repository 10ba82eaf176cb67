// The build: generated code first (Langium parser, WebAssembly kernels, the digits data),
// then esbuild bundles. Steps whose sources are not there yet are skipped with a note.
// Usage: node scripts/build.mjs [--watch]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
const watch = process.argv.includes('--watch');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const run = (cmd, args) => execFileSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });

mkdirSync('out', { recursive: true });

// 1. Langium: language/nn.langium -> language/generated/*
if (existsSync('language/nn.langium')) run(bin('langium'), ['generate']);

// 2. Other generators (the grammar's built-ins from the op catalog, WebAssembly kernels, data
//    sets), in a fixed order.
for (const step of ['scripts/gen-grammar.mjs', 'scripts/gen-wasm.mjs', 'scripts/gen-digits.mjs']) {
  if (existsSync(step)) run(process.execPath, [step]);
}

// 3. Bundles. Node bundles are CommonJS (VS Code 1.100's extension host loads CommonJS).
const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
const node = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: true,
  logLevel: 'warning', loader: { '.wasm': 'binary' }, mainFields: ['module', 'main'],
  define: { NNLENS_VERSION: JSON.stringify(version) } };
const entries = [
  { in: 'cli/main.ts', out: 'out/cli.js', banner: { js: '#!/usr/bin/env node' } },
  { in: 'server/main.ts', out: 'out/server.js' },
  { in: 'engine/session/worker.ts', out: 'out/worker.js' },
  { in: 'engine/train/worker.ts', out: 'out/train-worker.js' },
  { in: 'client/extension.ts', out: 'out/extension.js', external: ['vscode'] },
  { in: 'client/panel/main.ts', out: 'out/panel.js', browser: true },
];
const contexts = [];
for (const e of entries) {
  if (!existsSync(e.in)) continue;
  const opts = e.browser
    ? { bundle: true, platform: 'browser', format: 'iife', target: 'es2020', sourcemap: false,
        logLevel: 'warning', minify: true, loader: { '.css': 'css' } }
    : { ...node, external: e.external ?? [], banner: e.banner };
  const ctx = await esbuild.context({ ...opts, entryPoints: [e.in], outfile: e.out });
  if (watch) { await ctx.watch(); contexts.push(ctx); } else { await ctx.rebuild(); await ctx.dispose(); }
}
if (existsSync('out/cli.js')) (await import('node:fs')).chmodSync('out/cli.js', 0o755);
if (watch) console.log('watching…');

// Where the time of a document build goes, in process (no LSP, no server): the 1,000-line file of
// 33 models that scripts/latency.mjs times (issue 13) is built as the server builds it after an
// edit — a shape error introduced in model M17 and fixed again, RUNS times each — and each of
// Langium's phases is timed, with the garbage collection during the build and the model analyses
// computed and reused. Then the total for another edit, a line added to M17 and removed again
// (the models after it move), Langium's parse alone (LangiumParser.parse of the whole text:
// lexing, parsing, the nesting guard; what every build did before language/incremental-parse.ts)
// and the lexer alone.
//
//   node scripts/build-phases.mjs [--runs N] [--tree DIR] [--builds-only]
//
// --tree DIR: profile another checkout's language/ (e.g. main's, extracted with git archive, with
//   its node_modules linked and `npm run build` run there for the generated parser).
// --builds-only: stop after the builds (to profile them: node --cpu-prof scripts/build-phases.mjs
//   --builds-only, then open the .cpuprofile in Chrome's or VS Code's profiler).
// Not a test: wall time depends on the machine and its load.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PerformanceObserver } from 'node:perf_hooks';
import * as esbuild from 'esbuild';
import { manyModels } from './many-models.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const RUNS = Number(arg('--runs') ?? 40);
const tree = resolve(arg('--tree') ?? root);

// The language layer as the server bundles it (TypeScript, through esbuild).
const tmp = mkdtempSync(join(tmpdir(), 'nnlens-phases-'));
const bundle = join(tmp, 'language.mjs');
await esbuild.build({
  stdin: {
    contents: `export { createNnServices } from './language/index';
      export { DocumentState, EmptyFileSystem, URI } from 'langium';
      export { setTextDocument } from 'langium/test';
      export { TextDocument } from 'vscode-languageserver-textdocument';`,
    resolveDir: tree,
    loader: 'ts',
  },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile: bundle,
  logLevel: 'warning',
  loader: { '.wasm': 'binary' },
  mainFields: ['module', 'main'],
  define: { NNLENS_VERSION: '"dev"' },
  banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
});
const { createNnServices, DocumentState, EmptyFileSystem, URI, setTextDocument, TextDocument } = await import(pathToFileURL(bundle).href);
rmSync(tmp, { recursive: true, force: true });

const text = manyModels(33);
const at = text.indexOf('model M17 {');
const broken = text.slice(0, at) + text.slice(at).replace('param b2: [H]', 'param b2: [9]');

const { shared, Nn } = createNnServices(EmptyFileSystem);
const builder = shared.workspace.DocumentBuilder;
const uri = URI.file(join(tmp, 'many.nn'));
const PHASES = [
  [DocumentState.Parsed, 'parse'],
  [DocumentState.IndexedContent, 'index symbols'],
  [DocumentState.ComputedScopes, 'local symbols'],
  [DocumentState.Linked, 'link'],
  [DocumentState.IndexedReferences, 'index references'],
  [DocumentState.Validated, 'validate'],
];
let mark = 0;
let row = {};
for (const [state, name] of PHASES) {
  builder.onBuildPhase(state, () => {
    const now = performance.now();
    row[name] = now - mark;
    mark = now;
  });
}
let gcMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcMs += e.duration;
}).observe({ entryTypes: ['gc'] });

const lineAt = text.indexOf('  y = sigmoid(z4)', at);
const withLine = text.slice(0, lineAt) + '  w = z4 * 2\n' + text.slice(lineAt);

let version = 0;
async function build(t) {
  const registration = setTextDocument(Nn, TextDocument.create(uri.toString(), 'nn', ++version, t));
  row = {};
  const gc0 = gcMs;
  const t0 = performance.now();
  mark = t0;
  await builder.update([uri], []);
  row.total = performance.now() - t0;
  await new Promise((r) => setImmediate(r)); // (gc entries are delivered asynchronously)
  row['garbage collection (during the above)'] = gcMs - gc0;
  registration.dispose();
  return row;
}

await build(text);
const doc = shared.workspace.LangiumDocuments.getDocument(uri);
const counts0 = { ...Nn.analysis.Cache.counts }; // (undefined before the reuse of model analyses)
const rows = [];
for (let i = 0; i < RUNS; i++) {
  rows.push(await build(broken));
  if (!doc.diagnostics?.some((d) => d.code === 'shape-mismatch')) throw new Error('the shape error is not reported');
  rows.push(await build(text));
  if (doc.diagnostics?.length) throw new Error('diagnostics on the clean text');
}
const counts = Nn.analysis.Cache.counts && { ...Nn.analysis.Cache.counts };
// a line added to M17 and removed again: the models after it move down and back
const lineRows = [];
for (let i = 0; i < RUNS; i++) {
  lineRows.push(await build(withLine));
  lineRows.push(await build(text));
}

const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const line = (name, xs) => console.log(`${name.padEnd(40)} p50 ${pct(xs, 50).toFixed(1).padStart(6)} ms   p95 ${pct(xs, 95).toFixed(1).padStart(6)} ms`);
console.log(`${text.split('\n').length - 1}-line file of 33 models, ${rows.length} builds after an edit (${tree}):`);
for (const name of [...PHASES.map(([, n]) => n), 'total', 'garbage collection (during the above)']) line(name, rows.map((r) => r[name] ?? 0));
line('total, a line added or removed instead', lineRows.map((r) => r.total));
const n = rows.length;
if (counts) console.log(
  `model analyses per build: ${((counts.computed - counts0.computed) / n).toFixed(1)} computed, ${((counts.reused - counts0.reused) / n).toFixed(1)} reused; ` +
    `diagnostics of ${((counts.diagnosticsReused - counts0.diagnosticsReused) / n).toFixed(1)} models reused`,
);

if (process.argv.includes('--builds-only')) process.exit(0);

// Langium's parse alone, and its lexer alone (the same text, RUNS × 2 times each).
const parse = [];
const lex = [];
for (let i = 0; i < 2 * RUNS; i++) {
  let t0 = performance.now();
  Nn.parser.Lexer.tokenize(text);
  lex.push(performance.now() - t0);
  t0 = performance.now();
  Nn.parser.LangiumParser.parse(i % 2 ? text : broken);
  parse.push(performance.now() - t0);
}
line('parse alone (LangiumParser.parse)', parse);
line('lexer alone', lex);

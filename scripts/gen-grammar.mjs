// The TextMate grammar's list of built-in functions (syntaxes/nn.tmLanguage.json, the
// `support.function.builtin.nn` pattern) is generated from the op catalog (engine/ops), so a new
// op is coloured without touching the grammar by hand. Run by `npm run build`.
// Usage: node scripts/gen-grammar.mjs [--check]   (--check: exit 1 when the committed grammar is stale)
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const grammarPath = join(root, 'syntaxes/nn.tmLanguage.json');
const SCOPE = 'support.function.builtin.nn';

/** The catalog's built-in function names, in its order (the catalog bundled and loaded). */
async function builtinNames() {
  const out = await esbuild.build({
    stdin: {
      contents: "export { BUILTINS } from './engine/ops/index';",
      resolveDir: root,
      loader: 'ts',
    },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    write: false,
    logLevel: 'warning',
  });
  const url = `data:text/javascript;base64,${Buffer.from(out.outputFiles[0].text).toString('base64')}`;
  const { BUILTINS } = await import(url);
  return BUILTINS.map((e) => e.name);
}

/** The grammar text with the built-in pattern listing `names`. */
function generate(text, names) {
  const grammar = JSON.parse(text);
  const patterns = [];
  const walk = (x) => {
    if (Array.isArray(x)) x.forEach(walk);
    else if (x && typeof x === 'object') {
      if (x.name === SCOPE && typeof x.match === 'string') patterns.push(x);
      Object.values(x).forEach(walk);
    }
  };
  walk(grammar);
  if (patterns.length !== 1) throw new Error(`${grammarPath}: expected one pattern named ${SCOPE}, found ${patterns.length}`);
  patterns[0].match = `\\b(${names.join('|')})\\b`;
  return `${JSON.stringify(grammar, null, 2)}\n`;
}

const text = readFileSync(grammarPath, 'utf8');
const next = generate(text, await builtinNames());
if (process.argv.includes('--check')) {
  if (next !== text) {
    console.error(`${grammarPath} is stale: run node scripts/gen-grammar.mjs (npm run build does)`);
    process.exit(1);
  }
} else if (next !== text) {
  writeFileSync(grammarPath, next);
  console.log(`${grammarPath}: built-in functions updated from the op catalog`);
}

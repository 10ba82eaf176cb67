/** Shared setup of the server's tests: the real services (and the real engine worker, out/worker.js). */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { EmptyFileSystem, URI, type LangiumDocument } from 'langium';
import { parseHelper } from 'langium/test';
import { createNnLensServices, type NnLensServices } from '../../server/module';

export const ROOT = resolve(__dirname, '..', '..');
export const example = (name: string) => readFileSync(resolve(ROOT, 'examples', name), 'utf8');

/** A number as hovers print it (4 significant digits, a real minus sign). */
export function parseNum(s: string): number {
  return Number(s.replace(/−/g, '-').replace(/∞/g, 'Infinity'));
}

/** |a − b| within what printing with 4 significant digits can lose. */
export function close4(printed: number, exact: number): boolean {
  return Math.abs(printed - exact) <= 6e-4 * Math.max(Math.abs(exact), 1e-12);
}

export function createServices(): { Nn: NnLensServices; parse: (text: string, path?: string) => Promise<LangiumDocument> } {
  const { Nn } = createNnLensServices(EmptyFileSystem);
  const helper = parseHelper(Nn);
  let n = 0;
  const parse = (text: string, path?: string) =>
    helper(text, {
      validation: true,
      documentUri: path ? URI.file(path).toString() : URI.file(resolve(ROOT, 'examples', `test-${++n}.nn`)).toString(),
    });
  return { Nn, parse };
}

/** The offset of the `k`-th occurrence of `needle` in `text` (plus `delta`). */
export function offsetOf(text: string, needle: string, delta = 0, k = 0): number {
  let at = -1;
  for (let i = 0; i <= k; i++) {
    at = text.indexOf(needle, at + 1);
    if (at < 0) throw new Error(`${needle} not found`);
  }
  return at + delta;
}

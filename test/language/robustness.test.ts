/**
 * Broken text never crashes the analysis: every example, truncated at each line, with each line
 * deleted, and with each token deleted, analyzes without an internal error (every diagnostic
 * carries one of our codes) and lowers what is valid.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { analyzeText, Codes } from '../../language/index';

const EXAMPLES = resolve(__dirname, '../../examples');
const KNOWN = new Set<string>(Object.values(Codes));

async function expectClean(text: string, uri: string, what: string): Promise<void> {
  const a = await analyzeText(text, { uri });
  const bad = a.diagnostics.filter((d) => !KNOWN.has(d.code) || /An error occurred/.test(d.message));
  expect(bad, `${what}\n${text}`).toEqual([]);
  expect(() => JSON.stringify(a.program)).not.toThrow();
}

describe('robustness', () => {
  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.nn'));

  test.each(files)('%s: truncated at every line, and with every line deleted', async (f) => {
    const uri = join(EXAMPLES, f);
    const lines = readFileSync(uri, 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      await expectClean(lines.slice(0, i).join('\n'), uri, `${f} truncated at line ${i + 1}`);
      await expectClean([...lines.slice(0, i), ...lines.slice(i + 1)].join('\n'), uri, `${f} without line ${i + 1}`);
    }
  });

  test.each(['byhand.nn', 'data.nn', 'training.nn', 'functions.nn'])('%s with each token deleted', async (f) => {
    const uri = join(EXAMPLES, f);
    const text = readFileSync(uri, 'utf8').replace(/\/\/[^\n]*/g, '');
    const tokens = [...text.matchAll(/[A-Za-z_]\w*|\d+(?:\.\d+)?|->|\S/g)];
    for (const t of tokens) {
      const i = t.index ?? 0;
      await expectClean(text.slice(0, i) + text.slice(i + t[0].length), uri, `without token '${t[0]}' at ${i}`);
    }
  });
});

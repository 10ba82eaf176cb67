/**
 * The analysis accessors the language server reads without try/catch (`tryOf`, `tryModel`,
 * `shapeOf`): they answer for every node of every example cut short anywhere, never throw, and
 * say undefined exactly where there is nothing to answer.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AstUtils, type AstNode } from 'langium';
import { describe, expect, test } from 'vitest';
import { analyzeText, NnAst as ast } from '../../language/index';

const EXAMPLES = resolve(__dirname, '../../examples');
const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.nn'));

describe('analysis accessors that never throw', () => {
  test.each(files)('%s: every node of the text cut short at every 7th character', async (f) => {
    const uri = join(EXAMPLES, f);
    const text = readFileSync(uri, 'utf8');
    let nodes = 0;
    let inModels = 0;
    for (let cut = 0; cut <= text.length; cut += 7) {
      const a = await analyzeText(text.slice(0, cut), { uri });
      const cache = a.services.analysis.Cache;
      const root = a.document.parseResult.value;
      expect(cache.tryOf(root)).toBeDefined();
      for (const n of AstUtils.streamAst(root)) {
        nodes++;
        const inModel = AstUtils.getContainerOfType(n, ast.isModelDecl) !== undefined;
        let m;
        expect(() => (m = cache.tryModel(n)), `${f} cut at ${cut}: ${n.$type}`).not.toThrow();
        expect(m !== undefined, `${f} cut at ${cut}: ${n.$type}`).toBe(inModel);
        if (inModel) inModels++;
        expect(() => cache.shapeOf(n), `${f} cut at ${cut}: ${n.$type}`).not.toThrow();
      }
    }
    expect(nodes).toBeGreaterThan(1000);
    expect(inModels).toBeGreaterThan(100);
  });

  test('outside a .nn document: undefined from the accessors, an error from `of`', async () => {
    const a = await analyzeText('model M {\n  input x: [2]\n  loss C = sum(x)\n}\n');
    const cache = a.services.analysis.Cache;
    const stray = { $type: 'Stray' } as AstNode;
    expect(cache.tryOf(stray)).toBeUndefined();
    expect(cache.tryModel(stray)).toBeUndefined();
    expect(cache.shapeOf(stray)).toBeUndefined();
    expect(() => cache.of(stray)).toThrow('not a .nn document');
    const model = a.document.parseResult.value.declarations[0];
    expect(cache.tryModel(model)?.paramElements).toBe(0);
  });
});

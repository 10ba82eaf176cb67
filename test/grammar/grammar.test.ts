// The TextMate grammar (syntaxes/nn.tmLanguage.json): the scope assertions in test/grammar/*.nn
// (vscode-tmgrammar-test), and every example file coloured without gaps.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILTINS } from '../../engine/ops/index';

const root = resolve(__dirname, '../..');
const grammarPath = join(root, 'syntaxes/nn.tmLanguage.json');

describe('TextMate grammar', () => {
  it('is generated from the op catalog: the committed built-in list is current', () => {
    let status = 0;
    let out = '';
    try {
      execFileSync(process.execPath, ['scripts/gen-grammar.mjs', '--check'], { cwd: root, encoding: 'utf8', stdio: 'pipe' });
    } catch (err) {
      const e = err as { stderr?: string; status?: number };
      status = e.status ?? 1;
      out = e.stderr ?? '';
    }
    expect(out).toBe('');
    expect(status).toBe(0);
    // and the list is the catalog's, name for name
    const grammar = readFileSync(grammarPath, 'utf8');
    const m = /"match": "\\\\b\(([a-z_|0-9]+)\)\\\\b",\s*"name": "support\.function\.builtin\.nn"/.exec(grammar);
    expect(m?.[1].split('|')).toEqual(BUILTINS.map((b) => b.name));
  });

  it('passes the scope assertions of test/grammar/*.nn', () => {
    const bin = join(root, 'node_modules/.bin/vscode-tmgrammar-test');
    let out = '';
    let status = 0;
    try {
      out = execFileSync(bin, ['--compact', '--grammar', grammarPath, 'test/grammar/*.nn'], { cwd: root, encoding: 'utf8' });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; status?: number };
      out = `${e.stdout ?? ''}${e.stderr ?? ''}`;
      status = e.status ?? 1;
    }
    expect(out, out).not.toMatch(/ERROR|failed/);
    expect(status, out).toBe(0);
    // Both files ran (a glob that matches nothing would pass vacuously).
    expect(out.match(/run successfuly/g)?.length, out).toBe(readdirSync(join(root, 'test/grammar')).filter((f) => f.endsWith('.nn')).length);
  });

  it('colours every keyword, built-in and number of the examples', async () => {
    // vscode-textmate and vscode-oniguruma come with vscode-tmgrammar-test; load them from there.
    const req = createRequire(require.resolve('vscode-tmgrammar-test/package.json'));
    const tm = req('vscode-textmate') as typeof import('vscode-textmate');
    const onig = req('vscode-oniguruma') as typeof import('vscode-oniguruma');
    const wasm = readFileSync(join(dirname(req.resolve('vscode-oniguruma')), 'onig.wasm'));
    await onig.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
    const registry = new tm.Registry({
      onigLib: Promise.resolve({ createOnigScanner: (p: string[]) => new onig.OnigScanner(p), createOnigString: (s: string) => new onig.OnigString(s) }),
      loadGrammar: async (scope: string) => (scope === 'source.nn' ? tm.parseRawGrammar(readFileSync(grammarPath, 'utf8'), grammarPath) : null),
    });
    const grammar = (await registry.loadGrammar('source.nn'))!;
    const files = [
      ...readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.nn')).map((f) => join(root, 'examples', f)),
      ...readdirSync(join(root, 'test/e2e/workspace')).filter((f) => f.endsWith('.nn')).map((f) => join(root, 'test/e2e/workspace', f)),
    ];
    expect(files.length).toBeGreaterThan(5);
    // Language words and numbers must not fall through to the generic identifier scope.
    const keywords = new Set(['const', 'function', 'data', 'model', 'train', 'check', 'on', 'input', 'target', 'param',
      'loss', 'backward', 'grad']);
    const builtins = new Set(['sigmoid', 'tanh', 'relu', 'softmax', 'dense', 'cross_entropy', 'mse', 'binary_cross_entropy',
      'outer', 'transpose', 'mean', 'sgd', 'adam', 'normal', 'zeros', 'glorot', 'he', 'xor', 'circle', 'spiral', 'gauss',
      'digits16', 'csv', 'table']);
    const wrong: string[] = [];
    let tokens = 0;
    for (const file of files) {
      let state = tm.INITIAL;
      readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
        const r = grammar.tokenizeLine(line, state);
        for (const t of r.tokens) {
          const text = line.slice(t.startIndex, t.endIndex).trim();
          if (!/\w/.test(text)) continue;
          tokens++;
          const scopes = t.scopes.join(' ');
          if (/comment|string/.test(scopes)) continue;
          const where = `${file.slice(root.length + 1)}:${i + 1} "${text}" (${scopes})`;
          const specific = t.scopes.filter((s) => s !== 'source.nn' && !s.startsWith('meta.'));
          if (specific.length === 0) wrong.push(`unscoped: ${where}`);
          if (keywords.has(text) && !/(storage|keyword)\.[\w.]+\.nn$/.test(scopes)) wrong.push(`keyword: ${where}`);
          // (`data xor = xor()`: the first xor is a name the user chose.)
          if (builtins.has(text) && !/(support\.function|entity\.name\.type)\.[\w.]+\.nn$/.test(scopes)) wrong.push(`built-in: ${where}`);
          if (/^\d/.test(text) && !/constant\.numeric|support\.function/.test(scopes)) wrong.push(`number: ${where}`);
        }
        state = r.ruleStack;
      });
    }
    expect(tokens).toBeGreaterThan(500);
    expect(wrong).toEqual([]);
  });
});

/**
 * The nesting guard (language/parser-guard.ts): text nested deeper than the recursive parser and
 * the analyses can take is cut short with a syntax error; everything else parses as it is.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analysisServices, analyzeText } from '../../language';
import { guardNesting, NESTING_BUDGET, NESTING_WEIGHTS } from '../../language/parser-guard';

const lexer = () => analysisServices().parser.Lexer;
const guard = (text: string) => guardNesting(text, lexer().tokenize(text).tokens);

describe('nesting guard', () => {
  it('leaves every example and a long flat file alone', () => {
    const dir = resolve(__dirname, '..', '..', 'examples');
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.nn'))) {
      const text = readFileSync(resolve(dir, f), 'utf8');
      expect(guard(text), f).toEqual({ text, diagnostics: [] });
    }
    const long = Array.from({ length: 2000 }, (_, i) => `  v${i} = tanh(W @ v${i} + b) * 2 - 1`).join('\n');
    expect(guard(`model M {\n${long}\n}`).diagnostics).toEqual([]);
  });

  it('blanks what is too deep without moving any offset, and says where', () => {
    const depth = Math.floor(NESTING_BUDGET / NESTING_WEIGHTS.bracket) + 10;
    const text = `model M {\n  input x: [2]\n  loss C = sum(${'('.repeat(depth)}x${')'.repeat(depth)})\n}\n`;
    const g = guard(text);
    expect(g.text.length).toBe(text.length);
    expect(g.text.split('\n').length).toBe(text.split('\n').length);
    expect(g.diagnostics).toHaveLength(1);
    expect(g.diagnostics[0]).toMatchObject({ severity: 'error', line: 3 });
    expect(g.diagnostics[0].message).toMatch(/^nested too deeply/);
    // the brackets that remain are balanced
    const open = (g.text.match(/\(/g) ?? []).length;
    const close = (g.text.match(/\)/g) ?? []).length;
    expect(open).toBe(close);
  });

  it('keeps the statements after a deep one', async () => {
    const deep = `  a = ${'-'.repeat(1000)}x\n`;
    const text = `model M {\n  input x: [2]\n${deep}  loss C = sum(x)\n}\nmodel N {\n  input x: [2]\n  param w: [2]\n  loss C = dot(w, x)\n}\n`;
    const a = await analyzeText(text);
    expect(a.diagnostics.some((d) => d.code === 'syntax-error' && d.message.startsWith('nested too deeply'))).toBe(true);
    expect(a.program.models.map((m) => m.name)).toEqual(['N']);
  });

  it('accepts nesting up to the documented depths', async () => {
    const ok = [
      `model M {\n  input x: [2]\n  loss C = sum(${'('.repeat(45)}x${')'.repeat(45)})\n}\n`,
      `model M {\n  input x: [2]\n  loss C = sum(${'sigmoid('.repeat(30)}x${')'.repeat(30)})\n}\n`,
      `model M {\n  input x: [2]\n  loss C = sum(x${' + x'.repeat(900)})\n}\n`,
    ];
    for (const text of ok) {
      const a = await analyzeText(text);
      expect(a.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      expect(a.program.models).toHaveLength(1);
    }
  });
});

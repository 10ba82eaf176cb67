/**
 * Hostile files over stdio: absurd sizes, nesting that would overflow a recursive parser, a
 * megabyte of junk. Each gets diagnostics (the waits are bounded), the server keeps answering,
 * and its memory stays bounded.
 */
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CompletionList, Hover } from 'vscode-languageserver-protocol';
import type { DebugStatsResult } from '../../server/protocol';
import { fileUri, LspClient, ROOT } from './lsp-client';

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VALID = '\nmodel Fine {\n  input x: [2]\n  param w: [2] = ones\n  loss C = dot(w, x)\n}\n';

describe('hostile files', () => {
  const client = new LspClient();
  afterAll(() => client.shutdown());
  const dir = resolve(ROOT, 'examples');
  let n = 0;
  const open = async (text: string) => {
    const uri = fileUri(resolve(dir, `hostile-${++n}.nn`));
    client.open(uri, text);
    const d = await client.diagnosticsWhere(uri, () => true, `diagnostics of hostile file ${n}`, 60_000);
    const position = { line: 2, character: 4 };
    const h = await client.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position });
    const c = await client.request<CompletionList | null>('textDocument/completion', { textDocument: { uri }, position });
    void h;
    void c;
    return { uri, d };
  };

  it('reports 10⁹-unit layers as too large and never allocates them', async () => {
    await client.initialize(undefined, dir);
    const { d } = await open(
      'model M {\n  input x: [1000000000]\n  param W: [1000000000, 1000000000]\n  h = dense(x, 1000000000)\n  loss C = sum(W @ x)\n}\n' + VALID,
    );
    expect(d.filter((x) => x.code === 'model-too-large').length).toBeGreaterThanOrEqual(2);
    expect(d.some((x) => /1,000,000,000,000,000,000 elements/.test(x.message))).toBe(true);
  });

  it('cuts 3,000 nested parentheses short with a syntax error and checks the rest of the file', async () => {
    const deep = `model M {\n  input x: [2]\n  loss C = sum(${'('.repeat(3000)}x${')'.repeat(3000)})\n}\n`;
    const text = deep + VALID.replace('ones', 'normal(0, 1)') + 'model Wrong {\n  input x: [2]\n  param w: [3]\n  loss C = dot(w, x)\n}\n';
    const { uri, d } = await open(text);
    expect(d.some((x) => x.code === 'syntax-error' && x.message.startsWith('nested too deeply'))).toBe(true);
    // the other models are checked as usual: Wrong's shape error is reported on its line
    const wrong = d.find((x) => x.code === 'shape-mismatch')!;
    expect(text.split('\n')[wrong.range.start.line]).toContain('loss C = dot(w, x)');
    // and Fine reaches the engine: a hover on its param has gradient numbers
    const lines = text.split('\n');
    const line = lines.findIndex((l) => l.includes('param w: [2]'));
    let md = '';
    for (let tries = 0; tries < 20 && !md.includes('∂C/∂w'); tries++) {
      const h = await client.request<Hover>('textDocument/hover', { textDocument: { uri }, position: { line, character: 9 } });
      md = (h?.contents as { value: string } | undefined)?.value ?? '';
    }
    expect(md).toMatch(/‖∂C\/∂w‖ = \d/);
  });

  it('survives nesting of every kind: calls, unary minus, powers, a 100,000-term sum', async () => {
    const cases = [
      `model M {\n  input x: [2]\n  loss C = sum(${'sigmoid('.repeat(2000)}x${')'.repeat(2000)})\n}\n`,
      `model M {\n  input x: [2]\n  loss C = sum(${'-'.repeat(5000)}x)\n}\n`,
      `model M {\n  input x: [2]\n  loss C = sum(x${'^1'.repeat(5000)})\n}\n`,
      `model M {\n  input x: [2]\n  loss C = sum(x${' + x'.repeat(100_000)})\n}\n`,
      `function f(a) = ${'('.repeat(3000)}a${' * a)'.repeat(3000)}\nmodel M {\n  input x: [2]\n  loss C = sum(f(x))\n}\n`,
    ];
    for (const text of cases) {
      const { d } = await open(text);
      expect(d.some((x) => x.message.startsWith('nested too deeply'))).toBe(true);
    }
  });

  it('answers on a megabyte of junk and on binary noise, in bounded memory', async () => {
    const r = rng(7);
    const parts = 'model param input loss grad = + - * / @ ^ ( ) [ ] { } , : . x W 1 1e9 sigmoid dense \n'.split(' ');
    let junk = '';
    while (junk.length < 1_000_000) junk += parts[Math.floor(r() * parts.length)] + (r() < 0.5 ? ' ' : '');
    const a = await open(junk);
    expect(a.d.length).toBeGreaterThan(0);
    expect(a.d.length).toBeLessThanOrEqual(500);
    const noise = Array.from({ length: 200_000 }, () => String.fromCharCode(Math.floor(r() * 256))).join('');
    const b = await open(noise);
    expect(b.d.length).toBe(500); // capped, the last one says how many more there are
    expect(b.d.at(-1)!.message).toMatch(/^… and [\d,]+ more problems in this file/);
    const stats = await client.request<DebugStatsResult>('nnlens/debug/stats', {});
    expect(stats.memory.rss).toBeLessThan(800 * 1024 * 1024);
    expect(stats.workers.edit.crashes).toBe(0);
    expect(client.exited).toBeNull();
  });
});

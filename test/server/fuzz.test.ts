/**
 * Fuzzing the language server over stdio: seeded random mutations of the examples (deletions,
 * junk, operators, brackets, duplicated lines, huge numbers), each followed by a hover,
 * completion, inlay-hint, signature-help or code-lens request. The server must answer every
 * request (an answer may be an error only when the request was overtaken by an edit), never
 * crash, answer a final request, and keep its memory bounded.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DebugStatsResult } from '../../server/protocol';
import { fileUri, LspClient, ROOT } from './lsp-client';

/** mulberry32: a small seeded generator. */
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

const JUNK = [
  '(', ')', '[', ']', '{', '}', '@', '^', '+', '-', '*', '/', '=', ',', ':', '.', '->', '//', '/*', '*/', '"',
  'grad', 'model', 'param', 'loss', 'backward', 'dense(', 'sigmoid(', 'transpose(', 'train', 'check', 'data', 'table {',
  '0', '-1', '1e308', '1e-320', '999999999999', '1000000000', '1e999', 'NaN', 'x', 'W1', 'h.W', 'grad z1', '¤', '\t', '\u0000', '\n',
];
const HUGE = ['1000000000', '99999999999999999999', '1e9', '4294967296', '0', '-7'];

/** One number of the text replaced by a huge, zero or negative one. */
function mutateNumber(text: string, r: () => number): string {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  const nums = [...text.matchAll(/\b\d+(\.\d+)?\b/g)];
  if (nums.length === 0) return text + pick(HUGE);
  const m = pick(nums);
  return text.slice(0, m.index) + pick(HUGE) + text.slice((m.index ?? 0) + m[0].length);
}

function mutate(text: string, r: () => number): string {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  const at = Math.floor(r() * (text.length + 1));
  const lines = text.split('\n');
  const li = Math.floor(r() * lines.length);
  switch (Math.floor(r() * 8)) {
    case 0: // delete a span
      return text.slice(0, at) + text.slice(at + 1 + Math.floor(r() * 20));
    case 1: // insert junk
    case 2:
      return text.slice(0, at) + pick(JUNK) + (r() < 0.5 ? ' ' : '') + text.slice(at);
    case 3: // duplicate a line
      lines.splice(li, 0, lines[li]);
      return lines.join('\n');
    case 4: // delete a line
      lines.splice(li, 1);
      return lines.join('\n');
    case 5: // swap two lines
    {
      const lj = Math.floor(r() * lines.length);
      [lines[li], lines[lj]] = [lines[lj], lines[li]];
      return lines.join('\n');
    }
    case 6: // a number becomes huge
      return mutateNumber(text, r);
    default: // a run of brackets or operators
    {
      const s = pick(['(', ')', '[', '@', '^', '-', '{', '}']).repeat(1 + Math.floor(r() * 60));
      return text.slice(0, at) + s + text.slice(at);
    }
  }
}

const examples = readdirSync(resolve(ROOT, 'examples'))
  .filter((f) => f.endsWith('.nn'))
  .sort()
  .map((f) => readFileSync(resolve(ROOT, 'examples', f), 'utf8'));

/** Errors a request may end with when a newer edit overtakes it: ContentModified, RequestCancelled. */
const OVERTAKEN = new Set([-32801, -32800]);

describe('fuzz (seeded)', () => {
  const client = new LspClient();
  afterAll(() => client.shutdown());

  it('survives 1,200 random mutations of the examples with a request after each, in bounded memory', async () => {
    await client.initialize(undefined, resolve(ROOT, 'examples'));
    const r = rng(20261126);
    const uri = fileUri(resolve(ROOT, 'examples', 'fuzz-scratch.nn'));
    let text = examples[0];
    client.open(uri, text);
    await client.diagnosticsWhere(uri, () => true, 'first diagnostics');
    const start = await client.request<DebugStatsResult>('nnlens/debug/stats', {});
    const MUTATIONS = 1200;
    let answered = 0;
    let overtaken = 0;
    let hovers = 0;
    const failures: string[] = [];
    let peakRss = start.memory.rss;
    for (let i = 0; i < MUTATIONS; i++) {
      // start again from a fresh example every few mutations, so that many versions still
      // type-check and reach the engine (and junk does not pile up forever)
      if (i % 8 === 0) text = examples[(i / 8) % examples.length];
      // every 25th version only changes a number, so that most of them reach the engine
      text = i % 25 === 24 ? mutateNumber(examples[Math.floor(i / 25) % examples.length], r) : mutate(text, r);
      client.change(uri, text);
      const lines = text.split('\n');
      const line = Math.floor(r() * lines.length);
      const position = { line, character: Math.floor(r() * (lines[line].length + 1)) };
      const kind = i % 5;
      const [method, params] =
        kind === 0
          ? ['textDocument/hover', { textDocument: { uri }, position }]
          : kind === 1
            ? ['textDocument/completion', { textDocument: { uri }, position }]
            : kind === 2
              ? ['textDocument/inlayHint', { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: lines.length, character: 0 } } }]
              : kind === 3
                ? ['textDocument/signatureHelp', { textDocument: { uri }, position }]
                : ['textDocument/codeLens', { textDocument: { uri } }];
      try {
        await client.request(method, params);
        answered++;
      } catch (e) {
        const code = (e as { code?: number }).code;
        if (code !== undefined && OVERTAKEN.has(code)) overtaken++;
        else failures.push(`#${i} ${method}: ${(e as Error).message}\n--- text ---\n${text.slice(0, 400)}`);
      }
      if (i % 25 === 24) {
        // let the debounced engine check run on this version
        await client.diagnosticsWhere(uri, () => true, `diagnostics after mutation ${i}`, 60_000);
        await new Promise((res) => setTimeout(res, 450));
        // and a hover on a param or a named value, which shows the engine's numbers
        const cands = lines.map((l, k) => [l, k] as const).filter(([l]) => /^\s*(param \w|\w+\s*=)/.test(l));
        if (cands.length) {
          const [l, k] = cands[Math.floor(r() * cands.length)];
          const ch = l.search(/\w/) + (l.trim().startsWith('param') ? 7 : 0);
          await client.request('textDocument/hover', { textDocument: { uri }, position: { line: k, character: ch } });
          hovers++;
        }
      }
      if (i % 100 === 99) {
        const s = await client.request<DebugStatsResult>('nnlens/debug/stats', {});
        peakRss = Math.max(peakRss, s.memory.rss);
      }
      expect(client.exited, client.stderr.join('')).toBeNull();
    }
    expect(failures, failures.slice(0, 3).join('\n\n')).toEqual([]);
    expect(answered + overtaken).toBe(MUTATIONS);
    expect(answered).toBeGreaterThan(MUTATIONS * 0.9);

    // still responsive: a final request on a clean file gets a real answer
    client.change(uri, examples[0]);
    const d = await client.diagnosticsWhere(uri, () => true, 'final diagnostics');
    expect(d.filter((x) => x.severity === 1)).toEqual([]);
    const end = await client.request<DebugStatsResult>('nnlens/debug/stats', {});
    peakRss = Math.max(peakRss, end.memory.rss);
    // bounded: the server's resident memory never exceeds a few hundred MB, and its JS heap
    // does not grow with the number of edits
    expect(peakRss).toBeLessThan(600 * 1024 * 1024);
    expect(end.memory.heapUsed).toBeLessThan(start.memory.heapUsed + 150 * 1024 * 1024);
    expect(end.workers.edit.crashes).toBe(0);
    const engineFindings = [...(client.diagnostics.get(uri) ?? [])].filter((p) => p.diagnostics.some((x) => x.source === 'nnlens')).length;
    expect(end.workers.edit.jobs).toBeGreaterThan(20);
    console.log(
      `fuzz: ${MUTATIONS} mutations, ${answered} answered, ${overtaken} overtaken by an edit; ` +
        `rss ${(start.memory.rss / 2 ** 20).toFixed(0)} MB → peak ${(peakRss / 2 ** 20).toFixed(0)} MB, ` +
        `heap ${(start.memory.heapUsed / 2 ** 20).toFixed(0)} → ${(end.memory.heapUsed / 2 ** 20).toFixed(0)} MB, ` +
        `${end.workers.edit.jobs} engine jobs, ${engineFindings} publications with engine findings, ${hovers} hovers after checks`,
    );
  });
});

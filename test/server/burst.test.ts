/**
 * The editor under a burst (issue 13): 1,500 full-text edits written as fast as the pipe takes
 * them, each followed by a hover, completion, inlay-hint or document-symbol request. Requests about
 * a version that a newer edit replaced are answered ContentModified without doing their work, the
 * document is built a handful of times instead of 1,500, and the final hover answers about the
 * final text. Asserted as counts (the server's `nnlens/debug/stats`), never as times.
 *
 * The burst goes out in one write to the server's stdin (a client flushing a backlog): between two
 * moments where the server has read everything there is at least a pipe's worth of messages (64 KB,
 * about 45 edit+request pairs here), so at most ~35 of the 1,500 requests can ever find their
 * version still current however the two processes are scheduled.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Hover } from 'vscode-languageserver-protocol';
import type { DebugStatsResult } from '../../server/protocol';
import { CAPABILITIES, fileUri, LspClient, ROOT } from './lsp-client';

const EDITS = 1500;
const CONTENT_MODIFIED = -32801;

describe('a burst of edits', () => {
  const client = new LspClient();
  afterAll(() => client.shutdown());

  it('answers requests about replaced versions at once, without their work, and the final hover about the final text', async () => {
    // No refresh requests from the server: nothing else writes to its stdin while the burst does.
    const capabilities = { ...CAPABILITIES, workspace: { configuration: false } };
    await client.initialize(undefined, resolve(ROOT, 'examples'), capabilities);
    const digits = readFileSync(resolve(ROOT, 'examples', 'digits.nn'), 'utf8');
    const uri = fileUri(resolve(ROOT, 'examples', 'burst-scratch.nn'));
    client.open(uri, digits);
    await client.diagnosticsWhere(uri, () => true, 'first diagnostics');
    const lines = digits.split('\n');
    const w1Line = lines.findIndex((l) => l.includes('param W1'));
    const w1 = { line: w1Line, character: lines[w1Line].indexOf('W1') + 1 };
    const hoverText = async () =>
      ((await client.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: w1 }))?.contents as { value: string } | undefined)?.value ?? '';
    // the numbers of the original text, so that the final hover needs no new gradient check
    let md = '';
    for (let tries = 0; tries < 20 && !md.includes('∂C/∂W1'); tries++) md = await hoverText();
    expect(md).toContain('∂C/∂W1');
    const before = await client.request<DebugStatsResult>('nnlens/debug/stats', {});

    // A line typed character by character before the loss, deleted again, typed again…; the last
    // edit restores the original text.
    const at = digits.indexOf('  loss C');
    const typed = '  h2 = tanh(W2 @ a1 + b2) * 0.5\n';
    const messages: { method: string; params: unknown; request?: boolean }[] = [];
    const kinds: string[] = [];
    for (let i = 1; i <= EDITS; i++) {
      const text = i === EDITS ? digits : digits.slice(0, at) + typed.slice(0, i % (typed.length + 1)) + digits.slice(at);
      messages.push(client.changeMessage(uri, text));
      const n = text.split('\n').length;
      const position = { line: (i * 7) % n, character: (i * 3) % 12 };
      const [method, params]: [string, unknown] = (
        [
          ['textDocument/hover', { textDocument: { uri }, position }],
          ['textDocument/completion', { textDocument: { uri }, position }],
          ['textDocument/inlayHint', { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: n, character: 0 } } }],
          ['textDocument/documentSymbol', { textDocument: { uri } }],
        ] as [string, unknown][]
      )[i % 4];
      messages.push({ method, params, request: true });
      kinds.push(method);
    }
    messages.push({ method: 'textDocument/hover', params: { textDocument: { uri }, position: w1 }, request: true });
    const ids = client.writeRaw(messages);
    expect(ids).toHaveLength(EDITS + 1);
    await client.waitFor(() => ids.every((id) => client.rawResponses.has(id)), 'answers to every request of the burst', 120_000);

    // Every request is answered: with a result, or ContentModified; nothing else.
    const answers = ids.map((id) => client.rawResponses.get(id)!);
    const modified = answers.filter((a) => a.error?.code === CONTENT_MODIFIED).length;
    const otherErrors = answers.filter((a) => a.error && a.error.code !== CONTENT_MODIFIED).map((a) => a.error!.message);
    expect(otherErrors).toEqual([]);

    // The final hover answers about the final text, with the gradient numbers.
    const final = answers.at(-1)!;
    expect(final.error).toBeUndefined();
    expect(((final.result as Hover).contents as { value: string }).value).toContain('∂C/∂W1');

    // The server's counts: every request is accounted for; at least 90% of them were answered
    // stale without any work (before this change: none — all 1,500 ran); the ContentModified
    // answers are exactly the stale and overtaken ones.
    const after = await client.request<DebugStatsResult>('nnlens/debug/stats', {});
    const d = (k: keyof DebugStatsResult['requests']) => after.requests[k] - before.requests[k];
    expect(d('received')).toBe(EDITS + 1);
    expect(d('stale') + d('overtaken') + d('answered') + d('cancelled')).toBe(EDITS + 1);
    expect(d('cancelled')).toBe(0);
    expect(modified).toBe(d('stale') + d('overtaken'));
    expect(d('stale')).toBeGreaterThanOrEqual(0.9 * EDITS);
    // and the document was built a handful of times, not once per edit
    expect(after.validations - before.validations).toBeLessThanOrEqual(0.1 * EDITS);
    console.log(
      `burst of ${EDITS} edits: ${d('stale')} requests answered stale without work, ${d('overtaken')} overtaken, ` +
        `${d('answered')} answered (with the final hover); ${after.validations - before.validations} builds`,
    );
  }, 180_000);
});

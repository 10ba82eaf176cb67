/**
 * Big files over LSP (issue 13): after an edit in a file of many models the server parses again
 * only the declarations around the change, and analyses and validates again only the models the
 * edit touched — the edited model, the models using a const,
 * function or data that changed, the models whose members a new top-level name collides with —
 * and the diagnostics it publishes are those of a fresh build of the same text. Asserted with the
 * server's counts (`analyses` and `parses` of `nnlens/debug/stats`), never with times. The fresh build is the
 * same text opened as a new document of the same server (a document of its own: nothing of the
 * edited one's earlier versions to reuse).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Diagnostic } from 'vscode-languageserver-protocol';
import type { DebugStatsResult } from '../../server/protocol';
import { HEADER, manyModels, model, modelsUsing, N } from '../fixtures/many-models';
import { fileUri, LspClient } from './lsp-client';

const count = modelsUsing;
const file = (header = HEADER, models: (i: number) => string[] = (i) => model(i)) => manyModels(header, models);
const replaced = (from: string, to: string) => HEADER.map((l) => (l === from ? to : l));

/** What a user sees of a diagnostic. */
const seen = (ds: Diagnostic[]) => ds.map((d) => ({ range: d.range, severity: d.severity, code: d.code, message: d.message }));

describe('a file of many models, edited', () => {
  const client = new LspClient();
  let ws = '';
  let fresh = 0;
  beforeAll(async () => {
    ws = mkdtempSync(join(tmpdir(), 'nnlens-bigfile-'));
    // no gradient checks as you type: the diagnostics published are the fast ones only
    await client.initialize({ workspaceTrusted: true, settings: { gradientCheck: { onEdit: false } } }, ws);
  });
  afterAll(async () => {
    await client.shutdown();
    rmSync(ws, { recursive: true, force: true });
  });

  const stats = () => client.request<DebugStatsResult>('nnlens/debug/stats', {});
  const uri = () => fileUri(join(ws, 'many.nn'));
  const published = (u: string) => client.diagnosticsWhere(u, () => true, `diagnostics of version ${client.version(u)} of ${u}`);

  /** Replaces the text of the edited document; what its build computed and reused, and what it published. */
  async function edit(text: string) {
    const s0 = await stats();
    client.change(uri(), text);
    const diagnostics = await published(uri());
    const s1 = await stats();
    const [before, after] = [s0.analyses, s1.analyses];
    return {
      counts: { computed: after.computed - before.computed, reused: after.reused - before.reused, diagnosticsReused: after.diagnosticsReused - before.diagnosticsReused },
      parses: { spliced: s1.parses.spliced - s0.parses.spliced, whole: s1.parses.whole - s0.parses.whole },
      diagnostics,
    };
  }

  /** The counts of an edit that analyses `k` models again and reuses the others with their diagnostics. */
  const recomputed = (k: number) => ({ computed: k, reused: N - k, diagnosticsReused: N - k });

  /** The diagnostics of `text` opened as a new document (nothing to reuse: every model is analysed). */
  async function coldDiagnostics(text: string): Promise<Diagnostic[]> {
    const before = (await stats()).analyses;
    const u = fileUri(join(ws, `fresh-${++fresh}.nn`));
    client.open(u, text);
    const diagnostics = await published(u);
    const after = (await stats()).analyses;
    expect(after.computed - before.computed).toBe(N);
    expect(after.reused - before.reused).toBe(0);
    await client.conn.sendNotification('textDocument/didClose', { textDocument: { uri: u } });
    return diagnostics;
  }

  it('recomputes the edited model only, and publishes what a fresh build does', async () => {
    client.open(uri(), file());
    expect(await published(uri())).toEqual([]);
    // a shape error in M7, then fixed again
    const broken = file(HEADER, (i) => model(i, (l) => (i === 7 ? l.replace(/param b1: \[\w+\]/, 'param b1: [9]') : l)));
    const e1 = await edit(broken);
    expect(e1.counts).toEqual(recomputed(1));
    // (parsed again: M7 and its train block, up to the next declaration)
    expect(e1.parses).toEqual({ spliced: 1, whole: 0 });
    expect(e1.diagnostics.map((d) => [d.code, d.range.start.line])).toEqual([['shape-mismatch', HEADER.length + 6 * 12 + 6]]);
    expect(seen(e1.diagnostics)).toEqual(seen(await coldDiagnostics(broken)));
    const e2 = await edit(file());
    expect(e2.counts).toEqual(recomputed(1));
    expect(e2.diagnostics).toEqual([]);
  });

  it('recomputes the models that use a changed const, directly or through another const', async () => {
    await edit(file());
    // H is used by the models of size H and, through H2, of size H2
    const text = file(replaced('const H = 8', 'const H = 6'));
    const users = count((i) => i % 4 === 1 || i % 4 === 3);
    const e = await edit(text);
    expect(e.counts).toEqual(recomputed(users));
    expect(e.diagnostics).toEqual([]);
    // K = 2.5 breaks the three dimensions of each model of size K (and H is back at 8)
    const broken = file(replaced('const K = 3', 'const K = 2.5'));
    const kUsers = count((i) => i % 4 === 2);
    const b = await edit(broken);
    expect(b.counts).toEqual(recomputed(kUsers + users));
    expect(b.diagnostics.filter((d) => d.code === 'invalid-dim')).toHaveLength(3 * kUsers);
    expect(seen(b.diagnostics)).toEqual(seen(await coldDiagnostics(broken)));
  });

  it('recomputes the models that call a changed function, and those trained on changed data', async () => {
    await edit(file());
    const arity = file(replaced('function half(e) = e / 2', 'function half(e, s) = e / s'));
    const callers = count((i) => i % 2 === 0);
    const a = await edit(arity);
    expect(a.counts).toEqual(recomputed(callers));
    expect(a.diagnostics.filter((d) => d.code === 'arity')).toHaveLength(callers);
    expect(seen(a.diagnostics)).toEqual(seen(await coldDiagnostics(arity)));
    // swish's grad line: the models that use swish
    await edit(file());
    const grad = file(replaced('  grad z = sigmoid(z) * (1 + z * (1 - sigmoid(z)))', '  grad z = 1'));
    const swish = count((i) => i % 3 === 1);
    const g = await edit(grad);
    expect(g.counts).toEqual(recomputed(swish));
    expect(seen(g.diagnostics)).toEqual(seen(await coldDiagnostics(grad)));
    // ring's labels are [3] now: the train blocks of the models on ring mismatch their targets
    await edit(file());
    const data = file(replaced('data ring = circle(n: 50, seed: 1)', 'data ring = spiral(n: 60, classes: 3)'));
    const onRing = count((i) => i % 2 === 1);
    const d = await edit(data);
    expect(d.counts).toEqual(recomputed(onRing));
    expect(d.diagnostics.filter((x) => x.code === 'data-shape-mismatch')).toHaveLength(onRing);
    expect(seen(d.diagnostics)).toEqual(seen(await coldDiagnostics(data)));
  });

  it('recomputes every model a new top-level name collides with', async () => {
    await edit(file());
    // a const named like a member of every model, at the end of the file (no model moves)
    const colliding = file().replace(/\n$/, '\nconst W2 = 1\n');
    const c = await edit(colliding);
    expect(c.counts).toEqual(recomputed(N));
    expect(c.diagnostics.filter((d) => d.code === 'duplicate-name')).toHaveLength(N);
    expect(seen(c.diagnostics)).toEqual(seen(await coldDiagnostics(colliding)));
    // its value changes: the members collide with it as before, nothing to do again
    const c2 = await edit(colliding.replace('const W2 = 1', 'const W2 = 7'));
    expect(c2.counts).toEqual(recomputed(0));
    expect(seen(c2.diagnostics)).toEqual(seen(c.diagnostics));
    // gone again: every model is analysed again, and clean
    const gone = await edit(file());
    expect(gone.counts).toEqual(recomputed(N));
    expect(gone.diagnostics).toEqual([]);
  });
});

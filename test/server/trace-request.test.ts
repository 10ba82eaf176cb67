/**
 * The `nnlens/trace` request over stdio (server/handlers/trace.ts): a model's trace for an example at the
 * initial or trained weights, the model's errors when it has some, a message for an example out
 * of range; and the "◇ Backprop" code lens, which only the VS Code extension gets.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CodeLens } from 'vscode-languageserver-protocol';
import { traceData, traceModel } from '../../engine/session/trace';
import { analyzeFile } from '../../language/index';
import { ShowBackpropCommand, type TraceResult, type TrainDoneParams, type TrainResult } from '../../server/protocol';
import { fileUri, LspClient, ROOT } from './lsp-client';

let ws = '';
beforeAll(() => {
  ws = mkdtempSync(join(tmpdir(), 'nnlens-trace-lsp-'));
  cpSync(resolve(ROOT, 'examples'), ws, { recursive: true });
});
afterAll(() => rmSync(ws, { recursive: true, force: true }));

const SETTINGS = {
  gradientCheck: { onEdit: true, mode: 'fast', tolerance: 1e-6, eps: 1e-6 },
  inlayHints: { shapes: true, paramCounts: true },
  training: { saveWeights: false },
};

describe('nnlens/trace', () => {
  const client = new LspClient();
  afterAll(() => client.shutdown());
  const uri = () => fileUri(join(ws, 'xor.nn'));

  it('answers the trace of an example, the same as the engine computes for that file', async () => {
    await client.initialize({ workspaceTrusted: true, settings: SETTINGS }, ws);
    client.open(uri(), readFileSync(join(ws, 'xor.nn'), 'utf8'));
    const r = await client.request<TraceResult>('nnlens/trace', { uri: uri(), model: 'Xor', example: 2 });
    expect(r.status).toBe('ok');
    if (r.status !== 'ok') return;
    expect(r).toMatchObject({ weights: 'initial', trainedAvailable: false, models: ['Xor'], version: 1 });
    const { program } = await analyzeFile(join(ws, 'xor.nn'));
    const direct = traceModel({ program, model: 'Xor', example: 2, ctx: { baseDir: ws }, weightsLabel: 'the initial weights' });
    if (!direct.ok) throw new Error(direct.error.message);
    expect(r.trace).toEqual(JSON.parse(JSON.stringify(traceData(direct.value))));
    expect(r.trace.nodes.find((n) => n.name === 'x')!.value).toEqual([0, 1]);
  });

  it('puts "◇ Backprop" above each model for the VS Code extension', async () => {
    const lenses = await client.request<CodeLens[]>('textDocument/codeLens', { textDocument: { uri: uri() } });
    const backprop = lenses.filter((l) => l.command?.command === ShowBackpropCommand);
    expect(backprop.map((l) => [l.command!.title, l.command!.arguments, l.range.start.line])).toEqual([['◇ Backprop', [uri(), 'Xor'], 4]]);
  });

  it('says why there is no trace: an example out of range, an unknown model', async () => {
    const r = await client.request<TraceResult>('nnlens/trace', { uri: uri(), model: 'Xor', example: 9 });
    expect(r).toMatchObject({ status: 'unavailable', message: 'example 9 is out of range: data xor has 4 examples (1–4)' });
    const q = await client.request<TraceResult>('nnlens/trace', { uri: uri(), model: 'Nope' });
    expect(q).toMatchObject({ status: 'unavailable', message: 'there is no model Nope in this file (models: Xor)' });
  });

  it('lists the model’s errors, and traces again once they are fixed', async () => {
    const text = readFileSync(join(ws, 'xor.nn'), 'utf8');
    const bad = text.replace('a1 = tanh(W1 @ x + b1)', 'a1 = tanh(W9 @ x + b1)');
    client.change(uri(), bad);
    const r = await client.request<TraceResult>('nnlens/trace', { uri: uri(), model: 'Xor' });
    expect(r.status).toBe('errors');
    if (r.status !== 'errors') return;
    expect(r.version).toBe(2);
    const line = bad.split('\n').findIndex((l) => l.includes('W9'));
    expect(r.diagnostics.some((d) => d.line === line && d.code === 'unknown-name' && d.message.includes("'W9'"))).toBe(true);
    client.change(uri(), text);
    const ok = await client.request<TraceResult>('nnlens/trace', { uri: uri(), model: 'Xor' });
    expect(ok).toMatchObject({ status: 'ok', version: 3 });
  });

  it('traces at the trained weights once a run has trained the model', async () => {
    const run = await client.request<TrainResult>('nnlens/train', { uri: uri(), model: 'Xor' });
    await client.waitFor(() => client.notifications.some((n) => n.method === 'nnlens/trainDone' && (n.params as TrainDoneParams).runId === run.runId), 'the run to end', 120_000);
    const initial = await client.request<TraceResult>('nnlens/trace', { uri: uri(), model: 'Xor', example: 2, weights: 'initial' });
    const trained = await client.request<TraceResult>('nnlens/trace', { uri: uri(), model: 'Xor', example: 2, weights: 'trained' });
    if (initial.status !== 'ok' || trained.status !== 'ok') throw new Error('no trace');
    expect(trained.weights).toBe('trained');
    expect(trained.trainedAvailable).toBe(true);
    expect(trained.trace.weights).toMatch(/the weights trained by run/);
    // XOR learned: example 2 is [0, 1] → 1, the trained loss is far below the initial one
    expect(trained.trace.loss!).toBeLessThan(0.1);
    expect(trained.trace.loss!).toBeLessThan(initial.trace.loss!);
    // the progress of a 2-D model carried decision boundaries
    expect(client.notifications.some((n) => n.method === 'nnlens/trainProgress' && (n.params as { boundary?: unknown }).boundary)).toBe(true);
  });
});

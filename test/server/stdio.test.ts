/**
 * The language server as an editor sees it: `node out/cli.js lsp --stdio` (built by `npm test`)
 * driven by a real JSON-RPC client over stdio.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CodeLens, Diagnostic, Hover, InlayHint, MarkupContent } from 'vscode-languageserver-protocol';
import type {
  CheckGradientsResult,
  DebugStatsResult,
  ListModelsResult,
  TrainDoneParams,
  TrainProgressParams,
  TrainResult,
} from '../../server/protocol';
import { fileUri, LspClient, ROOT } from './lsp-client';

let ws = '';
beforeAll(() => {
  ws = mkdtempSync(join(tmpdir(), 'nnlens-lsp-'));
  cpSync(resolve(ROOT, 'examples'), ws, { recursive: true });
});
afterAll(() => rmSync(ws, { recursive: true, force: true }));

const byhand = () => readFileSync(resolve(ROOT, 'examples', 'byhand.nn'), 'utf8');
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle));
const WRONG = 'grad W2 = 2 * outer(grad z2, a1)';
/** byhand.nn with a wrong grad line, plus a second model with a shape error. */
const broken = () =>
  byhand().replace('grad W2 = outer(grad z2, a1)', WRONG) +
  '\nmodel Bad {\n  input x: [3]\n  param W: [2, 4]\n  loss C = sum(W @ x)\n}\n';

describe('nnlens lsp --stdio', () => {
  const client = new LspClient();
  afterAll(() => client.shutdown());

  it('answers initialize with the features it has', async () => {
    const r = await client.initialize(undefined, ws);
    const c = r.capabilities;
    expect(c.hoverProvider).toBe(true);
    expect(c.inlayHintProvider).toBeTruthy();
    expect(c.codeLensProvider).toBeTruthy();
    expect(c.completionProvider).toBeTruthy();
    expect(c.documentFormattingProvider).toBe(true);
    expect(c.renameProvider).toBeTruthy();
    expect(c.semanticTokensProvider).toBeTruthy();
    // another editor than VS Code runs the lenses' commands on the server
    expect(c.executeCommandProvider?.commands).toEqual(['nnlens.train', 'nnlens.checkGradients', 'nnlens.stopTraining']);
  });

  const uri = () => fileUri(join(ws, 'byhand.nn'));

  it('publishes a shape error and a wrong grad line together, each on its line', async () => {
    const text = broken();
    client.open(uri(), text);
    const d = await client.diagnosticsWhere(
      uri(),
      (ds) => ds.some((x) => x.code === 'grad-mismatch') && ds.some((x) => x.code === 'shape-mismatch'),
      'both diagnostics',
    );
    const grad = d.find((x) => x.code === 'grad-mismatch')!;
    const shape = d.find((x) => x.code === 'shape-mismatch')!;
    expect(grad.range.start.line).toBe(lineOf(text, WRONG));
    expect(grad.severity).toBe(1);
    expect(grad.message).toContain('grad W2 is wrong: off by a factor 2.00');
    expect(shape.range.start.line).toBe(lineOf(text, 'loss C = sum(W @ x)'));
    expect(shape.message).toContain('matmul [2, 4] @ [3]');
  });

  it('shows ∂C/∂W with numbers when hovering a weight', async () => {
    const text = client.text(uri());
    const line = lineOf(text, 'param W1');
    const h = await client.request<Hover>('textDocument/hover', {
      textDocument: { uri: uri() },
      position: { line, character: text.split('\n')[line].indexOf('W1') + 1 },
    });
    const md = (h.contents as MarkupContent).value;
    expect(md).toMatch(/\*\*∂C\/∂W1\*\* at the initial weights \(seed 1\), on 4 examples of xor — C = 0\.\d+/);
    expect(md).toMatch(/‖∂C\/∂W1‖ = \d\.\d+/);
    expect(md).toMatch(/backprop \S+, numeric \S+ \(relative error/);
    expect(md).toMatch(/∂C\/∂W1\[\d,\d\] = x\[\d\] × δ\[\d\]|∂C\/∂W1\\\[\d,\d\\\] = x\\\[\d\\\] × δ\\\[\d\\\]/);
  });

  it('clears the grad diagnostic when an edit fixes the line (and keeps the shape error)', async () => {
    const fixed = client.text(uri()).replace(WRONG, 'grad W2 = outer(grad z2, a1)');
    const v = client.change(uri(), fixed);
    // slow diagnostics of the new version: the check ran on it (a dependent-line info would also be gone)
    await new Promise((r) => setTimeout(r, 800));
    const d = await client.diagnosticsWhere(uri(), (ds) => !ds.some((x) => x.code === 'grad-mismatch'), 'no grad-mismatch');
    expect(d.some((x) => x.code === 'shape-mismatch')).toBe(true);
    expect(client.version(uri())).toBe(v);
    const last = client.diagnostics.get(uri())!.at(-1)!;
    expect(last.version).toBe(v);
  });

  it('publishes the findings of the last version only, after a burst of edits', async () => {
    let text = client.text(uri());
    // ten quick edits, each making a different line wrong; only the last one stays wrong
    for (let k = 2; k <= 11; k++) {
      text = byhand().replace('grad b2 = grad z2', `grad b2 = ${k} * grad z2`);
      client.change(uri(), text);
    }
    const d = await client.diagnosticsWhere(uri(), (ds) => ds.some((x) => x.code === 'grad-mismatch'), 'the last version checked');
    const wrong = d.filter((x) => x.code === 'grad-mismatch');
    expect(wrong).toHaveLength(1);
    expect(wrong[0].message).toContain('off by a factor 11 —');
    expect(wrong[0].range.start.line).toBe(lineOf(text, 'grad b2 = 11 * grad z2'));
    const stats = await client.request<DebugStatsResult>('nnlens/debug/stats', {});
    // older jobs were cancelled or never started: far fewer than one per edit
    expect(stats.workers.edit.jobs).toBeLessThan(8);
  });

  it('keeps a model’s last gradient findings, marked, while it has a syntax or shape error', async () => {
    const own = fileUri(join(ws, 'lastgood.nn'));
    const wrong = byhand().replace('grad W2 = outer(grad z2, a1)', WRONG);
    client.open(own, wrong);
    const first = await client.diagnosticsWhere(own, (ds) => ds.some((x) => x.code === 'grad-mismatch'), 'the wrong grad line');
    const grad = first.find((x) => x.code === 'grad-mismatch')!;
    expect(grad.message).not.toMatch(/last version/);
    // a shape error elsewhere in the model: it is not lowered, so it cannot be checked, but the
    // grad finding stays where it was, marked
    const shapeErr = wrong.replace('z1 = W1 @ x + b1', 'z1 = W1 @ W1 + b1');
    expect(shapeErr).not.toBe(wrong);
    client.change(own, shapeErr);
    const marked = await client.diagnosticsWhere(
      own,
      (ds) => ds.some((x) => x.code === 'shape-mismatch') && ds.some((x) => x.code === 'grad-mismatch' && /from the last version/.test(x.message)),
      'the shape error and the marked grad finding',
    );
    const kept = marked.find((x) => x.code === 'grad-mismatch')!;
    expect(kept.message).toBe(`${grad.message} (from the last version of ByHand without errors: it has errors now, so its gradients are not checked)`);
    expect(kept.range).toEqual(grad.range);
    expect(kept.severity).toBe(grad.severity);
    // a syntax error on another line, and a line inserted above: still there, moved with the text
    const syntax = shapeErr.replace('z1 = W1 @ W1 + b1', 'z1 = W1 @ W1 +').replace('model ByHand {', '// a note\nmodel ByHand {');
    client.change(own, syntax);
    const moved = await client.diagnosticsWhere(
      own,
      (ds) => ds.some((x) => x.severity === 1 && x.code !== 'grad-mismatch' && x.code !== 'shape-mismatch') && ds.some((x) => x.code === 'grad-mismatch' && x.range.start.line === grad.range.start.line + 1),
      'the syntax error and the grad finding a line down',
    );
    expect(moved.find((x) => x.code === 'grad-mismatch')!.message).toContain('(from the last version of ByHand without errors');
    // fixed: checked again, no mark (and the wrong line is still wrong)
    client.change(own, wrong);
    const again = await client.diagnosticsWhere(
      own,
      (ds) => ds.some((x) => x.code === 'grad-mismatch' && !/last version/.test(x.message)) && !ds.some((x) => x.code === 'shape-mismatch'),
      'the fresh grad finding',
    );
    expect(again.filter((x) => x.code === 'grad-mismatch')).toHaveLength(1);
    // and once the line is right, nothing of it comes back when the model breaks again
    const right = byhand();
    client.change(own, right);
    await client.diagnosticsWhere(own, (ds) => !ds.some((x) => x.code === 'grad-mismatch'), 'no grad finding');
    client.change(own, right.replace('z1 = W1 @ x + b1', 'z1 = W1 @ W1 + b1'));
    const broken2 = await client.diagnosticsWhere(own, (ds) => ds.some((x) => x.code === 'shape-mismatch'), 'the shape error again');
    await new Promise((r) => setTimeout(r, 800));
    expect(client.diagnostics.get(own)!.at(-1)!.diagnostics.some((x) => x.code === 'grad-mismatch')).toBe(false);
    expect(broken2.some((x) => x.code === 'grad-mismatch')).toBe(false);
  });

  it('lists models, gives code lenses and inlay hints', async () => {
    const models = await client.request<ListModelsResult>('nnlens/listModels', { uri: uri() });
    expect(models.models).toEqual([
      expect.objectContaining({ name: 'ByHand', line: lineOf(client.text(uri()), 'model ByHand'), params: 17, hasTrain: true }),
    ]);
    const lenses = await client.request<CodeLens[]>('textDocument/codeLens', { textDocument: { uri: uri() } });
    expect(lenses.map((l) => l.command?.title)).toEqual(['▶ Train', '∇ Check gradients', '17 params']);
    const hints = await client.request<InlayHint[]>('textDocument/inlayHint', {
      textDocument: { uri: uri() },
      range: { start: { line: 0, character: 0 }, end: { line: 200, character: 0 } },
    });
    expect(hints.find((h) => h.position.line === lineOf(client.text(uri()), 'z1 = W1 @ x'))?.label).toBe(': [4]');
  });

  it('asks for new inlay hints when an edit changes shapes on other lines', async () => {
    const other = fileUri(join(ws, 'digits.nn'));
    const text = readFileSync(join(ws, 'digits.nn'), 'utf8');
    client.open(other, text);
    await client.diagnosticsWhere(other, () => true, 'digits.nn validated');
    const before = client.notifications.filter((n) => n.method === 'workspace/inlayHint/refresh').length;
    client.change(other, text.replace('const H = 30', 'const H = 20'));
    await client.waitFor(
      () => client.notifications.filter((n) => n.method === 'workspace/inlayHint/refresh').length > before,
      'an inlay hint refresh',
    );
    // an edit that changes only its own line's hints does not ask
    const n = client.notifications.filter((x) => x.method === 'workspace/inlayHint/refresh').length;
    client.change(other, client.text(other).replace('// one image, flattened', '// one image'));
    await client.diagnosticsWhere(other, () => true, 'validated');
    await new Promise((r) => setTimeout(r, 300));
    expect(client.notifications.filter((x) => x.method === 'workspace/inlayHint/refresh').length).toBe(n);
  });

  it('runs a full gradient check on request, with $/progress, and publishes its findings', async () => {
    const text = byhand().replace('grad b1 = grad z1', 'grad b1 = -grad z1');
    client.change(uri(), text);
    const token = 'check-1';
    const r = await client.request<CheckGradientsResult>('nnlens/checkGradients', { uri: uri(), mode: 'full', workDoneToken: token });
    expect(Object.keys(r.models)).toEqual(['ByHand']);
    expect(r.models.ByHand.params.W1.shape).toEqual([4, 2]);
    expect(r.models.ByHand.params.W1.maxRelError).toBeLessThan(1e-6);
    expect(r.errors).toBe(1);
    const progress = client.notifications.filter((n) => n.method === '$/progress' && (n.params as { token: string }).token === token);
    const kinds = progress.map((p) => (p.params as { value: { kind: string } }).value.kind);
    expect(kinds[0]).toBe('begin');
    expect(kinds.at(-1)).toBe('end');
    const d = client.latest(uri())!;
    const wrong = d.find((x: Diagnostic) => x.code === 'grad-mismatch')!;
    expect(wrong.message).toContain('the sign is flipped');
    expect(wrong.range.start.line).toBe(lineOf(text, 'grad b1 = -grad z1'));
  });

  it('reports a crash of the engine worker, restarts it, and keeps answering', async () => {
    await client.request('nnlens/debug/crashWorker', {});
    await client.waitFor(
      () => client.notifications.some((n) => n.method === 'window/logMessage' && /engine worker exited unexpectedly/.test((n.params as { message: string }).message)),
      'a log message about the crash',
    );
    // the next edit gets checked by a new worker
    const text = byhand().replace('grad b2 = grad z2', 'grad b2 = 5 * grad z2');
    client.change(uri(), text);
    const d = await client.diagnosticsWhere(uri(), (ds) => ds.some((x) => x.code === 'grad-mismatch'), 'a check after the crash');
    expect(d.find((x) => x.code === 'grad-mismatch')!.message).toContain('off by a factor 5.00');
    const stats = await client.request<DebugStatsResult>('nnlens/debug/stats', {});
    expect(stats.workers.edit.crashes).toBe(1);
    expect(stats.workers.edit.restarts).toBe(1);
  });

  it('refuses to train a model with errors or without a train block, saying why', async () => {
    client.change(uri(), broken());
    await expect(client.request('nnlens/train', { uri: uri(), model: 'Bad' })).rejects.toThrow(/model Bad has errors/);
    await expect(client.request('nnlens/train', { uri: uri(), model: 'Nope' })).rejects.toThrow(/no model named Nope/);
  });
});

describe('an untrusted workspace', () => {
  const client = new LspClient();
  afterAll(() => client.shutdown());

  it('reads no data file and refuses to train, saying why; trust turns both on', async () => {
    await client.initialize(
      {
        workspaceTrusted: false,
        settings: {
          gradientCheck: { onEdit: true, mode: 'fast', tolerance: 1e-6, eps: 1e-6 },
          inlayHints: { shapes: true, paramCounts: true },
          training: { saveWeights: false },
        },
      },
      ws,
    );
    const uri = fileUri(join(ws, 'data.nn'));
    const text = readFileSync(join(ws, 'data.nn'), 'utf8');
    client.open(uri, text);
    const d = await client.diagnosticsWhere(uri, (ds) => ds.some((x) => x.code === 'data-error'), 'a data-error');
    const err = d.find((x) => x.code === 'data-error')!;
    expect(err.range.start.line).toBe(lineOf(text, 'data mine'));
    expect(err.message).toMatch(/not trusted \(Restricted Mode\)/);
    await expect(client.request('nnlens/train', { uri, model: 'Iris' })).rejects.toThrow(/not trusted \(Restricted Mode\)/);
    await client.conn.sendNotification('nnlens/workspaceTrust', { trusted: true });
    await client.waitFor(() => {
      const ds = client.diagnostics.get(uri)?.at(-1)?.diagnostics ?? [];
      return !ds.some((x) => x.code === 'data-error');
    }, 'the data-error to go once trusted');
  });

  it('writes a settings change through: gradient checks off as you type', async () => {
    const uri = fileUri(join(ws, 'byhand.nn'));
    client.open(uri, broken());
    await client.diagnosticsWhere(uri, (ds) => ds.some((x) => x.code === 'grad-mismatch'), 'grad-mismatch');
    await client.conn.sendNotification('workspace/didChangeConfiguration', {
      settings: { nnlens: { gradientCheck: { onEdit: false } } },
    });
    await client.diagnosticsWhere(uri, (ds) => !ds.some((x) => x.code === 'grad-mismatch') && ds.some((x) => x.code === 'shape-mismatch'), 'only the fast diagnostics');
  });
});

describe('training over LSP', () => {
  const client = new LspClient();
  afterAll(() => client.shutdown());
  const progressOf = (runId: string) =>
    client.notifications
      .filter((n) => n.method === 'nnlens/trainProgress' && (n.params as TrainProgressParams).runId === runId)
      .map((n) => n.params as TrainProgressParams);
  const doneOf = (runId: string) =>
    client.notifications.find((n) => n.method === 'nnlens/trainDone' && (n.params as TrainDoneParams).runId === runId)?.params as
      | TrainDoneParams
      | undefined;

  it('streams progress, finishes, writes NAME.weights.json, and hovers then use the trained weights', async () => {
    await client.initialize(undefined, ws);
    const path = join(ws, 'xor.nn');
    const uri = fileUri(path);
    const text = readFileSync(path, 'utf8');
    client.open(uri, text);
    const r = await client.request<TrainResult>('nnlens/train', { uri, model: 'Xor' });
    expect(r).toMatchObject({ model: 'Xor', epochs: 500, stepsPerEpoch: 1, hasValidation: false, hasAccuracy: true });
    await client.waitFor(() => doneOf(r.runId) !== undefined, 'trainDone');
    const done = doneOf(r.runId)!;
    expect(done.reason).toBe('completed');
    const progress = progressOf(r.runId);
    expect(progress.length).toBeGreaterThan(1);
    for (let i = 1; i < progress.length; i++) expect(progress[i].step).toBeGreaterThan(progress[i - 1].step);
    expect(progress.at(-1)!.step).toBe(500);
    expect(progress.every((p) => Number.isFinite(p.loss) && p.uri === uri && p.model === 'Xor')).toBe(true);
    // progress comes before the end
    const order = client.notifications.map((n) => n.method).filter((m) => m.startsWith('nnlens/train'));
    expect(order.at(-1)).toBe('nnlens/trainDone');

    expect(done.weightsPath).toBe(join(ws, 'Xor.weights.json'));
    const w = JSON.parse(readFileSync(done.weightsPath!, 'utf8')) as Record<string, number[][] | number[]>;
    expect(Object.keys(w)).toEqual(['W1', 'b1', 'W2', 'b2']);
    expect((w.W1 as number[][]).map((row) => row.length)).toEqual([2, 2, 2, 2]);
    expect(w.b2).toHaveLength(1);

    // The loss at the trained weights, by hand (tanh hidden layer, sigmoid output, binary cross-entropy,
    // mean over the four XOR points) is the C the hover reports.
    const W1 = w.W1 as number[][];
    const W2 = w.W2 as number[][];
    const b1 = w.b1 as number[];
    const b2 = w.b2 as number[];
    let C = 0;
    for (const [x, t] of [[[0, 0], 0], [[0, 1], 1], [[1, 0], 1], [[1, 1], 0]] as [number[], number][]) {
      const a = W1.map((row, i) => Math.tanh(row[0] * x[0] + row[1] * x[1] + b1[i]));
      const y = 1 / (1 + Math.exp(-(a.reduce((s, v, j) => s + W2[0][j] * v, 0) + b2[0])));
      C += -(t * Math.log(y) + (1 - t) * Math.log(1 - y)) / 4;
    }
    const line = lineOf(text, 'param W1');
    let md = '';
    for (let tries = 0; tries < 40 && !md.includes('trained by run'); tries++) {
      const h = await client.request<Hover>('textDocument/hover', {
        textDocument: { uri },
        position: { line, character: text.split('\n')[line].indexOf('W1') + 1 },
      });
      md = (h.contents as MarkupContent).value;
      if (!md.includes('trained by run')) await new Promise((res) => setTimeout(res, 250));
    }
    expect(md).toContain(`at the weights trained by run ${r.runId}`);
    const printed = Number(/C = (\S+) \(the mean loss\)/.exec(md)![1].replace('−', '-'));
    // float32 training, float64 evaluation of the same (float32-rounded) weights
    expect(Math.abs(printed - C)).toBeLessThan(1e-3 * Math.max(1, C));
  });

  it('carries every epoch’s point in the (throttled) progress, and continues from the trained weights when asked', async () => {
    const path = join(ws, 'xor.nn');
    const uri = fileUri(path);
    const first = client.notifications.find((n) => n.method === 'nnlens/trainDone' && (n.params as TrainDoneParams).model === 'Xor')!.params as TrainDoneParams;
    const points = progressOf(first.runId).flatMap((p) => p.points ?? []);
    expect(points.map((p) => p.epoch)).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    expect(progressOf(first.runId).length).toBeLessThan(500);
    // the model now has weights beyond its initial ones: listModels says whose
    const { models } = await client.request<ListModelsResult>('nnlens/listModels', { uri });
    expect(models.find((m) => m.name === 'Xor')!.currentWeights).toMatch(new RegExp(`^the weights trained by run ${first.runId} \\(completed at \\d\\d:\\d\\d, epoch 500\\)$`));
    // a run from them starts where the last one ended: its first step's loss (xor: one step an
    // epoch) is the loss at the trained weights, computed by hand
    const w = JSON.parse(readFileSync(first.weightsPath!, 'utf8')) as { W1: number[][]; b1: number[]; W2: number[][]; b2: number[] };
    let C = 0;
    for (const [x, t] of [[[0, 0], 0], [[0, 1], 1], [[1, 0], 1], [[1, 1], 0]] as [number[], number][]) {
      const a = w.W1.map((row, i) => Math.tanh(row[0] * x[0] + row[1] * x[1] + w.b1[i]));
      const y = 1 / (1 + Math.exp(-(a.reduce((s, v, j) => s + w.W2[0][j] * v, 0) + w.b2[0])));
      C += -(t * Math.log(y) + (1 - t) * Math.log(1 - y)) / 4;
    }
    const r = await client.request<TrainResult>('nnlens/train', { uri, model: 'Xor', weights: 'resume' });
    await client.waitFor(() => doneOf(r.runId) !== undefined, 'trainDone of the continued run');
    const resumed = progressOf(r.runId).flatMap((p) => p.points ?? []);
    expect(Math.abs(resumed[0].loss - C)).toBeLessThan(1e-4 * Math.max(1, C));
    // afresh, it starts from the initial weights again: the first run's first loss
    const again = await client.request<TrainResult>('nnlens/train', { uri, model: 'Xor', weights: 'initial' });
    await client.waitFor(() => doneOf(again.runId) !== undefined, 'trainDone of the run afresh');
    expect(progressOf(again.runId).flatMap((p) => p.points ?? [])[0].loss).toBe(points[0].loss);
    expect(points[0].loss).toBeGreaterThan(C * 2);
    // a model without trained weights cannot continue
    const other = join(ws, 'fresh.nn');
    writeFileSync(other, readFileSync(path, 'utf8'));
    client.open(fileUri(other), readFileSync(path, 'utf8'));
    await expect(client.request('nnlens/train', { uri: fileUri(other), model: 'Xor', weights: 'resume' })).rejects.toThrow(
      /Xor has no trained weights to continue from: train it from its initial weights first/,
    );
  });

  it('runs one run per model at a time, shows it in the lenses, and stops on request', async () => {
    const path = join(ws, 'long.nn');
    const uri = fileUri(path);
    const text = readFileSync(join(ws, 'xor.nn'), 'utf8').replace('epochs: 500', 'epochs: 1000000');
    writeFileSync(path, text);
    client.open(uri, text);
    const r = await client.request<TrainResult>('nnlens/train', { uri, model: 'Xor' });
    expect(r.epochs).toBe(1_000_000);
    await expect(client.request('nnlens/train', { uri, model: 'Xor' })).rejects.toThrow(/Xor is already training \(run r\d+\); stop that run first/);
    await client.waitFor(() => progressOf(r.runId).length > 2, 'progress of the long run');
    const lenses = await client.request<CodeLens[]>('textDocument/codeLens', { textDocument: { uri } });
    const stop = lenses.find((l) => l.command?.title.startsWith('■ Stop training'))!;
    expect(stop.command).toMatchObject({ command: 'nnlens.stopTraining', arguments: [r.runId] });
    await client.request('nnlens/stopTraining', { runId: r.runId });
    const done = doneOf(r.runId)!;
    expect(done.reason).toBe('stopped');
    expect(done.weightsPath).toBe(join(ws, 'Xor.weights.json'));
    const n = progressOf(r.runId).length;
    await new Promise((res) => setTimeout(res, 300));
    expect(progressOf(r.runId).length).toBe(n);
    await expect(client.request('nnlens/stopTraining', { runId: r.runId })).rejects.toThrow(/no live training run/);
  });
});

describe('a diverging run', () => {
  const client = new LspClient();
  afterAll(() => client.shutdown());

  it('ends with reason diverged and a warning on the op that produced the non-finite loss', async () => {
    await client.initialize(undefined, ws);
    const path = join(ws, 'diverge.nn');
    const uri = fileUri(path);
    const text = [
      'data xor = xor()',
      'model Boom {',
      '  input x: [2]',
      '  target t: [1]',
      '  param W: [1, 2] = normal(0, 1)',
      '  y = exp(W @ x)',
      '  loss C = mse(y, t) * 0 - sum(y)',
      '}',
      'train Boom on xor { optimizer: sgd(lr: 1) batch: 4 epochs: 1000 }',
      '',
    ].join('\n');
    writeFileSync(path, text);
    client.open(uri, text);
    const r = await client.request<TrainResult>('nnlens/train', { uri });
    await client.waitFor(
      () => client.notifications.some((n) => n.method === 'nnlens/trainDone' && (n.params as TrainDoneParams).runId === r.runId),
      'trainDone',
    );
    const done = client.notifications.find((n) => n.method === 'nnlens/trainDone')!.params as TrainDoneParams;
    expect(done.reason).toBe('diverged');
    expect(done.message).toMatch(/loss exploded at epoch \d+, step \d+/);
    const d = await client.diagnosticsWhere(uri, (ds) => ds.some((x) => x.code === 'training-diverged'), 'a training-diverged warning');
    const w = d.find((x) => x.code === 'training-diverged')!;
    expect(w.severity).toBe(2);
    expect(w.range.start.line).toBeGreaterThanOrEqual(lineOf(text, 'y = exp'));
    expect(w.range.start.line).toBeLessThanOrEqual(lineOf(text, 'loss C'));
    expect(w.message).toContain(`training Boom (run ${r.runId}) diverged here`);
  });
});

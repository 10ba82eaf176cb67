// The extension's logic that needs no VS Code: the run store behind the loss panel, the
// "model at the cursor" rule, and the training-log format.
import { describe, expect, it } from 'vitest';
import { parseLogLine } from '../../client/logFormat';
import { modelAt } from '../../client/models';
import { RunStore, type StoreEvent } from '../../client/runStore';
import type { ModelInfo } from '../../server/protocol';

const run = (runId: string, startedAt = 1) => ({
  runId, model: `M${runId}`, uri: 'file:///a.nn', source: 'server' as const, startedAt,
  epochs: 2, stepsPerEpoch: 3, hasValidation: false, hasAccuracy: false,
});
const point = (step: number, loss: number) => ({ step, epoch: 1, loss, valLoss: null, accuracy: null, elapsedMs: step });

describe('RunStore', () => {
  it('records runs, their points and their end, and tells its listeners', () => {
    const store = new RunStore();
    const events: StoreEvent['type'][] = [];
    store.onEvent((e) => events.push(e.type));
    store.start(run('a'));
    store.addPoints('a', [point(1, 0.9), point(2, 0.8)]);
    store.addPoints('nope', [point(1, 1)]);
    expect(store.get('a')!.points.loss).toEqual([0.9, 0.8]);
    expect(store.live().map((r) => r.runId)).toEqual(['a']);
    store.end('a', 'completed', 'done');
    store.end('a', 'error', 'late'); // a run ends once
    expect(store.get('a')).toMatchObject({ status: 'completed', message: 'done' });
    expect(store.live()).toEqual([]);
    expect(events).toEqual(['started', 'points', 'ended']);
  });

  it('completes a run created from early progress when the train answer arrives', () => {
    const store = new RunStore();
    store.start({ ...run('a'), epochs: null, stepsPerEpoch: null });
    store.addPoints('a', [point(1, 1)]);
    store.start(run('a'));
    expect(store.all()).toHaveLength(1);
    expect(store.get('a')).toMatchObject({ epochs: 2, stepsPerEpoch: 3, status: 'running' });
    expect(store.get('a')!.points.step).toEqual([1]);
  });

  it('keeps at most maxRuns, dropping the oldest finished runs and never a live one', () => {
    const store = new RunStore(2);
    const removed: string[][] = [];
    store.onEvent((e) => { if (e.type === 'removed') removed.push(e.runIds); });
    store.start(run('a'));
    store.start(run('b'));
    store.start(run('c')); // all live: nothing can go
    expect(store.all().map((r) => r.runId)).toEqual(['a', 'b', 'c']);
    store.end('b', 'stopped', null);
    expect(store.all().map((r) => r.runId)).toEqual(['a', 'c']);
    expect(removed).toEqual([['b']]);
    store.remove(['a']); // live: stays
    expect(store.all()).toHaveLength(2);
  });

  it('clears finished runs', () => {
    const store = new RunStore();
    store.start(run('a'));
    store.start(run('b'));
    store.end('a', 'completed', null);
    store.clearFinished();
    expect(store.all().map((r) => r.runId)).toEqual(['b']);
  });

  it('restores saved runs after a reload, marking the ones that were live as interrupted', () => {
    const store = new RunStore();
    store.start(run('new', 5));
    const saved = new RunStore();
    saved.start(run('old', 1));
    saved.addPoints('old', [point(1, 0.5)]);
    saved.start(run('done', 2));
    saved.end('done', 'completed', 'ok');
    store.restore(JSON.parse(JSON.stringify(saved.all())));
    store.restore(JSON.parse(JSON.stringify(saved.all()))); // twice: no duplicates
    expect(store.all().map((r) => [r.runId, r.status])).toEqual([['old', 'interrupted'], ['done', 'completed'], ['new', 'running']]);
    expect(store.get('old')!.points.loss).toEqual([0.5]);
  });
});

describe('modelAt', () => {
  const m = (name: string, line: number, extra: Partial<ModelInfo> = {}): ModelInfo => ({ name, line, params: 1, hasTrain: true, ...extra });

  it('uses the ranges the server gives', () => {
    const models = [m('A', 2, { endLine: 8, trainRange: { line: 20, endLine: 24 } }), m('B', 10, { endLine: 16 })];
    expect(modelAt(models, 5)?.name).toBe('A');
    expect(modelAt(models, 22)?.name).toBe('A'); // in A's train block
    expect(modelAt(models, 16)?.name).toBe('B');
    expect(modelAt(models, 18)).toBeUndefined();
    expect(modelAt(models, 0)).toBeUndefined();
  });

  it('without ranges, lets a model extend to the next model', () => {
    const models = [m('B', 10), m('A', 2)];
    expect(modelAt(models, 9)?.name).toBe('A');
    expect(modelAt(models, 10)?.name).toBe('B');
    expect(modelAt(models, 500)?.name).toBe('B');
    expect(modelAt(models, 1)).toBeUndefined();
  });
});

describe('parseLogLine (nnlens train --json)', () => {
  it('reads the CLI format, numbering samples without a step', () => {
    expect(parseLogLine('{"epoch": 2, "step": 7, "loss": 0.5, "valLoss": 0.6, "accuracy": 0.9}', 0))
      .toEqual({ step: 7, epoch: 2, loss: 0.5, valLoss: 0.6, accuracy: 0.9, elapsedMs: 0, model: undefined });
    expect(parseLogLine('{"epoch": 1, "loss": 1.5, "valLoss": null}', 4)).toMatchObject({ step: 5, valLoss: null, accuracy: null });
    expect(parseLogLine('{"model": "Digits", "loss": 1, "val_loss": 2}', 0)).toMatchObject({ model: 'Digits', valLoss: 2 });
  });
  it('skips what is not a sample', () => {
    for (const l of ['', 'epoch 1 loss 0.3', '{"loss": "0.3"}', '{"loss": null}', '{broken', '[1, 2]']) {
      expect(parseLogLine(l, 0)).toBeNull();
    }
  });
});

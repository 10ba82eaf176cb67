/**
 * `trainInWorker`: the same training in a worker_thread (out/train-worker.js, built by
 * `npm test`), stopped through a shared flag, and every way it can fail reported as a rejection.
 */
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initParams, runTraining, trainInWorker, type TrainPlan, type TrainProgress } from '../../engine/index';
import { example, specDigits, lowered, ROOT } from './helpers';

const WORKER = join(ROOT, 'out/train-worker.js');

beforeAll(() => {
  if (!existsSync(WORKER)) throw new Error('out/train-worker.js is missing: run `npm run build` (npm test does)');
});

describe('trainInWorker', () => {
  it('trains exactly as runTraining does, with a plan first and every epoch’s end among the reports’ points', async () => {
    const { program, model, ctx } = await specDigits();
    const job = { program, model: model.name, ctx, options: { epochs: 4 } };
    const events: string[] = [];
    let plan: TrainPlan | null = null;
    const reports: TrainProgress[] = [];
    const out = await trainInWorker(job, {
      workerScript: WORKER,
      onStart: (p) => {
        plan = p;
        events.push('start');
      },
      onProgress: (p) => {
        reports.push(p);
        events.push('progress');
      },
    });
    expect(events[0]).toBe('start');
    expect(plan!.totalSteps).toBe(4 * 57);
    expect(out.reason).toBe('completed');
    // messages are throttled (50 ms), the points they carry are not
    const ends = reports.flatMap((r) => r.points ?? []).filter((q) => q.epochEnd);
    expect(ends.map((r) => r.epoch)).toEqual([1, 2, 3, 4]);
    expect(ends.map((r) => r.step)).toEqual([57, 114, 171, 228]);
    for (const r of ends) {
      expect(r.valLoss).toBeGreaterThan(0);
      expect(r.accuracy).toBeGreaterThan(0);
      expect(r.epochLoss).toBeGreaterThan(0);
    }
    expect(reports.at(-1)!.epochEnd).toBe(true);
    expect(reports.at(-1)!.epoch).toBe(4);
    // steps never go back
    for (let i = 1; i < reports.length; i++) expect(reports[i].step).toBeGreaterThanOrEqual(reports[i - 1].step);
    const here = runTraining(job);
    for (const q of model.params) expect(Array.from(out.params[q.name])).toEqual(Array.from(here.params[q.name]));
    expect(out.finalValLoss).toBe(here.finalValLoss);
  });

  it('an abort stops the run before many more steps, with the weights after the last step', async () => {
    const { program, model, ctx } = await specDigits();
    const ac = new AbortController();
    let abortedAt = -1;
    let total = 0;
    const out = await trainInWorker(
      { program, model: model.name, ctx, options: { epochs: 1000 } },
      {
        workerScript: WORKER,
        signal: ac.signal,
        onStart: (p) => (total = p.totalSteps),
        onProgress: (p) => {
          if (abortedAt < 0 && p.step > 0) {
            abortedAt = p.step;
            ac.abort();
          }
        },
      },
    );
    expect(out.reason).toBe('stopped');
    expect(total).toBe(57_000);
    expect(out.steps).toBeGreaterThanOrEqual(abortedAt);
    // the flag is polled before every step: the worker ran on only while the abort travelled
    expect(out.steps - abortedAt).toBeLessThan(10_000);
    expect(out.message).toMatch(new RegExp(`^stopped at epoch \\d+, step ${out.steps.toLocaleString('en-US')} of 57,000`));
    expect(Object.keys(out.params)).toEqual(model.params.map((q) => q.name));
    expect(Object.values(out.params).every((a) => a.every(Number.isFinite))).toBe(true);
  });

  it('aborted before it starts: resolves at once with the initial weights and no step', async () => {
    const { program, model, ctx } = await specDigits();
    const ac = new AbortController();
    ac.abort();
    const out = await trainInWorker({ program, model: model.name, ctx }, { workerScript: WORKER, signal: ac.signal });
    expect(out.reason).toBe('stopped');
    expect(out.steps).toBe(0);
    const initial = initParams(model, 42);
    for (const q of model.params) expect(Array.from(out.params[q.name])).toEqual(Array.from(initial[q.name]));
  });

  it('a job that cannot run rejects with the reason', async () => {
    const { program, ctx } = await specDigits();
    await expect(trainInWorker({ program, model: 'Nope', ctx }, { workerScript: WORKER })).rejects.toThrow(
      /^training failed: no model named Nope$/,
    );
    const dir = mkdtempSync(join(tmpdir(), 'nnlens-train-'));
    const csv = join(dir, 'd.csv');
    writeFileSync(csv, 'a,b\n1,0\n2,1\n');
    const { program: p2 } = await lowered(
      `data d = csv("d.csv")\nmodel M {\n  input x: [1]\n  target t: [1]\n  param w: [1, 1]\n  loss C = mse(w @ x, t)\n}\ntrain M on d {\n  epochs: 1\n}\n`,
      join(dir, 'm.nn'),
    );
    writeFileSync(csv, 'a,b\n1,0\n2,x\n'); // changed after the analysis
    await expect(trainInWorker({ program: p2, model: 'M', ctx: { baseDir: dir } }, { workerScript: WORKER })).rejects.toThrow(
      /^training failed: csv "d.csv" row 3, column 2 \("b"\): the label "x" is not a number/,
    );
  });

  it('a missing, throwing or exiting worker rejects with a clear message (never hangs)', async () => {
    const { program, model, ctx } = await example('xor.nn');
    const job = { program, model: model.name, ctx };
    const dir = mkdtempSync(join(tmpdir(), 'nnlens-worker-'));
    await expect(trainInWorker(job, { workerScript: join(dir, 'nope.js') })).rejects.toThrow(/train.*worker script .*nope\.js does not exist/);
    const throwing = join(dir, 'throws.js');
    writeFileSync(throwing, "throw new Error('boom');\n");
    await expect(trainInWorker(job, { workerScript: throwing })).rejects.toThrow(/^the training worker crashed: boom$/);
    const exiting = join(dir, 'exits.js');
    writeFileSync(exiting, 'process.exit(3);\n');
    await expect(trainInWorker(job, { workerScript: exiting })).rejects.toThrow(/^the training worker exited \(code 3\) before it finished$/);
  });

  it('a callback that throws stops the run and rejects with its error', async () => {
    const { program, model, ctx } = await specDigits();
    await expect(
      trainInWorker(
        { program, model: model.name, ctx, options: { epochs: 200 } },
        {
          workerScript: WORKER,
          onProgress: () => {
            throw new Error('the listener broke');
          },
        },
      ),
    ).rejects.toThrow(/^the listener broke$/);
  });
});

/**
 * `nnlens train` as a user runs it (`node out/cli.js`, built by `npm test`): §8's JSON lines, the
 * weights file (read back by `nnlens grad`), the terminal output, exit statuses, Ctrl-C.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXPLODING_SOFTMAX, ROOT } from './helpers';

const CLI = join(ROOT, 'out/cli.js');

function nnlens(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT, timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

let dir = '';
beforeAll(() => {
  if (!existsSync(CLI)) throw new Error('out/cli.js is missing: run `npm run build` (npm test does)');
  dir = mkdtempSync(join(tmpdir(), 'nnlens-train-cli-'));
  for (const f of ['xor.nn', 'byhand.nn', 'training.nn', 'data.nn']) cpSync(join(ROOT, 'examples', f), join(dir, f));
  // the spec's §1 listing verbatim (2,000 digits), as digits.nn
  cpSync(join(ROOT, 'test/fixtures/spec-digits.nn'), join(dir, 'digits.nn'));
  cpSync(join(ROOT, 'examples/data'), join(dir, 'data'), { recursive: true });
});

interface Line {
  epoch: number;
  step: number;
  loss: number;
  valLoss: number | null;
  accuracy: number | null;
}

describe('nnlens train --json', () => {
  it('prints one object per epoch with exactly §8’s keys, and writes NAME.weights.json that nnlens grad reads', () => {
    const file = join(dir, 'training.nn');
    const r = nnlens('train', file, '--json');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Line);
    expect(lines).toHaveLength(50);
    lines.forEach((l, i) => {
      expect(Object.keys(l)).toEqual(['epoch', 'step', 'loss', 'valLoss', 'accuracy']);
      expect(l.epoch).toBe(i + 1);
      expect(l.step).toBe((i + 1) * 10); // 320 training examples, batch 32
      expect(l.loss).toBeGreaterThan(0);
      expect(l.valLoss).toBeGreaterThan(0);
      expect(l.accuracy).toBeGreaterThanOrEqual(0);
    });
    expect(lines[49].loss).toBeLessThan(lines[0].loss);
    expect(lines[49].accuracy!).toBeGreaterThan(0.9);
    expect(r.stderr).toMatch(/gradient check \(fast, 4 examples of D\): 6 params, max relative error \S+ — ok/);
    expect(r.stderr).toMatch(/wrote the trained weights to .*M\.weights\.json/);

    const weights = join(dir, 'M.weights.json');
    const P = JSON.parse(readFileSync(weights, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(P)).toEqual(['h1.W', 'h1.b', 'h2.W', 'h2.b', 'y.W', 'y.b']);
    expect((P['h1.W'] as number[][]).length).toBe(8);
    expect((P['h1.W'] as number[][])[0].length).toBe(2);
    // the weights round-trip into nnlens grad
    const batch = join(dir, 'B.json');
    writeFileSync(batch, JSON.stringify({ x: [[0, 0], [4, 0.5], [-1, 3]], t: [[1], [0], [0]] }));
    const g = nnlens('grad', file, '--model', 'M', '--params', weights, '--batch', batch, '--json');
    expect(g.code, g.stderr).toBe(0);
    const out = JSON.parse(g.stdout) as { loss: number; grads: Record<string, unknown> };
    expect(Number.isFinite(out.loss)).toBe(true);
    // a trained circle classifier: the centre is inside, (4, 0.5) outside
    expect(out.loss).toBeLessThan(0.5);
    expect(Object.keys(out.grads)).toEqual(Object.keys(P));
  });

  it('without a split: valLoss is null and accuracy is measured on the training set', () => {
    const r = nnlens('train', join(dir, 'byhand.nn'), '--json');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Line);
    expect(lines).toHaveLength(2000);
    expect(lines.every((l) => l.valLoss === null)).toBe(true);
    expect(lines[1999].loss).toBeLessThan(0.05);
    expect(lines[1999].accuracy).toBe(1);
    expect(r.stderr).toMatch(/gradient check \(fast, 4 examples of xor\): 4 params, 7 backward lines, max relative error \S+ — ok/);
  });
});

describe('nnlens train on a terminal-less stdout', () => {
  it('prints the check, the run, epoch lines, the loss curve and where the weights went', () => {
    const r = nnlens('train', join(dir, 'digits.nn'));
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(/^gradient check \(fast, 4 examples of digits\): 4 params, max relative error/m);
    expect(out).toContain('training Digits on digits: 1,800 training + 200 validation examples, batch 32 (last 8), 20 epochs × 57 steps, sgd(lr: 0.5), 8,020 parameters');
    for (let e = 1; e <= 20; e++) expect(out).toMatch(new RegExp(`^epoch ${String(e).padStart(2)}/20  loss \\d\\.\\d{4}  val loss \\d\\.\\d{4}  accuracy \\d+\\.\\d%`, 'm'));
    expect(out).toMatch(/[\u2801-\u28ff]/); // the braille curve
    expect(out).toContain('training loss');
    expect(out).toMatch(/^trained 20 epochs \(1,140 steps\) in [\d.]+ s — training loss 0\.\d{4}, validation loss 0\.\d{4}, validation accuracy \d+\.\d%$/m);
    expect(out).not.toMatch(/\x1b\[/); // no terminal control codes when stdout is not a terminal
    expect(existsSync(join(dir, 'Digits.weights.json'))).toBe(true);
  });
});

describe('nnlens train exit statuses', () => {
  it('1 with the errors printed when the file has errors', () => {
    const file = join(dir, 'bad.nn');
    writeFileSync(file, 'data d = xor()\nmodel Bad {\n  input x: [2]\n  target t: [1]\n  param W: [1, 3]\n  loss C = mse(W @ x, t)\n}\ntrain Bad on d {\n}\n');
    const r = nnlens('train', file);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.nn:6:\d+ - error shape-mismatch/);
    expect(r.stderr).toMatch(/not training/);
    expect(existsSync(join(dir, 'Bad.weights.json'))).toBe(false);
  });

  it('1 when the gradient check finds a wrong backward line (nothing is trained)', () => {
    const sub = mkdtempSync(join(dir, 'wrong-'));
    const file = join(sub, 'wrong.nn');
    writeFileSync(file, readFileSync(join(dir, 'byhand.nn'), 'utf8').replace('grad z1 = grad a1 * a1 * (1 - a1)', 'grad z1 = grad a1 * a1'));
    const r = nnlens('train', file, '--json');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/wrong\.nn:\d+:\d+ - error grad-mismatch: grad z1 is wrong/);
    expect(r.stderr).toMatch(/the gradient check found (an error|\d+ errors): not training/);
    expect(existsSync(join(sub, 'ByHand.weights.json'))).toBe(false);
  });

  it('2 for an unknown --model, a model without a train block, or several trained models and no --model', () => {
    const unknown = nnlens('train', join(dir, 'digits.nn'), '--model', 'Nope');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/has no model Nope \(models: Digits\)/);
    const file = join(dir, 'two.nn');
    const model = (n: string) => `model ${n} {\n  input x: [2]\n  target t: [1]\n  param W: [1, 2]\n  loss C = mse(W @ x, t)\n}\n`;
    writeFileSync(file, `data d = xor()\n${model('A')}${model('B')}${model('C')}train A on d {\n  epochs: 2\n}\ntrain B on d {\n  epochs: 2\n}\n`);
    const several = nnlens('train', file);
    expect(several.code).toBe(2);
    expect(several.stderr).toMatch(/trains several models \(A, B\); choose one with --model NAME/);
    const noBlock = nnlens('train', file, '--model', 'C');
    expect(noBlock.code).toBe(2);
    expect(noBlock.stderr).toMatch(/model C has no train block/);
    const chosen = nnlens('train', file, '--model', 'B', '--json');
    expect(chosen.code, chosen.stderr).toBe(0);
    expect(chosen.stdout.trim().split('\n')).toHaveLength(2);
    const none = join(dir, 'none.nn');
    writeFileSync(none, model('N'));
    expect(nnlens('train', none).code).toBe(2);
    expect(nnlens('train').code).toBe(2);
  });

  it('3 when the loss explodes, with a warning, the op named and the last good weights written', () => {
    const file = join(dir, 'explode.nn');
    writeFileSync(
      file,
      EXPLODING_SOFTMAX,
    );
    const r = nnlens('train', file);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/diverged: loss exploded at epoch 1, step \d+: exp gives Infinity .* — try a lower lr \(now 400\)/);
    expect(r.stderr).toMatch(/^warning: the run diverged: the loss became (infinite|non-finite) — try a lower lr \(now 400\)$/m);
    expect(r.stdout).toMatch(/wrote the last good weights \(before step \d+\) to .*Soft\.weights\.json/);
    const P = JSON.parse(readFileSync(join(dir, 'Soft.weights.json'), 'utf8')) as { W: number[][] };
    expect(P.W.flat().every(Number.isFinite)).toBe(true);
  });

  it('130 after Ctrl-C, with the weights after the last finished step written', async () => {
    const file = join(dir, 'long.nn');
    writeFileSync(file, readFileSync(join(dir, 'digits.nn'), 'utf8').replace('epochs: 20', 'epochs: 100000'));
    const child = spawn(process.execPath, [CLI, 'train', file, '--json'], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        const first = stdout === '';
        stdout += d.toString();
        if (first) child.kill('SIGINT'); // after the first epoch's line
      });
      child.on('exit', (c) => resolve(c));
    });
    expect(code).toBe(130);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as Line);
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines.length).toBeLessThan(100000);
    const m = /stopped at epoch (\d+), step ([\d,]+) of 5,700,000/.exec(stderr);
    expect(m, stderr).not.toBeNull();
    expect(stderr).toMatch(new RegExp(`wrote the weights after step ${m![2]} to .*Digits\\.weights\\.json`));
    const P = JSON.parse(readFileSync(join(dir, 'Digits.weights.json'), 'utf8')) as Record<string, number[] | number[][]>;
    expect(Object.keys(P)).toEqual(['W1', 'b1', 'W2', 'b2']);
  });
});

describe('nnlens train into a pipe its reader closes', () => {
  it('ends quietly with 141 (128 + SIGPIPE), as `nnlens train x.nn | head -3` expects, not with an EPIPE stack', async () => {
    const file = join(dir, 'long-pipe.nn');
    writeFileSync(file, readFileSync(join(dir, 'digits.nn'), 'utf8').replace('epochs: 20', 'epochs: 100000'));
    const child = spawn(process.execPath, [CLI, 'train', file, '--json'], { cwd: ROOT });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => {
      child.stdout.once('data', () => child.stdout.destroy()); // the reader goes away after the first line
      child.on('exit', (c) => resolve(c));
    });
    expect(code).toBe(141);
    expect(stderr).not.toMatch(/EPIPE|Unhandled|internal error/);
  });
});

describe('nnlens train overrides, --resume and --threads', () => {
  it('--epochs, --batch and --seed replace the train block’s; the same seed gives the same weights, another seed others', () => {
    const sub = mkdtempSync(join(dir, 'over-'));
    const file = join(sub, 'training.nn');
    cpSync(join(dir, 'training.nn'), file);
    const run = (...args: string[]) => {
      const r = nnlens('train', file, '--json', ...args);
      expect(r.code, r.stderr).toBe(0);
      return { lines: r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Line), weights: readFileSync(join(sub, 'M.weights.json'), 'utf8') };
    };
    const a = run('--epochs', '3', '--batch', '64', '--seed', '5');
    // 320 training examples in batches of 64: 5 steps an epoch
    expect(a.lines.map((l) => [l.epoch, l.step])).toEqual([[1, 5], [2, 10], [3, 15]]);
    expect(run('--epochs=3', '--batch=64', '--seed=5').weights).toBe(a.weights);
    expect(run('--epochs', '3', '--batch', '64', '--seed', '6').weights).not.toBe(a.weights);
  });

  it('--resume W.json --lr X --epochs 1: one SGD step from those weights, as nnlens grad’s float64 gradient says', () => {
    const sub = mkdtempSync(join(dir, 'resume-'));
    const file = join(sub, 'lin.nn');
    // three examples, one batch of all of them: an epoch is one step
    writeFileSync(
      file,
      `data D = table {\n  [1, 2] -> [1]\n  [0, -1] -> [0.5]\n  [3, 1] -> [-2]\n}\nmodel L {\n  input x: [2]\n  target t: [1]\n  param W: [1, 2]\n  param b: [1]\n  loss C = mse(W @ x + b, t)\n}\ntrain L on D {\n  optimizer: sgd(lr: 0.5)\n  batch: 8\n  epochs: 40\n}\n`,
    );
    const start = { W: [[0.25, -0.5]], b: [0.125] };
    writeFileSync(join(sub, 'W.json'), JSON.stringify(start));
    writeFileSync(join(sub, 'B.json'), JSON.stringify({ x: [[1, 2], [0, -1], [3, 1]], t: [[1], [0.5], [-2]] }));
    const r = nnlens('train', file, '--resume', join(sub, 'W.json'), '--lr', '0.05', '--epochs', '1', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const g = nnlens('grad', file, '--model', 'L', '--params', join(sub, 'W.json'), '--batch', join(sub, 'B.json'), '--json');
    expect(g.code, g.stderr).toBe(0);
    const grads = (JSON.parse(g.stdout) as { grads: { W: number[][]; b: number[] } }).grads;
    const got = JSON.parse(readFileSync(join(sub, 'L.weights.json'), 'utf8')) as { W: number[][]; b: number[] };
    for (let j = 0; j < 2; j++) expect(got.W[0][j]).toBeCloseTo(start.W[0][j] - 0.05 * grads.W[0][j], 6);
    expect(got.b[0]).toBeCloseTo(start.b[0] - 0.05 * grads.b[0], 6);
    // and it moved: the step is not nothing
    expect(Math.abs(got.W[0][0] - start.W[0][0])).toBeGreaterThan(1e-3);
  });

  it('unusable overrides and weights are exit 2, with a message naming the option', () => {
    const file = join(dir, 'training.nn');
    const cases: [string[], RegExp][] = [
      [['--epochs', '0'], /--epochs must be a positive integer, not 0/],
      [['--batch', '2.5'], /--batch must be a positive integer, not 2\.5/],
      [['--lr', '-1'], /--lr must be a positive number, not -1/],
      [['--lr', 'fast'], /--lr must be a number, not "fast"/],
      [['--seed', '-3'], /--seed must be an integer from 0 to 4294967295, not -3/],
      [['--threads', '0'], /--threads must be auto or an integer from 1 to 256, not 0/],
      [['--resume', join(dir, 'nope.json')], /--resume: params file .*nope\.json does not exist/],
      [['--epochs'], /option --epochs needs a value/],
    ];
    for (const [args, message] of cases) {
      const r = nnlens('train', file, ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    const wrong = join(dir, 'wrong-shape.json');
    writeFileSync(wrong, JSON.stringify({ 'h1.W': [[1, 2]], 'h1.b': [0], 'h2.W': [[0]], 'h2.b': [0], 'y.W': [[0]], 'y.b': [0] }));
    const r = nnlens('train', file, '--resume', wrong);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--resume: .*"h1\.W" has shape \[1, 2\] but the model declares \[8, 2\]/);
  });

  it('--threads 2 splits a wide model’s products and trains to the same weights as one thread', () => {
    const sub = mkdtempSync(join(dir, 'threads-'));
    const rows = ['label,' + Array.from({ length: 784 }, (_, i) => `p${i}`).join(',')];
    for (let e = 0; e < 48; e++) rows.push([e % 10, ...Array.from({ length: 784 }, (_, i) => (((e * 7919 + i * 104729) % 997) / 997 - 0.5).toFixed(3))].join(','));
    writeFileSync(join(sub, 'wide.csv'), rows.join('\n') + '\n');
    const file = join(sub, 'wide.nn');
    writeFileSync(
      file,
      `data D = csv("wide.csv", label: "label", classes: 10)\nmodel Wide {\n  input x: [784]\n  target t: [10]\n  h = dense(x, 128, relu)\n  y = softmax(dense(h, 10))\n  loss C = cross_entropy(y, t)\n}\ntrain Wide on D {\n  optimizer: sgd(lr: 0.05)\n  batch: 16\n  epochs: 3\n}\n`,
    );
    const one = nnlens('train', file, '--threads', '1');
    expect(one.code, one.stderr).toBe(0);
    const w1 = readFileSync(join(sub, 'Wide.weights.json'), 'utf8');
    const two = nnlens('train', file, '--threads', '2');
    expect(two.code, two.stderr).toBe(0);
    expect(two.stdout).toMatch(/101,770 parameters, 2 threads\n/);
    expect(one.stdout).not.toMatch(/parameters, \d+ threads/);
    expect(readFileSync(join(sub, 'Wide.weights.json'), 'utf8')).toBe(w1);
  });
});

describe('nnlens train: more exit statuses', () => {
  it('3 with a warning when the loss rose 10× (every number finite); the weights are written', () => {
    const sub = mkdtempSync(join(dir, 'rise-'));
    const file = join(sub, 'up.nn');
    // C = w², each step w → −2w: the loss ×4 an epoch
    writeFileSync(file, `data D = table {\n  [1] -> [0]\n}\nmodel Up {\n  input x: [1]\n  target t: [1]\n  param w: [1, 1] = constant(0.001)\n  loss C = mse(w @ x, t)\n}\ntrain Up on D {\n  optimizer: sgd(lr: 1.5)\n  epochs: 6\n}\n`);
    const r = nnlens('train', file);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^warning: the training loss rose from 1\.00e-6 \(epoch 1\) to 0\.0010 \(epoch 6\), 1024× its lowest: the run diverged — try a lower lr \(now 1\.5\)$/m);
    expect(r.stdout).toMatch(/^trained 6 epochs/m);
    expect(existsSync(join(sub, 'Up.weights.json'))).toBe(true);
    expect(nnlens('train', file, '--lr', '0.1').code).toBe(0);
  });

  it('2 when --workspace is not a folder (train and check)', () => {
    const missing = join(dir, 'no-such-folder');
    for (const cmd of ['train', 'check']) {
      const r = nnlens(cmd, join(dir, 'training.nn'), '--workspace', missing);
      expect(r.code, cmd).toBe(2);
      expect(r.stderr).toBe(`nnlens ${cmd}: --workspace ${missing} does not exist\n`);
    }
    const r = nnlens('train', join(dir, 'training.nn'), '--workspace', join(dir, 'training.nn'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--workspace .*training\.nn is not a folder/);
  });

  it('after Ctrl-C, the chart ends at the steps done and says at which epoch it stopped', async () => {
    const file = join(dir, 'long2.nn');
    writeFileSync(file, readFileSync(join(dir, 'digits.nn'), 'utf8').replace('epochs: 20', 'epochs: 100000'));
    const child = spawn(process.execPath, [CLI, 'train', file], { cwd: ROOT });
    let stdout = '';
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const code = await new Promise<number | null>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        // after the first epoch's line (a 100,000-epoch run prints every 5,000th after it)
        if (/^epoch +1\//m.test(stdout) && !child.killed) child.kill('SIGINT');
      });
      child.on('exit', (c) => resolve(c));
    });
    clearTimeout(guard);
    expect(code).toBe(130);
    const m = /^stopped at epoch (\d+), step ([\d,]+) of 5,700,000/m.exec(stdout);
    expect(m, stdout).not.toBeNull();
    // the x axis runs from 0 to the steps done (not to 5,700,000)
    expect(stdout).toMatch(new RegExp(`step ${m![2]}, stopped at epoch ${m![1]}\\s*$`, 'm'));
    expect(stdout).not.toMatch(/step 5,700,000\s*$/m);
  });
});

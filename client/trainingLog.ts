/**
 * Training logs in the loss panel: `nnlens train FILE --json > run.jsonl` writes one JSON object
 * per line (`{"epoch", "step", "loss", "valLoss", "accuracy"}`, spec §8). "NN Lens: Open Training
 * Log…" charts such a file and follows it while it grows, so a run started in a terminal (or on
 * another machine, its log synced here) can be watched like one started from the editor.
 */
import * as vscode from 'vscode';
import { closeSync, openSync, readSync, statSync, unwatchFile, watchFile } from 'node:fs';
import { basename } from 'node:path';
import { parseLogLine } from './logFormat';
import type { RunPoint } from './panel/messages';
import type { RunStore } from './runStore';

interface Followed {
  runId: string;
  path: string;
  offset: number;
  partial: string;
  lines: number;
}

export class TrainingLogs implements vscode.Disposable {
  private readonly followed = new Map<string, Followed>();
  private counter = 0;

  constructor(private readonly store: RunStore, private readonly log: vscode.LogOutputChannel) {}

  isLog(runId: string): boolean {
    return this.followed.has(runId) || this.store.get(runId)?.source === 'log';
  }

  /** `nnlens.openTrainingLog [uri?]`. Returns the run's id. */
  async open(arg?: unknown): Promise<string | undefined> {
    let uri = arg instanceof vscode.Uri ? arg : typeof arg === 'string' && arg ? vscode.Uri.parse(arg) : undefined;
    if (!uri) {
      const picked = await vscode.window.showOpenDialog({
        canSelectMany: false,
        openLabel: 'Open Training Log',
        title: 'A training log written by `nnlens train --json`',
        defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
        filters: { 'Training logs': ['jsonl', 'ndjson', 'json', 'log', 'txt'], 'All files': ['*'] },
      });
      uri = picked?.[0];
    }
    if (!uri) return undefined;
    if (uri.scheme !== 'file') {
      void vscode.window.showErrorMessage('NN Lens: only training logs on disk can be opened (and followed).');
      return undefined;
    }
    for (const f of this.followed.values()) {
      if (f.path === uri.fsPath) return f.runId;
    }
    try {
      statSync(uri.fsPath);
    } catch (err) {
      void vscode.window.showErrorMessage(`NN Lens: cannot read ${uri.fsPath}: ${(err as Error).message}`);
      return undefined;
    }
    const runId = `log-${Date.now()}-${++this.counter}`;
    const f: Followed = { runId, path: uri.fsPath, offset: 0, partial: '', lines: 0 };
    const first = this.readNew(f);
    const name = first.find((p) => p.model)?.model ?? basename(uri.fsPath).replace(/\.(jsonl|ndjson|json|log|txt)$/i, '');
    this.store.start({
      runId, model: name, uri: uri.toString(), source: 'log', startedAt: Date.now(),
      epochs: null, stepsPerEpoch: null, hasValidation: false, hasAccuracy: false,
    });
    this.followed.set(runId, f);
    this.store.addPoints(runId, first.map(sample));
    this.log.info(`following ${uri.fsPath}: ${first.length} samples so far`);
    watchFile(f.path, { interval: 250 }, () => this.store.addPoints(runId, this.readNew(f).map(sample)));
    return runId;
  }

  /** Stops following a log; its numbers stay in the panel. */
  stop(runId: string): void {
    const f = this.followed.get(runId);
    if (!f) return;
    unwatchFile(f.path);
    this.followed.delete(runId);
    this.store.addPoints(runId, this.readNew(f).map(sample));
    this.store.end(runId, 'ended', `Stopped following ${f.path}`);
  }

  /** The samples appended since the last read (a last line without its newline waits). */
  private readNew(f: Followed): (RunPoint & { model?: string })[] {
    let size: number;
    try { size = statSync(f.path).size; } catch { return []; }
    if (size < f.offset) { f.offset = 0; f.partial = ''; } // truncated: start again
    if (size === f.offset) return [];
    const buf = Buffer.alloc(size - f.offset);
    const fd = openSync(f.path, 'r');
    try { readSync(fd, buf, 0, buf.length, f.offset); } finally { closeSync(fd); }
    f.offset = size;
    const lines = (f.partial + buf.toString('utf8')).split('\n');
    f.partial = lines.pop() ?? '';
    const points: (RunPoint & { model?: string })[] = [];
    for (const line of lines) {
      const p = parseLogLine(line, f.lines);
      f.lines++;
      if (p) points.push(p);
    }
    return points;
  }

  dispose(): void {
    for (const f of this.followed.values()) unwatchFile(f.path);
    this.followed.clear();
  }
}

function sample(p: RunPoint & { model?: string }): RunPoint {
  return { step: p.step, epoch: p.epoch, loss: p.loss, valLoss: p.valLoss, accuracy: p.accuracy, elapsedMs: p.elapsedMs };
}

/**
 * Training and gradient checks from the editor: the commands, the model picker, the progress
 * notification with its cancel button, and the status-bar item of a live run. Talks to the
 * server only through the custom requests and notifications of server/protocol.ts.
 */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import {
  CheckGradientsRequestMethod, ListModelsRequestMethod, StopTrainingRequestMethod, TrainRequestMethod,
  type CheckGradientsParams, type CheckGradientsResult, type ListModelsParams, type ListModelsResult,
  type ModelInfo, type StopTrainingParams, type TrainDoneParams, type TrainParams, type TrainProgressParams,
  type TrainResult,
} from '../server/protocol';
import { fmt } from './panel/series';
import type { RunData } from './panel/messages';
import { modelAt } from './models';
import { progressPoints, type RunStore } from './runStore';

/** How the controller reaches the server: the running client, or an explanation of why not. */
export interface ServerAccess {
  client(): Promise<LanguageClient | undefined>;
}

interface LiveRun {
  runId: string;
  model: string;
  uri: string;
  /** Resolves the progress notification. */
  finish?: () => void;
  progress?: vscode.Progress<{ message?: string; increment?: number }>;
  reported: number;
  lastReport: number;
}

export interface Target {
  uri: vscode.Uri;
  model?: string;
  /** Where the run starts; asked when the model has trained weights and this is not given. */
  weights?: 'initial' | 'resume';
}

const RESTRICTED = 'NN Lens: training is off in Restricted Mode. Training reads data files and writes '
  + 'weights next to your .nn files, so it needs a trusted workspace. Shapes and gradient checks still work.';

export class TrainingController implements vscode.Disposable {
  private readonly live = new Map<string, LiveRun>();
  private readonly statusItem: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly server: ServerAccess,
    private readonly store: RunStore,
    private readonly showPanel: (preserveFocus: boolean) => void,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.statusItem = vscode.window.createStatusBarItem('nnlens.training', vscode.StatusBarAlignment.Left, 50);
    this.statusItem.name = 'NN Lens Training';
    this.statusItem.command = 'nnlens.showLossPanel';
    this.disposables.push(this.statusItem);
    const sub = store.onEvent(() => this.updateStatus());
    this.disposables.push({ dispose: () => sub.dispose() });
  }

  // ---------------------------------------------------------------------------------------------
  // Commands

  /** `nnlens.train [uri, model?]`: train the model at the cursor (or the one named). */
  async train(arg0?: unknown, arg1?: unknown, arg2?: unknown): Promise<void> {
    if (!vscode.workspace.isTrusted) {
      const choice = await vscode.window.showWarningMessage(RESTRICTED, 'Manage Workspace Trust');
      if (choice) await vscode.commands.executeCommand('workbench.trust.manage');
      return;
    }
    const target = targetFrom(arg0, arg1);
    if (!target) {
      void vscode.window.showInformationMessage('NN Lens: open a .nn file to train one of its models.');
      return;
    }
    if (arg2 === 'initial' || arg2 === 'resume') target.weights = arg2;
    const client = await this.server.client();
    if (!client) return;
    const models = await this.listModels(client, target.uri);
    if (!models) return;
    const model = target.model ?? await this.pickModel(models, target.uri, 'train');
    if (!model) return;
    // once the model has trained weights, a run may continue from them or start afresh
    let weights = target.weights ?? 'initial';
    const current = models.find((m) => m.name === model)?.currentWeights;
    if (current && !target.weights) {
      type Item = vscode.QuickPickItem & { weights: 'initial' | 'resume' };
      const items: Item[] = [
        { label: '$(debug-continue) Continue training', description: `from ${current}`, weights: 'resume' },
        { label: '$(debug-restart) Train afresh', description: 'from the initial weights of the train block', weights: 'initial' },
      ];
      const pick = await vscode.window.showQuickPick(items, { title: `Train ${model}`, placeHolder: 'Start from which weights?' });
      if (!pick) return;
      weights = pick.weights;
    }
    const uri = target.uri.toString();
    const already = this.store.live().find((r) => r.source === 'server' && r.uri === uri && r.model === model);
    if (already) {
      const choice = await vscode.window.showInformationMessage(`NN Lens: ${model} is already training.`, 'Show Loss Panel', 'Stop');
      if (choice === 'Show Loss Panel') this.showPanel(false);
      if (choice === 'Stop') await this.stopRun(already.runId);
      return;
    }
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri);
    if (doc?.isDirty) this.log.info(`training ${model} on the unsaved text of ${vscode.workspace.asRelativePath(doc.uri)}`);

    let result: TrainResult;
    try {
      result = await client.sendRequest<TrainResult>(TrainRequestMethod, { uri, model, weights } satisfies TrainParams);
    } catch (err) {
      void vscode.window.showErrorMessage(`NN Lens: could not train ${model}: ${errorMessage(err)}`);
      return;
    }
    this.log.info(`training ${result.model} (${result.runId}): ${result.epochs} epochs × ${result.stepsPerEpoch} steps${weights === 'resume' ? `, continued from ${current}` : ''}`);
    this.store.start({
      runId: result.runId, model: result.model, uri, source: 'server', startedAt: Date.now(),
      epochs: result.epochs, stepsPerEpoch: result.stepsPerEpoch,
      hasValidation: result.hasValidation, hasAccuracy: result.hasAccuracy,
    });
    const run = this.liveRun(result.runId, result.model, uri);
    if (vscode.workspace.getConfiguration('nnlens.training').get<boolean>('openLossPanel', true)) this.showPanel(true);
    if (vscode.workspace.getConfiguration('nnlens.training').get<boolean>('showProgressNotification', true)) {
      void vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Training ${result.model}`, cancellable: true },
        (progress, token) => new Promise<void>((resolve) => {
          if (!this.live.has(run.runId)) { resolve(); return; }
          run.progress = progress;
          run.finish = resolve;
          token.onCancellationRequested(() => { void this.stopRun(run.runId); });
        }),
      );
    }
    this.updateStatus();
  }

  /** `nnlens.stopTraining [runId?]`: stop a live run (asks which when several are live). */
  async stop(arg0?: unknown): Promise<void> {
    if (typeof arg0 === 'string' && arg0) {
      await this.stopRun(arg0);
      return;
    }
    const runs = this.store.live().filter((r) => r.source === 'server');
    if (runs.length === 0) {
      void vscode.window.showInformationMessage('NN Lens: no training run is live.');
      return;
    }
    if (runs.length === 1) {
      await this.stopRun(runs[0].runId);
      return;
    }
    type Item = vscode.QuickPickItem & { runIds: string[] };
    const items: Item[] = [
      { label: 'All runs', description: `${runs.length} live`, runIds: runs.map((r) => r.runId) },
      ...runs.map((r) => ({ label: r.model, description: describeRun(r), runIds: [r.runId] })),
    ];
    const pick = await vscode.window.showQuickPick(items, { title: 'Stop training', placeHolder: 'Which run?' });
    if (pick) await Promise.all(pick.runIds.map((id) => this.stopRun(id)));
  }

  async stopRun(runId: string): Promise<void> {
    const run = this.store.get(runId);
    if (!run || run.status !== 'running') return;
    const client = await this.server.client();
    if (!client) {
      this.store.end(runId, 'stopped', 'The language server is not running.');
      this.finish(runId);
      return;
    }
    this.statusItem.text = `$(loading~spin) Stopping ${run.model}…`;
    try {
      await client.sendRequest(StopTrainingRequestMethod, { runId } satisfies StopTrainingParams);
    } catch (err) {
      // The server does not know the run any more (it restarted, or the run just ended).
      this.log.warn(`stop ${runId}: ${errorMessage(err)}`);
      this.store.end(runId, 'stopped', `Stopped (${errorMessage(err)})`);
      this.finish(runId);
    }
    this.updateStatus();
  }

  /** `nnlens.checkGradients [uri, model?]`: a full gradient check, with a cancellable progress. */
  async checkGradients(arg0?: unknown, arg1?: unknown): Promise<void> {
    const target = targetFrom(arg0, arg1);
    if (!target) {
      void vscode.window.showInformationMessage('NN Lens: open a .nn file to check its gradients.');
      return;
    }
    const client = await this.server.client();
    if (!client) return;
    const name = target.model ?? vscode.workspace.asRelativePath(target.uri);
    let result: CheckGradientsResult;
    try {
      result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Checking the gradients of ${name} (every element)`, cancellable: true },
        (_progress, token) => client.sendRequest<CheckGradientsResult>(
          CheckGradientsRequestMethod, { uri: target.uri.toString(), model: target.model, mode: 'full' } satisfies CheckGradientsParams, token),
      );
    } catch (err) {
      if (isCancellation(err)) return;
      void vscode.window.showErrorMessage(`NN Lens: the gradient check failed: ${errorMessage(err)}`);
      return;
    }
    const worst = Object.entries(result.models).map(([model, r]) => {
      const params = Object.entries(r.params);
      if (params.length === 0) return `${model}: no parameters`;
      const [param, info] = params.reduce((a, b) => (b[1].maxRelError > a[1].maxRelError ? b : a));
      return `${model}: largest relative error ${fmt(info.maxRelError)} (${param})`;
    }).join('; ');
    if (result.errors > 0) {
      const choice = await vscode.window.showErrorMessage(
        `NN Lens: gradient check (full): ${plural(result.errors, 'error')}, ${plural(result.warnings, 'warning')}. ${worst}`,
        'Show Problems');
      if (choice) await vscode.commands.executeCommand('workbench.actions.view.problems');
    } else {
      void vscode.window.showInformationMessage(
        `NN Lens: gradient check (full): every gradient matches${result.warnings ? ` (${plural(result.warnings, 'warning')})` : ''}. ${worst}`);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Server notifications

  onProgress(p: TrainProgressParams): void {
    let run = this.store.get(p.runId);
    if (!run) {
      // Progress before the train request's answer (or from a run started by someone else,
      // e.g. a code lens through another client command): create the run from what we know.
      run = this.store.start({
        runId: p.runId, model: p.model, uri: p.uri, source: 'server', startedAt: Date.now() - p.elapsedMs,
        epochs: null, stepsPerEpoch: null, hasValidation: p.valLoss !== null, hasAccuracy: p.accuracy !== null,
      });
      this.liveRun(p.runId, p.model, p.uri);
    }
    if (run.status !== 'running') return;
    this.store.addPoints(p.runId, progressPoints(p));
    const live = this.live.get(p.runId);
    if (live?.progress) {
      const now = Date.now();
      if (now - live.lastReport >= 200) {
        live.lastReport = now;
        const total = run.epochs && run.stepsPerEpoch ? run.epochs * run.stepsPerEpoch : 0;
        const done = total > 0 ? Math.min(100, (100 * p.step) / total) : live.reported;
        live.progress.report({ message: describeRun(run, false), increment: Math.max(0, done - live.reported) });
        live.reported = done;
      }
    }
  }

  onDone(d: TrainDoneParams): void {
    if (!this.store.get(d.runId)) {
      this.store.start({
        runId: d.runId, model: d.model, uri: d.uri, source: 'server', startedAt: Date.now() - d.elapsedMs,
        epochs: null, stepsPerEpoch: null, hasValidation: d.finalValLoss !== null, hasAccuracy: d.finalAccuracy !== null,
      });
    }
    this.store.end(d.runId, d.reason, d.message || null);
    this.finish(d.runId);
    this.log.info(`run ${d.runId} (${d.model}) ${d.reason}: ${d.message}`);
    const numbers = [
      d.finalLoss !== null ? `loss ${fmt(d.finalLoss)}` : '',
      d.finalValLoss !== null ? `validation loss ${fmt(d.finalValLoss)}` : '',
      d.finalAccuracy !== null ? `accuracy ${fmt(d.finalAccuracy * 100)}%` : '',
    ].filter(Boolean).join(', ');
    const seconds = `${(d.elapsedMs / 1000).toFixed(1)} s`;
    const buttons = d.weightsPath ? ['Show Loss Panel', 'Open Weights'] : ['Show Loss Panel'];
    const act = (choice: string | undefined) => {
      if (choice === 'Show Loss Panel') this.showPanel(false);
      if (choice === 'Open Weights' && d.weightsPath) void vscode.commands.executeCommand('vscode.open', vscode.Uri.file(d.weightsPath));
    };
    switch (d.reason) {
      case 'completed':
        void vscode.window.showInformationMessage(
          `NN Lens: trained ${d.model} in ${seconds}${numbers ? ` — ${numbers}` : ''}. Hovers now show the trained weights.`, ...buttons).then(act);
        break;
      case 'stopped':
        void vscode.window.showInformationMessage(
          `NN Lens: stopped training ${d.model} after ${seconds}${numbers ? ` — ${numbers}` : ''}.`, ...buttons).then(act);
        break;
      case 'diverged':
        void vscode.window.showWarningMessage(`NN Lens: training ${d.model} diverged: ${d.message}`, 'Show Loss Panel').then(act);
        break;
      case 'error':
        void vscode.window.showErrorMessage(`NN Lens: training ${d.model} failed: ${d.message}`);
        break;
    }
  }

  /** The server went away: its runs cannot report any more. */
  serverStopped(reason: string): void {
    for (const run of this.store.live()) {
      if (run.source !== 'server') continue;
      this.store.end(run.runId, 'error', reason);
      this.finish(run.runId);
    }
  }

  // ---------------------------------------------------------------------------------------------

  private liveRun(runId: string, model: string, uri: string): LiveRun {
    let run = this.live.get(runId);
    if (!run) {
      run = { runId, model, uri, reported: 0, lastReport: 0 };
      this.live.set(runId, run);
    }
    return run;
  }

  private finish(runId: string): void {
    const run = this.live.get(runId);
    this.live.delete(runId);
    run?.finish?.();
    this.updateStatus();
  }

  private updateStatus(): void {
    const runs = this.store.live().filter((r) => r.source === 'server');
    void vscode.commands.executeCommand('setContext', 'nnlens.trainingActive', runs.length > 0);
    if (runs.length === 0) {
      this.statusItem.hide();
      return;
    }
    const run = runs[runs.length - 1];
    const more = runs.length > 1 ? ` (+${runs.length - 1})` : '';
    this.statusItem.text = `$(pulse) ${describeRun(run)}${more}`;
    const tip = new vscode.MarkdownString(
      `**Training ${run.model}**${more ? ` and ${runs.length - 1} more` : ''}\n\n${vscode.workspace.asRelativePath(vscode.Uri.parse(run.uri))}\n\nClick to open the loss panel.`);
    this.statusItem.tooltip = tip;
    this.statusItem.accessibilityInformation = { label: `Training ${describeRun(run)}. Open the loss panel.` };
    this.statusItem.show();
  }

  /** The models of a document, as the server sees them (undefined after saying why not). */
  private async listModels(client: LanguageClient, uri: vscode.Uri): Promise<ModelInfo[] | undefined> {
    try {
      const res = await client.sendRequest<ListModelsResult>(ListModelsRequestMethod, { uri: uri.toString() } satisfies ListModelsParams);
      return res.models;
    } catch (err) {
      void vscode.window.showErrorMessage(`NN Lens: could not list the models: ${errorMessage(err)}`);
      return undefined;
    }
  }

  /** The model to act on: the one at the cursor, the only one, or the user's pick. */
  private async pickModel(models: ModelInfo[], uri: vscode.Uri, purpose: 'train'): Promise<string | undefined> {
    const file = vscode.workspace.asRelativePath(uri);
    const candidates = purpose === 'train' ? models.filter((m) => m.hasTrain) : models;
    if (candidates.length === 0) {
      void vscode.window.showWarningMessage(models.length === 0
        ? `NN Lens: ${file} has no model.`
        : `NN Lens: no model in ${file} has a train block. Add one, e.g. \`train ${models[0].name} on DATA { epochs: 10 }\`.`);
      return undefined;
    }
    const editor = vscode.window.activeTextEditor;
    const cursor = editor && editor.document.uri.toString() === uri.toString() ? editor.selection.active.line : undefined;
    const atCursor = cursor === undefined ? undefined : modelAt(models, cursor);
    if (atCursor && candidates.includes(atCursor)) return atCursor.name;
    if (candidates.length === 1) return candidates[0].name;
    const pick = await vscode.window.showQuickPick(
      candidates.map((m) => ({
        label: m.name,
        description: `${m.params.toLocaleString('en-US')} parameters`,
        detail: `line ${m.line + 1}`,
      })),
      { title: `Train a model of ${file}`, placeHolder: 'Which model?' },
    );
    return pick?.label;
  }

  dispose(): void {
    for (const run of this.live.values()) run.finish?.();
    this.live.clear();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

/** Command arguments `[uri, model?]` (a code lens), a Uri (the explorer or editor title), or
 * nothing (the palette: the active .nn editor). */
export function targetFrom(arg0: unknown, arg1: unknown): Target | undefined {
  const model = typeof arg1 === 'string' && arg1 ? arg1 : undefined;
  if (typeof arg0 === 'string' && arg0) return { uri: vscode.Uri.parse(arg0), model };
  if (arg0 instanceof vscode.Uri) return { uri: arg0, model };
  if (arg0 && typeof arg0 === 'object' && 'uri' in arg0) {
    const o = arg0 as { uri: unknown; model?: unknown };
    const uri = typeof o.uri === 'string' ? vscode.Uri.parse(o.uri) : o.uri instanceof vscode.Uri ? o.uri : undefined;
    if (uri) return { uri, model: typeof o.model === 'string' ? o.model : model };
  }
  const editor = vscode.window.activeTextEditor;
  if (editor?.document.languageId === 'nn') return { uri: editor.document.uri, model };
  return undefined;
}

/** "Ring: epoch 3/20 · loss 0.2345" (without the model's name for the progress notification,
 * whose title already names it). */
export function describeRun(run: RunData, withModel = true): string {
  const p = run.points;
  const n = p.step.length;
  const prefix = withModel ? `${run.model}: ` : '';
  if (n === 0) return `${prefix}starting…`;
  const epoch = run.epochs ? `epoch ${p.epoch[n - 1]}/${run.epochs}` : `epoch ${p.epoch[n - 1]}`;
  return `${prefix}${epoch} · loss ${fmt(p.loss[n - 1])}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isCancellation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && (err as { code: unknown }).code === -32800;
}

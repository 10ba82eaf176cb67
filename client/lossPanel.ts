/**
 * The loss panel's host: creates (or revives, after a reload) the webview, feeds it the runs of
 * the store, and carries out what it asks (stop a run, remove runs, save an export).
 */
import * as vscode from 'vscode';
import { webviewHtml } from './webview-html';
import type { HostMessage, PanelBoundary, PanelMessage, PanelState, RunPoint } from './panel/messages';
import type { RunStore, StoreEvent } from './runStore';

export const LOSS_PANEL_VIEW_TYPE = 'nnlens.lossPanel';

export interface LossPanelActions {
  /** Stop a live run (a server run, or following a log). */
  stop(runId: string): Promise<void>;
}

export class LossPanelHost implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private panelDisposables: vscode.Disposable[] = [];
  private readonly disposables: vscode.Disposable[] = [];
  /** Points waiting to be posted, per run: progress is forwarded in batches, not one message each. */
  private pending = new Map<string, RunPoint[]>();
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private ready = false;
  /** The latest decision boundary of each run that has one (sent again when the panel reloads). */
  private readonly boundaries = new Map<string, PanelBoundary>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly store: RunStore,
    private readonly actions: LossPanelActions,
    private readonly log: vscode.LogOutputChannel,
  ) {
    const sub = store.onEvent((e) => this.onStoreEvent(e));
    this.disposables.push({ dispose: () => sub.dispose() });
  }

  get visible(): boolean {
    return this.panel?.visible ?? false;
  }

  /** Opens the panel beside the editor, or reveals it. */
  show(preserveFocus: boolean): void {
    if (this.panel) {
      this.panel.reveal(undefined, preserveFocus);
      return;
    }
    const panel = vscode.window.createWebviewPanel(
      LOSS_PANEL_VIEW_TYPE,
      this.title(),
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus },
      this.webviewOptions(),
    );
    this.attach(panel);
  }

  /** VS Code restored the panel after a reload: bring back the runs it had saved. */
  revive(panel: vscode.WebviewPanel, state: unknown): void {
    const saved = state as Partial<PanelState> | undefined;
    if (saved?.version === 1 && Array.isArray(saved.runs)) this.store.restore(saved.runs);
    panel.webview.options = this.webviewOptions();
    this.attach(panel);
  }

  private webviewOptions(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      retainContextWhenHidden: true,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'out'), vscode.Uri.joinPath(this.extensionUri, 'media')],
    };
  }

  private attach(panel: vscode.WebviewPanel): void {
    this.panel?.dispose();
    this.panel = panel;
    this.ready = false;
    panel.title = this.title();
    panel.iconPath = {
      light: vscode.Uri.joinPath(this.extensionUri, 'media', 'loss-light.svg'),
      dark: vscode.Uri.joinPath(this.extensionUri, 'media', 'loss-dark.svg'),
    };
    panel.webview.html = this.html(panel.webview);
    this.panelDisposables.push(
      panel.webview.onDidReceiveMessage((m: PanelMessage) => this.onMessage(m)),
      panel.onDidDispose(() => {
        if (this.panel === panel) this.panel = undefined;
        this.ready = false;
        this.pending.clear();
        for (const d of this.panelDisposables.splice(0)) d.dispose();
      }),
    );
  }

  private title(): string {
    const run = this.store.latest();
    return run ? `Loss — ${run.model}` : 'NN Lens: Loss';
  }

  private html(webview: vscode.Webview): string {
    return webviewHtml(webview, this.extensionUri, { bundle: 'panel', title: 'Loss', images: 'blob:' });
  }

  private post(message: HostMessage): void {
    if (!this.panel || !this.ready) return;
    void this.panel.webview.postMessage(message);
  }

  private onStoreEvent(e: StoreEvent): void {
    if (!this.panel) return;
    if (e.type === 'points') {
      const list = this.pending.get(e.runId);
      if (list) list.push(...e.points); else this.pending.set(e.runId, [...e.points]);
      this.flushTimer ??= setTimeout(() => this.flush(), 40);
      return;
    }
    this.flush();
    switch (e.type) {
      case 'started':
        this.post({ type: 'runStarted', run: e.run });
        break;
      case 'ended':
        this.post({ type: 'runEnded', runId: e.runId, status: e.status, message: e.message });
        break;
      case 'removed':
        for (const id of e.runIds) this.boundaries.delete(id);
        this.post({ type: 'runsRemoved', runIds: e.runIds });
        break;
    }
    this.panel.title = this.title();
  }

  private flush(): void {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const batches = [...this.pending];
    this.pending.clear();
    for (const [runId, points] of batches) this.post({ type: 'points', runId, points });
  }

  private async onMessage(m: PanelMessage): Promise<void> {
    switch (m.type) {
      case 'ready':
        if (m.restored) this.store.restore(m.restored);
        this.ready = true;
        this.pending.clear();
        this.post({ type: 'init', runs: [...this.store.all()] });
        for (const [runId, boundary] of this.boundaries) this.post({ type: 'boundary', runId, boundary });
        if (this.panel) this.panel.title = this.title();
        break;
      case 'stop':
        await this.actions.stop(m.runId);
        break;
      case 'removeRun':
        this.store.remove([m.runId]);
        break;
      case 'clearFinished':
        this.store.clearFinished();
        break;
      case 'save':
        await this.save(m.kind, m.fileName, m.data);
        break;
    }
  }

  private async save(kind: 'csv' | 'png', fileName: string, data: string): Promise<void> {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const safeName = fileName.replace(/[\\/:*?"<>|]/g, '_');
    const target = await vscode.window.showSaveDialog({
      defaultUri: folder ? vscode.Uri.joinPath(folder, safeName) : undefined,
      filters: kind === 'csv' ? { 'CSV': ['csv'] } : { 'PNG image': ['png'] },
      saveLabel: 'Export',
      title: kind === 'csv' ? 'Export the runs as CSV' : 'Export the chart as PNG',
    });
    if (!target) return;
    try {
      await vscode.workspace.fs.writeFile(target, Buffer.from(data, kind === 'csv' ? 'utf8' : 'base64'));
    } catch (err) {
      void vscode.window.showErrorMessage(`NN Lens: could not write ${target.fsPath}: ${(err as Error).message}`);
      return;
    }
    this.log.info(`exported ${kind.toUpperCase()} to ${target.toString(true)}`);
    const choice = await vscode.window.showInformationMessage(`NN Lens: exported ${vscode.workspace.asRelativePath(target)}`, 'Open');
    if (choice === 'Open') await vscode.commands.executeCommand('vscode.open', target);
  }

  /** A run's latest decision boundary (from its progress notifications). */
  boundary(runId: string, boundary: PanelBoundary): void {
    this.boundaries.set(runId, boundary);
    this.flush();
    this.post({ type: 'boundary', runId, boundary });
  }

  dispose(): void {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.panel?.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

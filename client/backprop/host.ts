/**
 * The Backprop view's host: a webview titled "Backprop — MODEL" that draws one example's forward
 * and backward pass (render/, fed by the `nnlens/trace` request). It follows the document
 * (debounced re-trace on edits, keeping the selection), the end of training runs (switching to
 * the trained weights), the editor's cursor (selecting the node of the line), and highlights the
 * current step's statement in the editor.
 */
import * as vscode from 'vscode';
import { webviewHtml } from '../webview-html';
import type { LanguageClient } from 'vscode-languageclient/node';
import {
  ListModelsRequestMethod, TraceRequestMethod,
  type ListModelsResult, type TraceParams, type TraceResult,
} from '../../server/protocol';
import { modelAt } from '../models';
import type { RunStore } from '../runStore';
import type { HostMessage, LineRange, ViewMessage, ViewState } from './messages';

export const BACKPROP_VIEW_TYPE = 'nnlens.backprop';
/** Re-trace this long after the last edit. */
export const BACKPROP_DEBOUNCE_MS = 350;

export interface BackpropServer {
  client(): Promise<LanguageClient | undefined>;
}

interface Target {
  uri: string;
  model: string;
  example: number;
  weights: 'initial' | 'trained';
}

export class BackpropHost implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private target: Target | undefined;
  private ready = false;
  private seq = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private panelDisposables: vscode.Disposable[] = [];
  private readonly highlight = vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    backgroundColor: new vscode.ThemeColor('editor.rangeHighlightBackground'),
    borderColor: new vscode.ThemeColor('focusBorder'),
    borderStyle: 'solid',
    borderWidth: '0 0 0 2px',
    overviewRulerColor: new vscode.ThemeColor('focusBorder'),
    overviewRulerLane: vscode.OverviewRulerLane.Center,
  });
  private highlighted: LineRange | null = null;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly server: BackpropServer,
    store: RunStore,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      this.highlight,
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (this.target && e.document.uri.toString() === this.target.uri && e.contentChanges.length) this.schedule();
      }),
      vscode.window.onDidChangeTextEditorSelection((e) => {
        if (!this.target || e.textEditor.document.uri.toString() !== this.target.uri) return;
        this.post({ type: 'cursor', line: e.selections[0].active.line });
      }),
      vscode.window.onDidChangeVisibleTextEditors(() => this.applyHighlight()),
    );
    const sub = store.onEvent((e) => {
      if (e.type !== 'ended' || !this.target) return;
      const run = store.get(e.runId);
      if (run && run.model === this.target.model && run.uri === this.target.uri && e.status !== 'error') {
        this.target.weights = 'trained';
        void this.refresh();
      }
    });
    this.disposables.push({ dispose: () => sub.dispose() });
  }

  /** `nnlens.showBackprop [uri, model]`: opens (or retargets) the view. */
  async show(uriArg?: unknown, modelArg?: unknown): Promise<void> {
    let uri = typeof uriArg === 'string' ? uriArg : uriArg instanceof vscode.Uri ? uriArg.toString() : undefined;
    let model = typeof modelArg === 'string' ? modelArg : undefined;
    const editor = vscode.window.activeTextEditor;
    if (!uri) {
      if (!editor || editor.document.languageId !== 'nn') {
        void vscode.window.showWarningMessage('NN Lens: open a .nn file to see its backprop.');
        return;
      }
      uri = editor.document.uri.toString();
    }
    if (!model) {
      const client = await this.server.client();
      if (!client) return;
      const { models } = await client.sendRequest<ListModelsResult>(ListModelsRequestMethod, { uri });
      if (models.length === 0) {
        void vscode.window.showWarningMessage('NN Lens: this file has no model.');
        return;
      }
      const line = editor && editor.document.uri.toString() === uri ? editor.selection.active.line : -1;
      model = modelAt(models, line)?.name;
      if (!model && models.length === 1) model = models[0].name;
      if (!model) {
        const pick = await vscode.window.showQuickPick(models.map((m) => m.name), { placeHolder: 'Which model?' });
        if (!pick) return;
        model = pick;
      }
    }
    const same = this.target && this.target.uri === uri && this.target.model === model;
    this.target = same ? this.target : { uri, model, example: 1, weights: 'initial' };
    if (!this.panel) {
      const panel = vscode.window.createWebviewPanel(BACKPROP_VIEW_TYPE, this.title(), { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, this.webviewOptions());
      this.attach(panel);
    } else {
      this.panel.title = this.title();
      this.panel.reveal(undefined, true);
      await this.refresh();
    }
  }

  /** VS Code restored the view after a reload. */
  revive(panel: vscode.WebviewPanel, state: unknown): void {
    const s = state as Partial<ViewState> | undefined;
    if (s?.version === 1 && typeof s.uri === 'string' && typeof s.model === 'string') {
      this.target = { uri: s.uri, model: s.model, example: s.example ?? 1, weights: s.weights ?? 'initial' };
    }
    panel.webview.options = this.webviewOptions();
    this.attach(panel);
  }

  private webviewOptions(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return { enableScripts: true, retainContextWhenHidden: true, localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'out')] };
  }

  private title(): string {
    return this.target ? `Backprop — ${this.target.model}` : 'NN Lens: Backprop';
  }

  private attach(panel: vscode.WebviewPanel): void {
    this.panel?.dispose();
    this.panel = panel;
    this.ready = false;
    panel.title = this.title();
    panel.webview.html = this.html(panel.webview);
    this.panelDisposables.push(
      panel.webview.onDidReceiveMessage((m: ViewMessage) => void this.onMessage(m)),
      panel.onDidDispose(() => {
        if (this.panel === panel) this.panel = undefined;
        this.ready = false;
        this.setHighlight(null);
        for (const d of this.panelDisposables.splice(0)) d.dispose();
      }),
    );
  }

  private html(webview: vscode.Webview): string {
    return webviewHtml(webview, this.extensionUri, { bundle: 'backprop', title: 'Backprop' });
  }

  private post(m: HostMessage): void {
    if (this.panel && this.ready) void this.panel.webview.postMessage(m);
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.refresh();
    }, BACKPROP_DEBOUNCE_MS);
  }

  /** Asks the server for the target's trace and hands the answer to the view (newest wins). */
  async refresh(): Promise<void> {
    const t = this.target;
    if (!t || !this.panel || !this.ready) return;
    const seq = ++this.seq;
    this.post({ type: 'busy' });
    let result: TraceResult;
    try {
      const client = await this.server.client();
      if (!client) return;
      const params: TraceParams = { uri: t.uri, model: t.model, example: t.example, weights: t.weights };
      result = await client.sendRequest<TraceResult>(TraceRequestMethod, params);
    } catch (e) {
      result = { status: 'unavailable', model: t.model, message: `the trace failed: ${e instanceof Error ? e.message : String(e)}`, models: [], version: null };
      this.log.error(`nnlens/trace: ${result.message}`);
    }
    if (seq !== this.seq || !this.panel) return;
    if (result.status === 'ok' && result.weights !== t.weights) t.weights = result.weights;
    this.panel.title = this.title();
    const editor = [vscode.window.activeTextEditor, ...vscode.window.visibleTextEditors].find((e) => e?.document.uri.toString() === t.uri);
    this.post({ type: 'trace', result, uri: t.uri, example: t.example, weights: t.weights, cursor: editor ? editor.selection.active.line : null });
  }

  private async onMessage(m: ViewMessage): Promise<void> {
    switch (m.type) {
      case 'ready':
        this.ready = true;
        if (!this.target && m.state) this.target = { uri: m.state.uri, model: m.state.model, example: m.state.example, weights: m.state.weights };
        await this.refresh();
        break;
      case 'setExample':
        if (this.target) {
          this.target.example = m.example;
          await this.refresh();
        }
        break;
      case 'setWeights':
        if (this.target) {
          this.target.weights = m.weights;
          await this.refresh();
        }
        break;
      case 'setModel':
        if (this.target) {
          this.target = { ...this.target, model: m.model, example: 1 };
          await this.refresh();
        }
        break;
      case 'reveal':
        await this.reveal(m.range);
        break;
      case 'step':
        this.setHighlight(m.range);
        break;
    }
  }

  private async reveal(range: LineRange): Promise<void> {
    if (!this.target) return;
    const uri = vscode.Uri.parse(this.target.uri);
    const r = new vscode.Range(range.start.line, range.start.character, range.end.line, range.end.character);
    const open = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === this.target!.uri);
    const editor = await vscode.window.showTextDocument(uri, {
      viewColumn: open?.viewColumn ?? vscode.ViewColumn.One,
      preserveFocus: false,
      selection: new vscode.Range(r.start, r.start),
    });
    editor.revealRange(r, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  private setHighlight(range: LineRange | null): void {
    this.highlighted = range;
    this.applyHighlight();
    const editor = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === this.target?.uri);
    if (editor && range) editor.revealRange(new vscode.Range(range.start.line, 0, range.end.line, 0), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  private applyHighlight(): void {
    const uri = this.target?.uri;
    for (const e of vscode.window.visibleTextEditors) {
      const r = this.highlighted;
      if (uri && r && e.document.uri.toString() === uri) {
        e.setDecorations(this.highlight, [new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character)]);
      } else e.setDecorations(this.highlight, []);
    }
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.panel?.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

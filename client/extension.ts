/**
 * NN Lens for VS Code: starts the language server (out/server.js) and wires the editor to it —
 * commands, the loss panel, the training status bar item, workspace trust, the debugger (client/debug/).
 *
 * The client knows the server only through the LSP and the custom protocol of
 * server/protocol.ts; it never imports the engine or the language.
 */
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import {
  LanguageClient, State, TransportKind,
  type LanguageClientOptions, type ServerOptions,
} from 'vscode-languageclient/node';
import {
  ClientCommands, ShowBackpropCommand, TrainDoneNotificationMethod, TrainProgressNotificationMethod, WorkspaceTrustNotificationMethod,
  type InitializationOptions, type NnLensSettings, type TrainDoneParams, type TrainProgressParams,
  type WorkspaceTrustParams,
} from '../server/protocol';
import { LOSS_PANEL_VIEW_TYPE, LossPanelHost } from './lossPanel';
import { BACKPROP_VIEW_TYPE, BackpropHost } from './backprop/host';
import { RunStore } from './runStore';
import { TrainingController } from './training';
import { TrainingLogs } from './trainingLog';
import { loadWeights } from './weights';
import { registerDebugger } from './debug/debugger';

let client: LanguageClient | undefined;

export function readSettings(): NnLensSettings {
  const c = vscode.workspace.getConfiguration('nnlens');
  return {
    gradientCheck: {
      onEdit: c.get('gradientCheck.onEdit', true),
      mode: c.get<'fast' | 'full'>('gradientCheck.mode', 'fast'),
      tolerance: c.get('gradientCheck.tolerance', 1e-6),
      eps: c.get('gradientCheck.eps', 1e-6),
    },
    inlayHints: {
      shapes: c.get('inlayHints.shapes', true),
      paramCounts: c.get('inlayHints.paramCounts', true),
    },
    training: {
      saveWeights: c.get('training.saveWeights', true),
    },
    weightsFile: c.get('weightsFile', ''),
    trainThreads: c.get<number | 'auto'>('trainThreads', 'auto'),
  };
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const log = vscode.window.createOutputChannel('NN Lens', { log: true });
  context.subscriptions.push(log);
  log.info(`NN Lens ${context.extension.packageJSON.version as string} activating (workspace ${vscode.workspace.isTrusted ? 'trusted' : 'in Restricted Mode'})`);

  const store = new RunStore(vscode.workspace.getConfiguration('nnlens.lossPanel').get('maxRuns', 8));
  const logs = new TrainingLogs(store, log);
  context.subscriptions.push(logs);

  // The server, started lazily-but-eagerly: activation (onLanguage:nn) starts it; commands wait for it.
  const status = vscode.languages.createLanguageStatusItem('nnlens.server', { language: 'nn' });
  status.name = 'NN Lens';
  context.subscriptions.push(status);
  const serverModule = context.asAbsolutePath('out/server.js');
  let starting: Promise<LanguageClient | undefined> | undefined;
  const ensureClient = (): Promise<LanguageClient | undefined> => {
    starting ??= startClient(context, serverModule, log, status);
    return starting;
  };
  const server = {
    client: async () => {
      const c = await ensureClient();
      if (!c || c.state !== State.Running) {
        const choice = await vscode.window.showErrorMessage(
          c ? 'NN Lens: the language server is not running.' : `NN Lens: the language server is missing (${serverModule}). Reinstall the extension.`,
          'Show Log');
        if (choice) log.show();
        return undefined;
      }
      return c;
    },
  };

  let panel: LossPanelHost | undefined;
  const training = new TrainingController(server, store, (preserveFocus) => panel?.show(preserveFocus), log);
  panel = new LossPanelHost(context.extensionUri, store, {
    stop: async (runId) => {
      if (logs.isLog(runId)) logs.stop(runId); else await training.stopRun(runId);
    },
  }, log);
  context.subscriptions.push(training, panel);
  const backprop = new BackpropHost(context.extensionUri, server, store, log);
  context.subscriptions.push(
    backprop,
    vscode.window.registerWebviewPanelSerializer(BACKPROP_VIEW_TYPE, { deserializeWebviewPanel: async (p, s) => backprop.revive(p, s) }),
    vscode.commands.registerCommand(ShowBackpropCommand, (a?: unknown, b?: unknown) => backprop.show(a, b)),
  );

  context.subscriptions.push(
    vscode.window.registerWebviewPanelSerializer(LOSS_PANEL_VIEW_TYPE, {
      deserializeWebviewPanel: async (webviewPanel, state) => panel.revive(webviewPanel, state),
    }),
    vscode.commands.registerCommand(ClientCommands.train, (a?: unknown, b?: unknown, c?: unknown) => training.train(a, b, c)),
    vscode.commands.registerCommand(ClientCommands.stopTraining, (a?: unknown) => training.stop(a)),
    vscode.commands.registerCommand(ClientCommands.checkGradients, (a?: unknown, b?: unknown) => training.checkGradients(a, b)),
    vscode.commands.registerCommand(ClientCommands.showLossPanel, () => panel.show(false)),
    vscode.commands.registerCommand('nnlens.openTrainingLog', async (a?: unknown) => {
      const runId = await logs.open(a);
      if (runId) panel.show(true);
    }),
    vscode.commands.registerCommand('nnlens.showLog', () => log.show()),
    vscode.commands.registerCommand('nnlens.loadWeights', (a?: unknown, b?: unknown, c?: unknown) => loadWeights(server, log, a, b, c)),
    vscode.workspace.onDidGrantWorkspaceTrust(async () => {
      log.info('workspace trust granted: training and data files are on');
      updateTrustStatus(status);
      const c = await ensureClient();
      if (c?.state === State.Running) {
        await c.sendNotification(WorkspaceTrustNotificationMethod, { trusted: true } satisfies WorkspaceTrustParams);
      }
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('nnlens.lossPanel.maxRuns')) {
        store.maxRuns = vscode.workspace.getConfiguration('nnlens.lossPanel').get('maxRuns', 8);
      }
    }),
  );
  void vscode.commands.executeCommand('setContext', 'nnlens.trainingActive', false);
  registerDebugger(context, server, log);

  const c = await ensureClient();
  if (c) {
    context.subscriptions.push(
      c.onNotification(TrainProgressNotificationMethod, (p: TrainProgressParams) => {
        training.onProgress(p);
        if (p.boundary) panel.boundary(p.runId, p.boundary);
      }),
      c.onNotification(TrainDoneNotificationMethod, (d: TrainDoneParams) => training.onDone(d)),
      c.onDidChangeState((e) => {
        if (e.newState === State.Stopped) training.serverStopped('The language server stopped during the run.');
      }),
    );
  }
}

function updateTrustStatus(status: vscode.LanguageStatusItem): void {
  if (vscode.workspace.isTrusted) {
    status.severity = vscode.LanguageStatusSeverity.Information;
    status.text = 'NN Lens';
    status.detail = 'shapes, gradients, training';
    status.command = { title: 'Show Log', command: 'nnlens.showLog' };
  } else {
    status.severity = vscode.LanguageStatusSeverity.Warning;
    status.text = 'NN Lens: Restricted Mode';
    status.detail = 'training and data files are off until you trust this workspace';
    status.command = { title: 'Manage Workspace Trust', command: 'workbench.trust.manage' };
  }
}

async function startClient(
  context: vscode.ExtensionContext,
  serverModule: string,
  log: vscode.LogOutputChannel,
  status: vscode.LanguageStatusItem,
): Promise<LanguageClient | undefined> {
  if (!existsSync(serverModule)) {
    log.error(`language server not found: ${serverModule}`);
    status.severity = vscode.LanguageStatusSeverity.Error;
    status.text = 'NN Lens: no language server';
    status.detail = 'out/server.js is missing';
    status.command = { title: 'Show Log', command: 'nnlens.showLog' };
    void vscode.window.showErrorMessage(`NN Lens: the language server is missing (${serverModule}). Reinstall the extension.`);
    return undefined;
  }
  updateTrustStatus(status);
  const serverOptions: ServerOptions = {
    run: { module: serverModule, transport: TransportKind.ipc },
    debug: { module: serverModule, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6009'] } },
  };
  const initializationOptions: InitializationOptions = {
    workspaceTrusted: vscode.workspace.isTrusted,
    settings: readSettings(),
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: 'file', language: 'nn' }, { scheme: 'untitled', language: 'nn' }],
    synchronize: { configurationSection: 'nnlens' },
    initializationOptions,
    outputChannel: log,
    diagnosticCollectionName: 'nnlens',
  };
  client = new LanguageClient('nnlens', 'NN Lens', serverOptions, clientOptions);
  try {
    await client.start();
    log.info('language server started');
  } catch (err) {
    log.error(`language server failed to start: ${(err as Error).message}`);
    status.severity = vscode.LanguageStatusSeverity.Error;
    status.text = 'NN Lens: server failed';
    status.detail = (err as Error).message;
    void vscode.window.showErrorMessage(`NN Lens: the language server failed to start: ${(err as Error).message}`, 'Show Log')
      .then((choice) => { if (choice) log.show(); });
  }
  context.subscriptions.push({ dispose: () => { void client?.stop(); } });
  return client;
}

export async function deactivate(): Promise<void> {
  if (client && client.state === State.Running) await client.stop();
  client = undefined;
}

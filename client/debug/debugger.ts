/**
 * The debugger in VS Code (debug type `nnlens`): the adapter is `nnlens dap` — `out/cli.js dap`
 * run by the extension host's own Node — plus what makes it pleasant in the editor: launch
 * configurations filled in from the active `.nn` file, "NN Lens: Step Through Model" (also the
 * `⏵ Step through` code lens) that needs no launch.json, hovers that evaluate the name under the
 * mouse, and each executed line's value at its end (inline values).
 *
 * The client never sees the engine: the numbers come over the Debug Adapter Protocol.
 */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { ListModelsRequestMethod, type ListModelsParams, type ListModelsResult } from '../../server/protocol';
import { modelAt } from '../models';
import { expressionAt } from './expressions';

export const DEBUG_TYPE = 'nnlens';
export const STEP_THROUGH_COMMAND = 'nnlens.stepThrough';
/** The adapter's custom request for inline values (debug/session.ts). */
const INLINE_VALUES_REQUEST = 'nnlens/inlineValues';

interface ServerAccess {
  client(): Promise<LanguageClient | undefined>;
}

export function registerDebugger(context: vscode.ExtensionContext, server: ServerAccess, log: vscode.LogOutputChannel): void {
  const cli = context.asAbsolutePath('out/cli.js');
  context.subscriptions.push(
    vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, {
      createDebugAdapterDescriptor: () => {
        log.info(`debugger: ${process.execPath} ${cli} dap`);
        // the extension host's Node (in desktop VS Code: Electron run as Node)
        return new vscode.DebugAdapterExecutable(process.execPath, [cli, 'dap'], { env: { ELECTRON_RUN_AS_NODE: '1' } });
      },
    }),
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, new ConfigurationProvider(server)),
    vscode.commands.registerCommand(STEP_THROUGH_COMMAND, (a?: unknown, b?: unknown) => stepThrough(server, a, b)),
    vscode.languages.registerEvaluatableExpressionProvider('nn', {
      provideEvaluatableExpression(document, position) {
        const e = expressionAt(document.lineAt(position.line).text, position.character);
        if (!e) return undefined;
        return new vscode.EvaluatableExpression(new vscode.Range(position.line, e.start, position.line, e.end), e.expression);
      },
    }),
    vscode.languages.registerInlineValuesProvider('nn', {
      async provideInlineValues(document, viewPort, context) {
        const session = vscode.debug.activeDebugSession;
        if (session?.type !== DEBUG_TYPE || context.frameId === undefined) return [];
        let values: { line: number; text: string }[];
        try {
          values = ((await session.customRequest(INLINE_VALUES_REQUEST)) as { values: { line: number; text: string }[] }).values;
        } catch {
          return [];
        }
        const out: vscode.InlineValue[] = [];
        for (const v of values) {
          const line = v.line - 1;
          if (line < viewPort.start.line || line > viewPort.end.line || line >= document.lineCount) continue;
          const end = document.lineAt(line).range.end;
          out.push(new vscode.InlineValueText(new vscode.Range(end, end), v.text));
        }
        return out;
      },
    }),
  );
}

/** Launch configurations: filled in for the active `.nn` file; Restricted Mode passed on. */
class ConfigurationProvider implements vscode.DebugConfigurationProvider {
  constructor(private readonly server: ServerAccess) {}

  provideDebugConfigurations(): vscode.DebugConfiguration[] {
    return [
      { type: DEBUG_TYPE, request: 'launch', name: 'NN Lens: step through one example', program: '${file}', example: 1, stopOnEntry: true },
    ];
  }

  resolveDebugConfiguration(folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): vscode.DebugConfiguration | undefined {
    if (!config.type && !config.request && !config.name) {
      // F5 without a launch.json: step through the model at the cursor of the active .nn file
      const editor = vscode.window.activeTextEditor;
      if (editor?.document.languageId !== 'nn') {
        void vscode.window.showInformationMessage('NN Lens: open a .nn file to step through one of its models.');
        return undefined;
      }
      Object.assign(config, { type: DEBUG_TYPE, request: 'launch', name: 'NN Lens: step through', program: editor.document.uri.fsPath, example: 1, stopOnEntry: true });
    }
    return config;
  }

  async resolveDebugConfigurationWithSubstitutedVariables(folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): Promise<vscode.DebugConfiguration | undefined> {
    // In Restricted Mode no data files are read (VS Code asks for trust before debugging, but a
    // session that runs anyway gets random check data, as checking does)
    config.restricted = !vscode.workspace.isTrusted;
    if (config.cwd === undefined && folder) config.cwd = folder.uri.fsPath;
    if (typeof config.program === 'string' && config.workspaceRoot === undefined) {
      const owner = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(config.program)) ?? folder;
      if (owner) config.workspaceRoot = owner.uri.fsPath;
    }
    if (typeof config.program === 'string' && !config.model) {
      const model = await modelAtCursor(this.server, vscode.Uri.file(config.program), false);
      if (model) config.model = model;
    }
    return config;
  }
}

/** The model at the cursor, the only model, or (when `ask`) the user's pick; undefined to let the adapter say. */
async function modelAtCursor(server: ServerAccess, uri: vscode.Uri, ask: boolean): Promise<string | undefined> {
  const client = await server.client();
  if (!client) return undefined;
  let models: ListModelsResult['models'];
  try {
    models = (await client.sendRequest<ListModelsResult>(ListModelsRequestMethod, { uri: uri.toString() } satisfies ListModelsParams)).models;
  } catch {
    return undefined;
  }
  if (models.length === 1) return models[0].name;
  const editor = vscode.window.activeTextEditor;
  const cursor = editor && editor.document.uri.toString() === uri.toString() ? editor.selection.active.line : undefined;
  const at = cursor === undefined ? undefined : modelAt(models, cursor);
  if (at) return at.name;
  if (!ask || models.length === 0) return undefined;
  const pick = await vscode.window.showQuickPick(
    models.map((m) => ({ label: m.name, detail: `line ${m.line + 1}` })),
    { title: `Step through a model of ${vscode.workspace.asRelativePath(uri)}`, placeHolder: 'Which model?' },
  );
  return pick?.label;
}

/** `nnlens.stepThrough [uri, model?]`: a debug session on example 1, stopped on entry, without a launch.json. */
async function stepThrough(server: ServerAccess, a?: unknown, b?: unknown): Promise<void> {
  let uri: vscode.Uri | undefined;
  if (typeof a === 'string' && a) uri = vscode.Uri.parse(a);
  else if (a instanceof vscode.Uri) uri = a;
  else if (vscode.window.activeTextEditor?.document.languageId === 'nn') uri = vscode.window.activeTextEditor.document.uri;
  if (!uri) {
    void vscode.window.showInformationMessage('NN Lens: open a .nn file to step through one of its models.');
    return;
  }
  if (uri.scheme !== 'file') {
    void vscode.window.showWarningMessage('NN Lens: save the file first: the debugger reads it from disk.');
    return;
  }
  const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri!.toString());
  if (doc?.isDirty) await doc.save();
  const model = typeof b === 'string' && b ? b : await modelAtCursor(server, uri, true);
  await vscode.debug.startDebugging(vscode.workspace.getWorkspaceFolder(uri), {
    type: DEBUG_TYPE,
    request: 'launch',
    name: model ? `Step through ${model}` : 'Step through',
    program: uri.fsPath,
    ...(model ? { model } : {}),
    example: 1,
    stopOnEntry: true,
  });
}

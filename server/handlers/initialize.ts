/**
 * `initialize` and `initialized`: the settings and trust the client sends, what it supports, and
 * the server's capabilities (Langium's, plus the lenses' commands for editors other than VS Code).
 */
import type { LangiumSharedServices } from 'langium/lsp';
import type { Connection, InitializeParams, InitializeResult } from 'vscode-languageserver';
import type { NnLensServices } from '../module';
import { ClientCommands } from '../protocol';
import { RESTRICTED_DATA_MESSAGE } from '../settings';
import { pullSettings } from './settings';

declare const NNLENS_VERSION: string | undefined;

export function addInitializeHandler(connection: Connection, Nn: NnLensServices): void {
  const shared = Nn.shared as LangiumSharedServices;
  const settings = Nn.lens.Settings;
  connection.onInitialize(async (params: InitializeParams): Promise<InitializeResult> => {
    settings.initialize(params.initializationOptions);
    const opts = (params.initializationOptions ?? {}) as Record<string, unknown>;
    const caps = params.capabilities;
    settings.client = {
      isNnLensExtension: typeof opts.settings === 'object' && opts.settings !== null && typeof opts.workspaceTrusted === 'boolean',
      hoverMarkdown: (caps.textDocument?.hover?.contentFormat ?? []).includes('markdown'),
      workDoneProgress: caps.window?.workDoneProgress === true,
      inlayHintRefresh: caps.workspace?.inlayHint?.refreshSupport === true,
      codeLensRefresh: caps.workspace?.codeLens?.refreshSupport === true,
      semanticTokensRefresh: caps.workspace?.semanticTokens?.refreshSupport === true,
      configurationPull: caps.workspace?.configuration === true,
    };
    if (!settings.workspaceTrusted) Nn.analysis.DataContext.fileAccessBlocked = RESTRICTED_DATA_MESSAGE;
    const result = await shared.lsp.LanguageServer.initialize(params);
    // Other editors run the lenses' commands through workspace/executeCommand; the VS Code
    // extension registers them itself (advertising them would clash with its registrations).
    if (!settings.client.isNnLensExtension) {
      result.capabilities.executeCommandProvider = {
        commands: [ClientCommands.train, ClientCommands.checkGradients, ClientCommands.stopTraining],
      };
    }
    result.serverInfo = { name: 'nnlens', version: typeof NNLENS_VERSION === 'string' ? NNLENS_VERSION : 'dev' };
    return result;
  });
  connection.onInitialized((params) => {
    shared.lsp.LanguageServer.initialized(params);
    if (settings.client.configurationPull) void pullSettings(connection, Nn);
  });
}

/**
 * Settings and trust after `initialize`: `workspace/didChangeConfiguration` (pushed, or pulled
 * with `workspace/configuration` when the client supports it) and `nnlens/workspaceTrust`.
 */
import type { LangiumSharedServices } from 'langium/lsp';
import type { Connection } from 'vscode-languageserver';
import type { NnLensServices } from '../module';
import { WorkspaceTrustNotificationMethod, type WorkspaceTrustParams } from '../protocol';

/** Asks the client for the `nnlens` section. */
export async function pullSettings(connection: Connection, Nn: NnLensServices): Promise<void> {
  try {
    const [raw] = (await connection.workspace.getConfiguration([{ section: 'nnlens' }])) as unknown[];
    if (raw && typeof raw === 'object') Nn.lens.Settings.update(raw);
  } catch {
    // the client does not answer workspace/configuration for this section
  }
}

export function addSettingsHandlers(connection: Connection, Nn: NnLensServices): void {
  const shared = Nn.shared as LangiumSharedServices;
  const settings = Nn.lens.Settings;
  connection.onDidChangeConfiguration((change) => {
    shared.workspace.ConfigurationProvider.updateConfiguration(change);
    const s = change.settings as Record<string, unknown> | null | undefined;
    if (s && typeof s === 'object' && 'nnlens' in s) settings.update(s.nnlens);
    else if (settings.client.configurationPull) void pullSettings(connection, Nn);
  });

  // Only a grant is acted on: data files may be read from now on, so every document is built again.
  connection.onNotification(WorkspaceTrustNotificationMethod, (p: WorkspaceTrustParams) => {
    if (p?.trusted !== true || settings.workspaceTrusted) return;
    settings.setTrusted(true);
    Nn.analysis.DataContext.fileAccessBlocked = undefined;
    const uris = shared.workspace.LangiumDocuments.all.map((d) => d.uri).toArray();
    void shared.workspace.WorkspaceLock.write((token) => shared.workspace.DocumentBuilder.update(uris, [], token));
  });
}

/**
 * Building edited documents once per burst. Langium builds a document on every change, at once;
 * in a burst of edits that is a build per keystroke, each already replaced by the time it ends.
 * Here changes (and deletions) are collected and built in one update once the messages already
 * read are dispatched (`MessageTraffic.quiet`), so a burst is built at its newest version.
 *
 * For open documents it also records which version a document's syntax tree was parsed from
 * (LSP requests carry no version; the text document object always holds the newest text, even
 * while the syntax tree is older). A version is recorded when the document reaches Parsed and no
 * newer edit has come in since its build took the changes; otherwise it stays unknown until the
 * next build.
 */
import { DocumentState, Emitter, URI, type Disposable } from 'langium';
import type { LangiumSharedServices } from 'langium/lsp';
import type { MessageTraffic } from './traffic';

export class CoalescedBuilds {
  private readonly changed = new Map<string, URI>();
  private readonly deleted = new Map<string, URI>();
  private scheduled = false;
  private readonly parsedVersions = new Map<string, number>();
  private readonly parsedEmitter = new Emitter<string>();
  /** Where a failed build is reported (the connection's console, when there is one). */
  logError: (message: string) => void = () => undefined;

  constructor(
    private readonly shared: LangiumSharedServices,
    private readonly traffic: MessageTraffic,
  ) {
    const documents = shared.workspace.TextDocuments;
    shared.workspace.DocumentBuilder.onDocumentPhase(DocumentState.Parsed, (doc) => {
      const uri = doc.uri.toString();
      const open = documents.get(uri);
      if (!open) return;
      if (this.changed.has(uri) || this.deleted.has(uri)) this.parsedVersions.delete(uri);
      else this.parsedVersions.set(uri, open.version);
      this.parsedEmitter.fire(uri);
    });
    documents.onDidClose((e) => this.parsedVersions.delete(e.document.uri));
  }

  /** The version of the open document `uri` its syntax tree was parsed from (undefined: not known yet). */
  parsedVersion(uri: string): number | undefined {
    return this.parsedVersions.get(uri);
  }

  /** Fires with a document's uri when it reaches Parsed. */
  onParsed(listener: (uri: string) => void): Disposable {
    return this.parsedEmitter.event(listener);
  }

  /** A document changed (or was opened): it is built with the next update. */
  change(uri: URI): void {
    this.deleted.delete(uri.toString());
    this.changed.set(uri.toString(), uri);
    this.schedule();
  }

  /** A document was deleted: it is removed with the next update. */
  delete(uri: URI): void {
    this.changed.delete(uri.toString());
    this.deleted.set(uri.toString(), uri);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.build().catch((e: unknown) => this.logError(`building documents failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`));
  }

  private async build(): Promise<void> {
    await this.shared.workspace.WorkspaceManager.ready;
    await this.traffic.quiet();
    this.scheduled = false;
    const changed = [...this.changed.values()];
    const deleted = [...this.deleted.values()];
    this.changed.clear();
    this.deleted.clear();
    await this.shared.workspace.WorkspaceLock.write((token) => this.shared.workspace.DocumentBuilder.update(changed, deleted, token));
  }
}

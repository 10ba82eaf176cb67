/**
 * Requests about a document version that a newer edit has replaced are answered at once with
 * `ContentModified` (LSP error -32801), without doing their work; a request overtaken while its
 * work runs is answered the same way, and its cancellation token tells the work to stop.
 *
 * A request is about the version of its document at the moment it is dispatched (LSP requests
 * carry no version; the client sent it after that version's didChange). Before any work it waits
 * until the messages already read are dispatched (`MessageTraffic.quiet`): in a burst of edits each
 * followed by a request, every request but the last then sees that its version was replaced.
 * It then waits until the document's syntax tree is parsed from its version (builds wait for the
 * same quiet moment, server/builds.ts, so the tree may still be an older version's), and lets
 * Langium's handler run with a token that is cancelled when a newer edit arrives.
 */
import { DocumentState, OperationCancelled, URI, type LangiumDocument } from 'langium';
import type { LangiumSharedServices } from 'langium/lsp';
import {
  CancellationTokenSource,
  LSPErrorCodes,
  ResponseError,
  type CancellationToken,
  type HandlerResult,
  type TextDocumentIdentifier,
} from 'vscode-languageserver';
import type { CoalescedBuilds } from './builds';
import type { MessageTraffic } from './traffic';

/** What became of the requests about open documents (the `nnlens/debug/stats` request shows it). */
export interface RequestCounts {
  /** Requests about an open document. */
  received: number;
  /** Answered ContentModified before any work: a newer edit had replaced their version. */
  stale: number;
  /** Their work started, then a newer edit replaced their version: answered ContentModified, work cancelled. */
  overtaken: number;
  /** Answered after their work, on their own version. */
  answered: number;
  /** Cancelled by the client before their work started. */
  cancelled: number;
}

interface Ticket {
  uri: string;
  version: number;
  source: CancellationTokenSource;
  /** A newer edit (or closing the document) replaced the version. */
  stale: boolean;
  /** The provider was called. */
  worked: boolean;
  /** Resolves when the ticket goes stale. */
  replaced: Promise<void>;
  markStale: () => void;
}

export const contentModified = () => new ResponseError(LSPErrorCodes.ContentModified, 'the document changed; this request was about an older version');

export class StaleRequests {
  readonly counts: RequestCounts = { received: 0, stale: 0, overtaken: 0, answered: 0, cancelled: 0 };
  private readonly tickets = new Map<string, Set<Ticket>>();
  private readonly byToken = new WeakMap<CancellationToken, Ticket>();
  /** Woken when a document reaches Parsed, or a ticket goes stale. */
  private readonly sleepers = new Map<string, Set<() => void>>();

  constructor(
    private readonly shared: LangiumSharedServices,
    private readonly traffic: MessageTraffic,
    private readonly builds: CoalescedBuilds,
  ) {
    const documents = shared.workspace.TextDocuments;
    documents.onDidChangeContent((e) => this.replaced(e.document.uri, e.document.version));
    documents.onDidClose((e) => this.replaced(e.document.uri, Infinity));
    builds.onParsed((uri) => this.wake(uri));
  }

  /**
   * Wraps the handler of a request about one document (Langium's `createRequestHandler` and
   * friends). Requests about documents that are not open pass through unchanged.
   */
  guard<P extends { textDocument: TextDocumentIdentifier }, R, A extends unknown[]>(
    handler: (params: P, token: CancellationToken, ...rest: A) => HandlerResult<R, void>,
  ): (params: P, token: CancellationToken, ...rest: A) => Promise<R | ResponseError<void>> {
    return async (params, token, ...rest) => {
      const open = this.shared.workspace.TextDocuments.get(params.textDocument.uri);
      if (!open) return handler(params, token, ...rest);
      this.counts.received++;
      const ticket = this.issue(params.textDocument.uri, open.version, token);
      try {
        await this.traffic.quiet();
        if (!ticket.stale) await this.parsed(ticket);
        if (ticket.stale) {
          this.counts.stale++;
          return contentModified();
        }
        if (token.isCancellationRequested) {
          this.counts.cancelled++;
          return new ResponseError(LSPErrorCodes.RequestCancelled, 'the request was cancelled');
        }
        const answer = await Promise.race([handler(params, ticket.source.token, ...rest), ticket.replaced.then(() => undefined)]);
        if (ticket.stale) {
          if (ticket.worked) this.counts.overtaken++;
          else this.counts.stale++;
          return contentModified();
        }
        this.counts.answered++;
        return answer as R | ResponseError<void>;
      } finally {
        this.retire(ticket);
      }
    };
  }

  /**
   * Wraps a provider call (Langium's service call): it does not run for a request that went stale
   * while it waited for its document's build.
   */
  work<S, P, T>(
    call: (services: S, document: LangiumDocument, params: P, token: CancellationToken) => T,
  ): (services: S, document: LangiumDocument, params: P, token: CancellationToken) => T {
    return (services, document, params, token) => {
      const ticket = this.byToken.get(token);
      if (ticket) {
        if (ticket.stale) throw OperationCancelled;
        ticket.worked = true;
      }
      return call(services, document, params, token);
    };
  }

  /**
   * The current text of an open document, built and validated (for requests that are not about a
   * position: training, gradient checks, the list of models). Resolves at once for other documents.
   */
  async settled(uri: string): Promise<void> {
    for (;;) {
      const open = this.shared.workspace.TextDocuments.get(uri);
      if (!open) return;
      const ticket = this.issue(uri, open.version, undefined);
      try {
        await this.traffic.quiet();
        await this.parsed(ticket);
      } finally {
        this.retire(ticket);
      }
      if (ticket.stale) continue; // a newer edit came in: wait for that one
      const parsedUri = URI.parse(uri);
      if (this.shared.workspace.LangiumDocuments.hasDocument(parsedUri)) {
        await this.shared.workspace.DocumentBuilder.waitUntil(DocumentState.Validated, parsedUri);
      }
      return;
    }
  }

  private issue(uri: string, version: number, token: CancellationToken | undefined): Ticket {
    const source = new CancellationTokenSource();
    let markStale = () => undefined as void;
    const replaced = new Promise<void>((resolve) => {
      markStale = () => {
        if (ticket.stale) return;
        ticket.stale = true;
        source.cancel();
        resolve();
      };
    });
    const ticket: Ticket = { uri, version, source, stale: false, worked: false, replaced, markStale };
    token?.onCancellationRequested(() => {
      source.cancel();
      this.wake(uri);
    });
    let set = this.tickets.get(uri);
    if (!set) this.tickets.set(uri, (set = new Set()));
    set.add(ticket);
    this.byToken.set(source.token, ticket);
    return ticket;
  }

  private retire(ticket: Ticket): void {
    const set = this.tickets.get(ticket.uri);
    set?.delete(ticket);
    if (set?.size === 0) this.tickets.delete(ticket.uri);
    ticket.source.dispose();
  }

  private replaced(uri: string, version: number): void {
    const set = this.tickets.get(uri);
    for (const t of set ?? []) {
      if (t.version >= version) continue;
      t.markStale();
      set?.delete(t); // visited once: a burst of N edits costs N, not N²
    }
    this.wake(uri);
  }

  private wake(uri: string): void {
    const set = this.sleepers.get(uri);
    if (!set) return;
    this.sleepers.delete(uri);
    for (const wake of set) wake();
  }

  /**
   * Waits until the document's syntax tree is parsed from the ticket's version, or the ticket goes
   * stale, or the client cancels the request.
   */
  private async parsed(ticket: Ticket): Promise<void> {
    while (!ticket.stale && !ticket.source.token.isCancellationRequested) {
      if (this.builds.parsedVersion(ticket.uri) === ticket.version) return;
      await new Promise<void>((resolve) => {
        let set = this.sleepers.get(ticket.uri);
        if (!set) this.sleepers.set(ticket.uri, (set = new Set()));
        set.add(resolve);
      });
    }
  }
}

/**
 * A real LSP client for tests: spawns `node out/cli.js lsp --stdio` and talks JSON-RPC to it over
 * stdio (vscode-languageserver-protocol), collecting diagnostics and notifications.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  createProtocolConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type ProtocolConnection,
} from 'vscode-languageserver-protocol/node';
import type {
  ClientCapabilities,
  Diagnostic,
  InitializeResult,
  NotificationMessage,
  PublishDiagnosticsParams,
  RequestMessage,
  ResponseMessage,
} from 'vscode-languageserver-protocol';

export const ROOT = resolve(__dirname, '..', '..');
export const CLI = resolve(ROOT, 'out', 'cli.js');

export const fileUri = (path: string) => pathToFileURL(path).toString();

export const CAPABILITIES: ClientCapabilities = {
  textDocument: {
    hover: { contentFormat: ['markdown', 'plaintext'] },
    publishDiagnostics: { relatedInformation: true, versionSupport: true },
    completion: { completionItem: { snippetSupport: true, labelDetailsSupport: true } },
    synchronization: { didSave: true },
    inlayHint: {},
    codeLens: {},
    signatureHelp: { signatureInformation: { parameterInformation: { labelOffsetSupport: true } } },
  },
  workspace: { configuration: false, inlayHint: { refreshSupport: true }, codeLens: { refreshSupport: true } },
  window: { workDoneProgress: true },
};

export interface Notification {
  method: string;
  params: unknown;
}

export class LspClient {
  readonly conn: ProtocolConnection;
  readonly child: ChildProcess;
  readonly diagnostics = new Map<string, PublishDiagnosticsParams[]>();
  readonly notifications: Notification[] = [];
  readonly stderr: string[] = [];
  private versions = new Map<string, number>();
  private texts = new Map<string, string>();
  private waiters: { check: () => boolean; resolve: () => void }[] = [];
  /** Responses to the requests written with writeRaw, by id. */
  readonly rawResponses = new Map<string, ResponseMessage>();
  private rawIds = 0;
  exited: number | null = null;

  constructor(args: string[] = [CLI, 'lsp', '--stdio'], env: NodeJS.ProcessEnv = process.env) {
    this.child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
    this.child.stderr?.on('data', (d: Buffer) => this.stderr.push(d.toString()));
    this.child.on('exit', (code) => {
      this.exited = code ?? -1;
      this.poke();
    });
    this.conn = createProtocolConnection(
      new StreamMessageReader(this.child.stdout!),
      new StreamMessageWriter(this.child.stdin!),
    );
    this.conn.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
      const list = this.diagnostics.get(p.uri) ?? [];
      list.push(p);
      this.diagnostics.set(p.uri, list);
      this.poke();
    });
    this.conn.onUnhandledNotification((n) => {
      this.notifications.push({ method: n.method, params: n.params });
      this.poke();
    });
    // Requests the server may send: configuration, progress, refreshes.
    this.conn.onRequest('workspace/configuration', () => [null]);
    this.conn.onRequest('window/workDoneProgress/create', () => null);
    this.conn.onRequest('workspace/inlayHint/refresh', () => {
      this.notifications.push({ method: 'workspace/inlayHint/refresh', params: null });
      this.poke();
      return null;
    });
    this.conn.onRequest('workspace/codeLens/refresh', () => {
      this.notifications.push({ method: 'workspace/codeLens/refresh', params: null });
      this.poke();
      return null;
    });
    this.conn.onRequest('client/registerCapability', () => null);
    this.conn.onRequest('window/showMessageRequest', () => null);
    this.conn.onNotification('$/progress', (p: unknown) => {
      this.notifications.push({ method: '$/progress', params: p });
      this.poke();
    });
    this.conn.listen();
    // A second reader of the same output, for responses to requests written with writeRaw (their
    // string ids are unknown to the connection, which ignores them).
    new StreamMessageReader(this.child.stdout!).listen((m) => {
      const r = m as ResponseMessage;
      if (typeof r.id === 'string' && r.id.startsWith('raw-')) {
        this.rawResponses.set(r.id, r);
        this.poke();
      }
    });
  }

  private poke(): void {
    for (const w of [...this.waiters]) {
      if (w.check()) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  }

  /** Resolves when `check` holds (re-checked on every message), or rejects after `timeoutMs`. */
  waitFor(check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const w = {
        check: () => {
          if (this.exited !== null) {
            reject(new Error(`the server exited (${this.exited}) while waiting for ${what}\n${this.stderr.join('')}`));
            return true;
          }
          return check();
        },
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  async initialize(initializationOptions?: unknown, workspaceFolder?: string, capabilities = CAPABILITIES): Promise<InitializeResult> {
    const r = await this.conn.sendRequest<InitializeResult>('initialize', {
      processId: process.pid,
      rootUri: workspaceFolder ? fileUri(workspaceFolder) : null,
      workspaceFolders: workspaceFolder ? [{ uri: fileUri(workspaceFolder), name: 'ws' }] : null,
      capabilities,
      initializationOptions,
    });
    await this.conn.sendNotification('initialized', {});
    return r;
  }

  open(uri: string, text: string): void {
    this.versions.set(uri, 1);
    this.texts.set(uri, text);
    void this.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'nn', version: 1, text } });
  }

  /** Replaces the whole text (a full-document change). Returns the new version. */
  change(uri: string, text: string): number {
    const v = (this.versions.get(uri) ?? 0) + 1;
    this.versions.set(uri, v);
    this.texts.set(uri, text);
    void this.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version: v }, contentChanges: [{ text }] });
    return v;
  }

  /**
   * Writes messages to the server's stdin in ONE write, framed as JSON-RPC frames them, the way a
   * client flushes a backlog: the server reads them as fast as the pipe allows, without the
   * connection's one-message-at-a-time writer in between. Requests get ids `raw-N` (returned in
   * order; their responses land in rawResponses); a didChange made with `changeMessage` keeps
   * this client's versions in step.
   */
  writeRaw(messages: ({ method: string; params: unknown; request?: boolean })[]): string[] {
    const ids: string[] = [];
    const frames = messages.map((m) => {
      const msg: RequestMessage | NotificationMessage = m.request
        ? { jsonrpc: '2.0', id: `raw-${++this.rawIds}`, method: m.method, params: m.params as object }
        : { jsonrpc: '2.0', method: m.method, params: m.params as object };
      if ('id' in msg) ids.push(String(msg.id));
      const body = Buffer.from(JSON.stringify(msg), 'utf8');
      return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'ascii'), body]);
    });
    this.child.stdin!.write(Buffer.concat(frames));
    return ids;
  }

  /** A full-text didChange for writeRaw (the version is counted as if sent). */
  changeMessage(uri: string, text: string): { method: string; params: unknown } {
    const v = (this.versions.get(uri) ?? 0) + 1;
    this.versions.set(uri, v);
    this.texts.set(uri, text);
    return { method: 'textDocument/didChange', params: { textDocument: { uri, version: v }, contentChanges: [{ text }] } };
  }

  version(uri: string): number {
    return this.versions.get(uri) ?? 0;
  }

  text(uri: string): string {
    return this.texts.get(uri) ?? '';
  }

  /** The latest diagnostics published for `uri` at its current version. */
  latest(uri: string): Diagnostic[] | undefined {
    const list = this.diagnostics.get(uri);
    const last = list?.[list.length - 1];
    if (!last || (last.version !== undefined && last.version !== this.version(uri))) return undefined;
    return last.diagnostics;
  }

  /** Waits until the diagnostics of the current version satisfy `check`. */
  async diagnosticsWhere(uri: string, check: (d: Diagnostic[]) => boolean, what: string, timeoutMs = 60_000): Promise<Diagnostic[]> {
    await this.waitFor(() => {
      const d = this.latest(uri);
      return d !== undefined && check(d);
    }, what, timeoutMs);
    return this.latest(uri)!;
  }

  request<R>(method: string, params: unknown): Promise<R> {
    return this.conn.sendRequest<R>(method, params);
  }

  async shutdown(): Promise<void> {
    if (this.exited === null) {
      try {
        await Promise.race([this.conn.sendRequest('shutdown'), new Promise((r) => setTimeout(r, 10_000))]);
        await this.conn.sendNotification('exit');
      } catch {
        // already gone
      }
      await Promise.race([new Promise((r) => this.child.once('exit', r)), new Promise((r) => setTimeout(r, 5_000))]);
    }
    if (this.exited === null) this.child.kill('SIGKILL');
    this.conn.dispose();
  }
}

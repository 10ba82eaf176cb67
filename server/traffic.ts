/**
 * The flow of messages from the client. vscode-jsonrpc queues what it reads and dispatches one
 * message per turn of the event loop; `MessageTraffic` is its message strategy and counts the
 * dispatches, so the server can tell when the queue has run dry: `quiet()` resolves once a few
 * turns passed with no message dispatched. Work that a newer message may make useless (building
 * an edited document, answering a request about it) waits for that moment; in a burst of edits
 * the newest version is then known before any work starts.
 */
import type { Message, MessageStrategy } from 'vscode-languageserver';

/** Turns of the event loop without a dispatch that make the queue count as empty. */
const QUIET_TURNS = 3;
/** Under an endless stream of messages, work starts anyway after this long. */
export const MAX_QUIET_WAIT_MS = 500;

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

export class MessageTraffic implements MessageStrategy {
  private dispatched = 0;
  /** The one wait in progress: every caller of quiet() shares it. */
  private waiting: Promise<void> | undefined;

  handleMessage(message: Message, next: (message: Message) => void): void {
    this.dispatched++;
    next(message);
  }

  /** Messages dispatched so far. */
  get count(): number {
    return this.dispatched;
  }

  /**
   * Resolves when the messages read so far have all been dispatched: QUIET_TURNS turns passed
   * without a dispatch (the queue dispatches one per turn while it holds any), or after
   * MAX_QUIET_WAIT_MS. Callers share one wait, so a thousand waiting requests cost one.
   */
  quiet(): Promise<void> {
    this.waiting ??= this.wait().finally(() => {
      this.waiting = undefined;
    });
    return this.waiting;
  }

  private async wait(): Promise<void> {
    const started = performance.now();
    for (;;) {
      const before = this.dispatched;
      for (let i = 0; i < QUIET_TURNS; i++) await turn();
      if (this.dispatched === before || performance.now() - started > MAX_QUIET_WAIT_MS) return;
    }
  }
}

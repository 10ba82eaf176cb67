/**
 * `workspace/inlayHint/refresh`, for clients that support it: when the settings of inlay hints
 * change, and when an edit changed hints on lines other than the edited ones (a shape that
 * changes downstream), since editors re-request hints only for what they think changed.
 */
import { DocumentState, type LangiumDocument } from 'langium';
import type { LangiumSharedServices } from 'langium/lsp';
import type { Connection, InlayHint } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { carryOver } from '../engine-service';
import type { NnInlayHintProvider } from '../inlay-hints';
import type { NnLensServices } from '../module';

/** Refreshes are coalesced over this many ms. */
const REFRESH_DELAY_MS = 30;

export function addInlayHintRefresh(connection: Connection, Nn: NnLensServices): void {
  const shared = Nn.shared as LangiumSharedServices;
  const settings = Nn.lens.Settings;
  const documents = shared.workspace.TextDocuments;
  const hintProvider = Nn.lsp.InlayHintProvider as NnInlayHintProvider;
  const hintState = new Map<string, { text: TextDocument; hints: InlayHint[] }>();
  let refreshTimer: NodeJS.Timeout | undefined;
  const refresh = () => {
    if (!settings.client.inlayHintRefresh) return;
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => void connection.languages.inlayHint.refresh().catch(() => undefined), REFRESH_DELAY_MS);
  };
  settings.onDidChange((now, before) => {
    if (JSON.stringify(now.inlayHints) !== JSON.stringify(before.inlayHints)) refresh();
  });
  shared.workspace.DocumentBuilder.onDocumentPhase(DocumentState.Validated, (doc: LangiumDocument) => {
    const uri = doc.uri.toString();
    if (!documents.get(uri) || !settings.client.inlayHintRefresh) return;
    const hints = hintProvider.allHints(doc);
    const text = TextDocument.create(uri, 'nn', doc.textDocument.version, doc.textDocument.getText());
    const before = hintState.get(uri);
    hintState.set(uri, { text, hints });
    if (before && hintsMovedElsewhere(before.text, text, before.hints, hints)) refresh();
  });
  documents.onDidClose((e) => hintState.delete(e.document.uri));
}

/** Whether hints on lines the edit did not touch changed (so other lines need new hints). */
export function hintsMovedElsewhere(before: TextDocument, after: TextDocument, old: InlayHint[], now: InlayHint[]): boolean {
  const asDiag = (h: InlayHint) => ({
    range: { start: h.position, end: h.position },
    message: typeof h.label === 'string' ? h.label : h.label.map((l) => l.value).join(''),
  });
  const carried = carryOver(before, after, old.map(asDiag));
  const key = (d: { range: { start: { line: number; character: number } }; message: string }) =>
    `${d.range.start.line}:${d.range.start.character}:${d.message}`;
  const nowKeys = new Set(now.map(asDiag).map(key));
  // a hint the edit did not touch that is no longer there (or moved) means another line changed
  if (carried.some((d) => !nowKeys.has(key(d)))) return true;
  // a new hint outside the edited lines
  const a = before.getText();
  const b = after.getText();
  let p = 0;
  while (p < a.length && p < b.length && a[p] === b[p]) p++;
  let s = 0;
  while (s < a.length - p && s < b.length - p && a[a.length - 1 - s] === b[b.length - 1 - s]) s++;
  const firstLine = after.positionAt(p).line;
  const lastLine = after.positionAt(b.length - s).line;
  const carriedKeys = new Set(carried.map(key));
  return now.some((h) => (h.position.line < firstLine || h.position.line > lastLine) && !carriedKeys.has(key(asDiag(h))));
}

/**
 * Messages between the Backprop view's host (client/backprop/host.ts, in the extension) and its
 * browser-side script (client/backprop/main.ts, in the webview).
 */
import type { TraceResult } from '../../server/protocol';

/** A 0-based range of the document. */
export interface LineRange {
  start: { line: number; character: number };
  end: { line: number; character: number };
}

export type HostMessage =
  /** A new answer of `nnlens/trace` for the view's model, example and weights. */
  | {
      type: 'trace';
      result: TraceResult;
      uri: string;
      example: number;
      weights: 'initial' | 'trained';
      /** The cursor's line (0-based) in an editor of the document, if one is visible. */
      cursor: number | null;
    }
  /** The answer is being computed (the document changed, another example was picked). */
  | { type: 'busy' }
  /** The editor's cursor moved to a line (0-based) of the model's document. */
  | { type: 'cursor'; line: number };

export type ViewMessage =
  | { type: 'ready'; state: ViewState | null }
  | { type: 'setExample'; example: number }
  | { type: 'setWeights'; weights: 'initial' | 'trained' }
  | { type: 'setModel'; model: string }
  /** Show this range in the editor (a node or a line was clicked). */
  | { type: 'reveal'; range: LineRange }
  /** Highlight the current step's statement in the editor (null: no step). */
  | { type: 'step'; range: LineRange | null };

/** What the webview keeps across reloads (vscode.setState). */
export interface ViewState {
  version: 1;
  uri: string;
  model: string;
  example: number;
  weights: 'initial' | 'trained';
}

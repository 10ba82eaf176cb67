/**
 * The formatter: one indentation unit (the editor's tab size, two spaces by default) per open block (`model {`, `backward {`, `train … {`,
 * `table {`), per open bracket on continuation lines, and for a function's `grad` lines; one space
 * around binary operators, `=` and `->`, after commas and colons; none inside brackets, around
 * `.` and `^`, after a unary minus or before a call's `(`.
 *
 * It works on tokens, line by line: lines are never joined or split, comments stay where they
 * are (trailing comments that were aligned stay aligned), and text that does not parse is
 * formatted as far as its tokens go. A text the lexer cannot read is left alone. Formatting
 * twice gives the same text.
 *
 * Column alignment is kept (examples/digits.nn): where a token was padded to line up with the
 * same kind of token on the lines next to it (`input  x` under `target t`, the `=` of a run of
 * `param` lines, `y  =` under `z2 =`), the run stays aligned — at the column the formatted lines
 * need, so that it also survives re-indentation.
 */
import type { IToken } from 'chevrotain';
import type { LangiumDocument } from 'langium';
import type { Formatter } from 'langium/lsp';
import type {
  DocumentFormattingParams,
  DocumentOnTypeFormattingOptions,
  DocumentOnTypeFormattingParams,
  DocumentRangeFormattingParams,
  FormattingOptions,
  TextEdit,
} from 'vscode-languageserver';
import type { NnLensServices } from './module';

const OPEN = new Set(['(', '[', '{']);
const CLOSE = new Set([')', ']', '}']);
const BINARY = new Set(['+', '-', '*', '/', '@', '=', '->']);
/** A `-` after anything else is a unary minus. */
const OPERAND_END = new Set(['ID', 'NUMBER', 'STRING', ')', ']', 'true', 'false']);

interface Tok {
  type: string;
  image: string;
  start: number;
  end: number;
  line: number;
  endLine: number;
  comment: boolean;
}

export interface FormatResult {
  /** The formatted lines (same count as the input). */
  lines: string[];
  /** False when the text could not be tokenized (it is then returned unchanged). */
  ok: boolean;
}

/** Formats `text` given its tokens (code and comments) from the language's lexer. */
export function formatTokens(text: string, code: readonly IToken[], comments: readonly IToken[], indent = '  '): FormatResult {
  // pass 1: where every token lands without alignment; pass 2: with the aligned runs padded
  const natural = new Map<number, number>();
  layout(text, code, comments, indent, natural, null);
  const targets = alignmentTargets(text, code, natural);
  return layout(text, code, comments, indent, null, targets);
}

/**
 * One layout of the text. `cols` (pass 1) receives each code token's output column by its start
 * offset; `pad` (pass 2) gives the column a token must start at (an aligned run's).
 */
function layout(
  text: string,
  code: readonly IToken[],
  comments: readonly IToken[],
  indent: string,
  cols: Map<number, number> | null,
  pad: ReadonlyMap<number, number> | null,
): FormatResult {
  const INDENT = indent;
  const src = text.split(/\r?\n/);
  const toTok = (t: IToken, comment: boolean): Tok => ({
    type: t.tokenType.name,
    image: t.image,
    start: t.startOffset,
    end: t.startOffset + t.image.length,
    line: (t.startLine ?? 1) - 1,
    endLine: (t.endLine ?? t.startLine ?? 1) - 1,
    comment,
  });
  const toks = [...code.map((t) => toTok(t, false)), ...comments.map((t) => toTok(t, true))].sort((a, b) => a.start - b.start);
  const byLine = new Map<number, Tok[]>();
  const verbatim = new Set<number>();
  for (const t of toks) {
    let l = byLine.get(t.line);
    if (!l) byLine.set(t.line, (l = []));
    l.push(t);
    if (t.endLine > t.line) for (let k = t.line; k <= t.endLine; k++) verbatim.add(k);
  }
  // Unary minus: decided on the whole token stream (a line may continue the previous one).
  const unary = new Set<Tok>();
  let prevCode: Tok | undefined;
  for (const t of toks) {
    if (t.comment) continue;
    if (t.type === '-' && (!prevCode || !OPERAND_END.has(prevCode.type))) unary.add(t);
    prevCode = t;
  }

  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  const out: string[] = [];
  const lineCode: number[] = []; // length of the code part of each output line (-1: no trailing comment)
  const origCommentCol: number[] = [];
  const origCodeEnd: number[] = [];
  let braces = 0;
  let parens = 0;
  let lastCode: Tok | undefined;
  for (let li = 0; li < src.length; li++) {
    const tokens = byLine.get(li) ?? [];
    lineCode.push(-1);
    origCommentCol.push(-1);
    origCodeEnd.push(-1);
    if (verbatim.has(li)) {
      out.push(src[li]);
      for (const t of tokens) if (!t.comment) ({ braces, parens } = track(t, braces, parens));
      const lastOnLine = [...tokens].reverse().find((t) => !t.comment);
      if (lastOnLine) lastCode = lastOnLine;
      continue;
    }
    if (tokens.length === 0) {
      out.push('');
      continue;
    }
    const first = tokens.find((t) => !t.comment) ?? tokens[0];
    // Indentation
    let level = braces + parens;
    let leadingClosers = 0;
    for (const t of tokens) {
      if (t.comment || !CLOSE.has(t.type)) break;
      leadingClosers++;
    }
    level -= leadingClosers;
    if (!first.comment && leadingClosers === 0 && parens === 0 && lastCode) {
      const continues =
        (BINARY.has(first.type) && first.type !== '=') ||
        first.type === '^' ||
        BINARY.has(lastCode.type) ||
        lastCode.type === '^' ||
        lastCode.type === ',' ||
        lastCode.type === ':' ||
        lastCode.type === '.';
      if (continues) level += 1;
      else if (first.type === 'grad' && braces === 0) level += 1; // a function's grad line
    } else if (!first.comment && first.type === 'grad' && braces === 0 && parens === 0) {
      level += 1;
    }
    level = Math.max(0, level);
    let line = INDENT.repeat(level);
    let prev: Tok | undefined;
    for (const t of tokens) {
      if (prev) {
        if (t.comment && !prev.comment && t.image.startsWith('//')) {
          // trailing comment: keep its distance (aligned later)
          origCodeEnd[li] = prev.end - starts[li];
          origCommentCol[li] = t.start - starts[li];
          lineCode[li] = line.length;
          line += ' '.repeat(Math.max(1, t.start - prev.end));
        } else {
          line += space(prev, t, unary) ? ' ' : '';
          const want = t.comment ? undefined : pad?.get(t.start);
          if (want !== undefined && line.length < want) line += ' '.repeat(want - line.length);
        }
      }
      if (!t.comment) cols?.set(t.start, line.length);
      line += t.image;
      prev = t;
      if (!t.comment) {
        ({ braces, parens } = track(t, braces, parens));
        lastCode = t;
      }
    }
    out.push(line.replace(/\s+$/, ''));
  }
  alignComments(out, lineCode, origCommentCol, origCodeEnd);
  return { lines: out, ok: true };
}

/**
 * Aligned runs: on adjacent lines, tokens of one kind (type) that started at the same column of
 * the original text, where at least one was padded to get there (more than one space before
 * it), and none is the first token of its line. Each such token gets the largest column its run
 * has in pass 1 (by start offset). One run per line: the first token of the line that is in one.
 */
function alignmentTargets(text: string, code: readonly IToken[], natural: ReadonlyMap<number, number>): Map<number, number> {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  interface Cand {
    start: number;
    type: string;
    col: number;
    padded: boolean;
  }
  const byLine = new Map<number, Cand[]>();
  for (let k = 1; k < code.length; k++) {
    const t = code[k];
    const prev = code[k - 1];
    const line = (t.startLine ?? 1) - 1;
    if ((prev.endLine ?? prev.startLine ?? 1) - 1 !== line) continue; // first on its line
    const gap = t.startOffset - (prev.startOffset + prev.image.length);
    if (text.slice(prev.startOffset + prev.image.length, t.startOffset).trim() !== '') continue; // a comment between
    const list = byLine.get(line) ?? [];
    list.push({ start: t.startOffset, type: t.tokenType.name, col: t.startOffset - starts[line], padded: gap > 1 });
    byLine.set(line, list);
  }
  const out = new Map<number, number>();
  const taken = new Set<number>();
  const lines = [...byLine.keys()].sort((a, b) => a - b);
  for (const li of lines) {
    if (taken.has(li)) continue;
    for (const c of byLine.get(li)!) {
      // the run through line li at this token's kind and column
      const at = (l: number) => byLine.get(l)?.find((x) => x.type === c.type && x.col === c.col);
      const run: Cand[] = [c];
      for (let l = li + 1; !taken.has(l) && at(l); l++) run.push(at(l)!);
      if (run.length < 2 || !run.some((x) => x.padded)) continue;
      const target = Math.max(...run.map((x) => natural.get(x.start) ?? 0));
      run.forEach((x, k) => {
        out.set(x.start, target);
        taken.add(li + k);
      });
      break;
    }
  }
  return out;
}

function track(t: Tok, braces: number, parens: number): { braces: number; parens: number } {
  if (t.type === '{') braces++;
  else if (t.type === '}') braces = Math.max(0, braces - 1);
  else if (t.type === '(' || t.type === '[') parens++;
  else if (t.type === ')' || t.type === ']') parens = Math.max(0, parens - 1);
  return { braces, parens };
}

/** Whether one space goes between two tokens of a line. */
function space(a: Tok, b: Tok, unary: ReadonlySet<Tok>): boolean {
  if (a.comment || b.comment) return true;
  const A = a.type;
  const B = b.type;
  if (B === ',' || B === ':' || B === '.' || A === '.') return false;
  if (CLOSE.has(B)) return B === '}';
  if (A === '(' || A === '[') return false;
  if (A === '{') return true;
  if (A === '^' || B === '^') return false;
  if (unary.has(a)) return false;
  if (B === '(') return !(A === 'ID' || A === ')');
  if (BINARY.has(A) || BINARY.has(B)) return true;
  return true;
}

/** Trailing comments that were aligned in a run of lines stay aligned. */
function alignComments(out: string[], codeLen: number[], col: number[], codeEnd: number[]): void {
  let i = 0;
  while (i < out.length) {
    if (col[i] < 0) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < out.length && col[j] === col[i]) j++;
    if (j - i >= 2) {
      let gap = Infinity;
      let width = 0;
      for (let k = i; k < j; k++) {
        gap = Math.min(gap, col[k] - codeEnd[k]);
        width = Math.max(width, codeLen[k]);
      }
      gap = Math.max(1, gap);
      for (let k = i; k < j; k++) {
        const code = out[k].slice(0, codeLen[k]);
        const comment = out[k].slice(codeLen[k]).replace(/^\s+/, '');
        out[k] = code + ' '.repeat(width - codeLen[k] + gap) + comment;
      }
    }
    i = j;
  }
}

export class NnFormatter implements Formatter {
  constructor(private readonly services: NnLensServices) {}

  /** The whole text, formatted (undefined when it cannot be tokenized). */
  format(text: string, options: FormattingOptions = { tabSize: 2, insertSpaces: true }): string[] | undefined {
    const r = this.services.parser.Lexer.tokenize(text);
    if (r.errors.length > 0) return undefined;
    const indent = options.insertSpaces === false ? '\t' : ' '.repeat(Math.max(1, Math.min(8, options.tabSize || 2)));
    return formatTokens(text, r.tokens, r.hidden, indent).lines;
  }

  private edits(document: LangiumDocument, options: FormattingOptions, from: number, to: number): TextEdit[] {
    const text = document.textDocument.getText();
    const lines = this.format(text, options);
    if (!lines) return [];
    const src = text.split(/\r?\n/);
    const edits: TextEdit[] = [];
    for (let i = Math.max(0, from); i <= Math.min(to, src.length - 1); i++) {
      if (lines[i] !== src[i]) {
        edits.push({ range: { start: { line: i, character: 0 }, end: { line: i, character: src[i].length } }, newText: lines[i] });
      }
    }
    return edits;
  }

  formatDocument(document: LangiumDocument, params: DocumentFormattingParams): TextEdit[] {
    return this.edits(document, params.options, 0, Number.MAX_SAFE_INTEGER);
  }

  formatDocumentRange(document: LangiumDocument, params: DocumentRangeFormattingParams): TextEdit[] {
    return this.edits(document, params.options, params.range.start.line, params.range.end.line);
  }

  formatDocumentOnType(document: LangiumDocument, params: DocumentOnTypeFormattingParams): TextEdit[] {
    return this.edits(document, params.options, params.position.line, params.position.line);
  }

  get formatOnTypeOptions(): DocumentOnTypeFormattingOptions {
    return { firstTriggerCharacter: '}' };
  }
}

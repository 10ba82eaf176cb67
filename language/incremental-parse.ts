/**
 * Parsing an edited document again only where it changed (issue 13, big files). Langium parses
 * the whole text on every change; on a 1,000-line file that alone takes 40 ms or more (half of it
 * garbage collection of the new tree). Here the top-level declarations before and after the change
 * are taken over from the previous version's tree, and only the declarations around the change are
 * parsed — the result is the tree a whole parse gives (test/language/incremental-parse.test.ts
 * compares them, node for node, after thousands of random edits).
 *
 * Why it is the same tree. The grammar's top level is a sequence of declarations, each starting
 * with a keyword (`const`, `function`, `data`, `model`, `train`, `check`) that can continue no
 * declaration. Between two declarations the parser is in the same state — at the top-level loop —
 * whatever came before; what it does from there depends only on the tokens that follow. So:
 *
 * - The declarations that start before the last one starting before the change (the prefix) are
 *   parsed as before: their tokens and what follows them up to that declaration are unchanged.
 *   (The last one before the change is parsed again: text added after it may continue it.)
 * - The text from there up to the end of the first declaration after the change (the sentinel) is
 *   parsed, with the prefix blanked (spaces for every character but line breaks: offsets, lines
 *   and columns stay those of the whole text). When the parse ends with the sentinel as a
 *   top-level declaration of the same extent, without errors in it, the parser was back at the
 *   top-level loop when it reached the sentinel, as in a whole parse; the declarations after the
 *   sentinel (the suffix) then parse as before, at their new offsets.
 * - The text parsed ends with the sentinel; a token of the whole text that would run past it (a
 *   block comment opened before and closed after it, a string without its closing quote) is
 *   not a token of the text parsed. So a `/*` not closed before the sentinel's end, or an error
 *   of the lexer, means the whole text is parsed.
 * - Otherwise too (an unclosed brace that swallows what follows, an error in the sentinel, text
 *   nested too deeply for the parser, errors of the previous version outside the text parsed
 *   again, a previous tree without text) the whole text is parsed, as Langium does.
 *
 * Taking declarations over: the previous root CST node takes the new text, and the nodes parsed
 * now in place of those parsed again (their `root` set to it); the prefix's nodes stay as they
 * are, the suffix's shift by the change's length and lines (the CST nodes of Langium 4.2 hold
 * their offset and range: `_offset`, `_range` and the cached `_rangeCache` are set here). The
 * declarations become the new program's. Their references were unlinked when the document was
 * reset for the rebuild (DocumentBuilder.resetToState), so linking resolves them afresh.
 */
import { DefaultLangiumDocumentFactory, type AstNode, type CstNode, type LangiumDocument, type LangiumSharedCoreServices, type ParseResult, type URI } from 'langium';
import type { CancellationToken, Range } from 'vscode-languageserver';

/** The fields of Langium 4.2's CST nodes (language/generated has the types, langium/lib the classes) this module sets. */
interface MovableCst {
  root: MovableCst & { _text: string; fullText: string };
  container?: MovableCst;
  content?: MovableCst[];
  hidden: boolean;
  offset: number;
  end: number;
  _offset?: number;
  _range?: Range;
  _rangeCache?: Range;
}

/** How often an edited document was parsed in part and as a whole (tests count them, never time them). */
export interface ParseCounts {
  spliced: number;
  whole: number;
}

/** Langium's document factory, parsing an edited document again only where it changed. */
export class NnDocumentFactory extends DefaultLangiumDocumentFactory {
  readonly counts: ParseCounts = { spliced: 0, whole: 0 };
  /** The previous parse of each document being updated. */
  private readonly previous = new Map<string, ParseResult<AstNode>>();

  constructor(services: LangiumSharedCoreServices) {
    super(services);
  }

  override async update<T extends AstNode = AstNode>(document: LangiumDocument<T>, cancellationToken: CancellationToken): Promise<LangiumDocument<T>> {
    const uri = document.uri.toString();
    this.previous.set(uri, document.parseResult);
    try {
      return await super.update(document, cancellationToken);
    } finally {
      this.previous.delete(uri);
    }
  }

  protected override parseAsync<T extends AstNode>(uri: URI, text: string, cancellationToken: CancellationToken): Promise<ParseResult<T>> {
    const old = this.previous.get(uri.toString());
    this.previous.delete(uri.toString());
    if (old) {
      const spliced = spliceParse(old, text, (t) => this.parse<AstNode>(uri, t));
      if (spliced) {
        this.counts.spliced++;
        return Promise.resolve(spliced as ParseResult<T>);
      }
    }
    this.counts.whole++;
    return super.parseAsync<T>(uri, text, cancellationToken);
  }
}

/**
 * The parse of `text` from the previous parse `old` (of another text), parsing only the
 * declarations around the change with `parse`; undefined when a whole parse is needed. (See the
 * file's comment.) `old`'s declarations are moved into the result: `old` is not usable after.
 */
export function spliceParse(old: ParseResult<AstNode>, text: string, parse: (text: string) => ParseResult<AstNode>): ParseResult<AstNode> | undefined {
  const program = old.value as AstNode & { declarations?: AstNode[] };
  const root = program.$cstNode as unknown as MovableCst | undefined;
  const declarations = program.declarations;
  if (!root?.content || !declarations || root.container) return undefined;
  const before = root.root.fullText;
  if (typeof before !== 'string' || before === text) return undefined;

  // the changed text: [start, endOld) of the old text is [start, endNew) of the new one
  const limit = Math.min(before.length, text.length);
  let start = 0;
  while (start < limit && before.charCodeAt(start) === text.charCodeAt(start)) start++;
  let endOld = before.length;
  let endNew = text.length;
  while (endOld > start && endNew > start && before.charCodeAt(endOld - 1) === text.charCodeAt(endNew - 1)) {
    endOld--;
    endNew--;
  }

  // the top-level items (declarations and comments between them), and the declaration of each
  const items = root.content;
  const declAt = new Map<number, AstNode>();
  for (const d of declarations) {
    const at = d.$cstNode?.offset;
    if (at === undefined || declAt.has(at)) return undefined;
    declAt.set(at, d);
  }
  if (items.filter((i) => !i.hidden).length !== declarations.length || !items.every((i) => i.hidden || declAt.has(i.offset))) return undefined;

  // the prefix: the items before the last declaration that starts before the change (none: no prefix)
  let first = -1;
  for (let i = 0; i < items.length; i++) if (!items[i].hidden && items[i].offset < start) first = i;
  const midStart = first >= 0 ? items[first].offset : 0;
  // the sentinel: the first declaration after the change (none: parsed to the end)
  let sentinel = -1;
  for (let i = first + 1; i < items.length; i++) {
    if (!items[i].hidden && items[i].offset >= endOld) {
      sentinel = i;
      break;
    }
  }
  const delta = text.length - before.length;
  // errors of the previous version must all lie in the text parsed again (an error at the end of
  // the text has no offset); one at the first token parsed again was found by the declaration
  // before it ("expected … but found `model`"), which is kept
  const oldErrors = [
    ...old.lexerErrors.map((e) => e.offset),
    ...(old.lexerReport?.diagnostics ?? []).map((e) => e.offset),
    ...old.parserErrors.map((e) => (Number.isFinite(e.token.startOffset) ? e.token.startOffset : before.length)),
  ];
  const parsedAgain = (at: number) => at > midStart && (sentinel >= 0 ? at < items[sentinel].end : at <= before.length);
  if (!oldErrors.every(parsedAgain)) return undefined;

  const sentinelStart = sentinel >= 0 ? items[sentinel].offset + delta : text.length;
  const parseEnd = sentinel >= 0 ? items[sentinel].end + delta : text.length;
  // A block comment opened before the sentinel's end and closed after it is one token of the
  // whole text, but not of the text parsed here (it would lex as `/` and `*`).
  if (sentinel >= 0 && !commentsClosed(text, midStart, parseEnd)) return undefined;
  const input = blank(text.slice(0, midStart)) + text.slice(midStart, parseEnd);
  const result = parse(input);
  const fresh = result.value as AstNode & { declarations?: AstNode[] };
  const newRoot = fresh.$cstNode as unknown as MovableCst | undefined;
  if (!newRoot?.content || !fresh.declarations) return undefined;
  // Text nested too deeply (./parser-guard.ts) is judged over the whole text: parsed whole.
  if ((result.lexerReport?.diagnostics ?? []).length > 0) return undefined;
  if (sentinel >= 0) {
    // the sentinel parsed as before, as a top-level declaration, and nothing went wrong from it on
    const last = fresh.declarations[fresh.declarations.length - 1];
    const was = declAt.get(items[sentinel].offset);
    if (!last?.$cstNode || last.$cstNode.offset !== sentinelStart || last.$cstNode.end !== parseEnd || last.$type !== was?.$type) return undefined;
    // (a lexing error, such as a string without its closing quote, may be a token of the whole
    // text that ends after the sentinel)
    if (result.lexerErrors.length > 0) return undefined;
    const newErrors = result.parserErrors.map((e) => (Number.isFinite(e.token.startOffset) ? e.token.startOffset : Infinity));
    if (newErrors.some((at) => at >= sentinelStart)) return undefined;
  }

  // The old root takes the new text and the new items in place of those parsed again (so the
  // prefix's nodes stay as they are); the suffix's nodes move.
  const prefixDecls = declarations.filter((d) => d.$cstNode!.offset < midStart);
  const suffixDecls = sentinel >= 0 ? declarations.filter((d) => d.$cstNode!.offset > items[sentinel].offset) : [];
  const newItems = [...newRoot.content];
  for (const item of newItems) setRoot(item, root);
  if (sentinel >= 0 && sentinel + 1 < items.length) {
    const from = positionAt(before, endOld);
    const to = positionAt(text, endNew);
    if (delta !== 0 || from.line !== to.line || from.character !== to.character) {
      const shift = (p: Range['start']) =>
        p.line === from.line ? { line: to.line, character: p.character + to.character - from.character } : { line: p.line + to.line - from.line, character: p.character };
      for (let i = sentinel + 1; i < items.length; i++) shiftCst(items[i], delta, shift);
    }
  }
  const firstAgain = first >= 0 ? first : 0;
  const lastAgain = sentinel >= 0 ? sentinel : items.length - 1;
  root.root._text = text;
  root._rangeCache = undefined;
  items.splice(firstAgain, lastAgain - firstAgain + 1, ...newItems);
  (root as { astNode?: AstNode }).astNode = fresh;
  (fresh as { $cstNode?: unknown }).$cstNode = root;
  const all = [...prefixDecls, ...fresh.declarations, ...suffixDecls];
  fresh.declarations.splice(0, fresh.declarations.length, ...all);
  all.forEach((d, i) => {
    const m = d as { $container?: AstNode; $containerProperty?: string; $containerIndex?: number };
    m.$container = fresh;
    m.$containerProperty = 'declarations';
    m.$containerIndex = i;
  });
  return result;
}

/** `text` with a space for every character but line breaks. */
function blank(text: string): string {
  const parts: string[] = [];
  let from = 0;
  for (const m of text.matchAll(/\r\n?|\n/g)) {
    parts.push(' '.repeat(m.index - from), m[0]);
    from = m.index + m[0].length;
  }
  parts.push(' '.repeat(text.length - from));
  return parts.join('');
}

/** Whether every `/*` in text[from, to) is closed within it. */
function commentsClosed(text: string, from: number, to: number): boolean {
  for (let i = text.indexOf('/*', from); i >= 0 && i < to - 1; i = text.indexOf('/*', i + 2)) {
    const close = text.indexOf('*/', i + 2);
    if (close < 0 || close + 2 > to) return false;
    i = close;
  }
  return true;
}

/** Gives `node` and every node under it the root `root`. */
function setRoot(node: MovableCst, root: MovableCst): void {
  const stack = [node];
  while (stack.length > 0) {
    const n = stack.pop()!;
    n.root = root.root;
    const content = n.content;
    if (content) for (let i = 0; i < content.length; i++) stack.push(content[i]);
  }
}

/** Shifts the offsets of `node` and every node under it by `delta`, and their positions by `shift`. */
function shiftCst(node: MovableCst, delta: number, shift: (p: Range['start']) => Range['start']): void {
  const stack = [node];
  while (stack.length > 0) {
    const n = stack.pop()!;
    const content = n.content;
    if (content) {
      if (n._rangeCache !== undefined) n._rangeCache = undefined;
      for (let i = 0; i < content.length; i++) stack.push(content[i]);
    } else if (n._offset !== undefined && n._range) {
      n._offset += delta;
      n._range = { start: shift(n._range.start), end: shift(n._range.end) };
    }
  }
}

/** The line and character of `offset` in `text`, counting line breaks as the lexer does (\r\n, \r, \n). */
function positionAt(text: string, offset: number): Range['start'] {
  let line = 0;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 /* \n */ || (c === 13 /* \r */ && text.charCodeAt(i + 1) !== 10)) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, character: offset - lineStart };
}

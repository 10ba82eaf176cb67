/**
 * A guard against text nested so deeply that parsing (a recursive-descent parser), validation,
 * lowering or the engine would exhaust the call stack: `((((…3,000 levels…))))`, thousands of
 * nested calls, `- - - - x`, `a^a^a^…`, or a sum of 100,000 terms.
 *
 * Before the parser sees a text, one pass over its tokens measures how deep each expression
 * nests, weighting what costs the parser most: a call's `(` more than a bracket, a bracket more
 * than a unary minus or `^`, those more than a binary operator (which only deepens the tree). Where
 * the weight exceeds the budget, the tokens are blanked out (replaced by spaces, so every offset
 * stays the same) until the expression is shallow again, and a `syntax-error` diagnostic says why.
 * The rest of the file parses and is checked as usual.
 *
 * If the parser still overflows the stack (a shape the estimate missed), the document parses as
 * empty with one error instead of leaving the parser in a broken state.
 */
import type { ILexingError, IToken } from 'chevrotain';
import {
  DefaultLexer,
  type AstNode,
  type LangiumCompletionParser,
  type LangiumCoreServices,
  type LangiumParser,
  type LexerResult,
  type LexingDiagnostic,
  type ParseResult,
  type TokenizeOptions,
} from 'langium';

/** Weight of one level of nesting, by what opens it. The budget is 1,000. */
export const NESTING_WEIGHTS = {
  /** `name(`: a call (the parser goes through Call, Argument and the whole expression chain). */
  call: 28,
  /** `(`, `[`, `{`. */
  bracket: 19,
  /** `^` (right-associative: the exponent recurses). */
  power: 8,
  /** A unary minus. */
  unary: 4,
  /** `+ - * / @` between operands (only deepens the tree, left-associatively). */
  binary: 1,
} as const;

export const NESTING_BUDGET = 1000;

const OPENERS = new Set(['(', '[', '{']);
const CLOSERS = new Set([')', ']', '}']);
const BINARY = new Set(['+', '-', '*', '/', '@']);
/** Tokens after which a `-` is a unary minus (or at the start of the text). */
const BEFORE_UNARY = new Set(['(', '[', '{', ',', ':', '=', '->', '+', '-', '*', '/', '@', '^']);
/** Tokens that start a new expression at the current level (its operator count restarts). */
const RESETS = new Set([',', ':', '=', '->']);
/** Keywords that start a statement. */
const STATEMENT_KEYWORDS = new Set([
  'const', 'function', 'data', 'model', 'train', 'check', 'input', 'target', 'param', 'loss', 'backward', 'table', 'on',
]);
/** After these, a token on the next line continues the expression. */
const CONTINUES = new Set([...BEFORE_UNARY, '.']);

interface Level {
  /** Weight of the opener (0 for the top level). */
  open: number;
  /** Weight of the operators seen at this level since the last reset. */
  ops: number;
  /** Opened by `{` (a block of statements) rather than `(` or `[`. */
  brace?: boolean;
}

/** Inside `(` or `[` (where a new line continues the expression). */
function openParenOnStack(stack: readonly Level[]): boolean {
  for (let i = stack.length - 1; i > 0; i--) if (!stack[i].brace) return true;
  return false;
}

export interface NestingGuardResult {
  /** The text to parse: the input with over-deep tokens blanked (same length, same lines). */
  text: string;
  /** One diagnostic per over-deep region. */
  diagnostics: LexingDiagnostic[];
}

/** Measures the nesting of `tokens` (of `text`) and blanks what exceeds the budget. */
export function guardNesting(text: string, tokens: readonly IToken[], budget = NESTING_BUDGET): NestingGuardResult {
  const stack: Level[] = [{ open: 0, ops: 0 }];
  let depth = 0; // Σ over the stack of open + ops
  let blanking = false;
  let blankFrom = -1;
  /** [start, end) offsets to blank. */
  const regions: [number, number, IToken][] = [];
  let prev: string | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const kind = t.tokenType.name;
    const top = stack[stack.length - 1];
    const prevToken = i > 0 ? tokens[i - 1] : undefined;
    // Statements need no separators: a line that starts with a name or keyword after a line
    // that ended an operand, outside parentheses, starts a new statement.
    const newStatement =
      prevToken !== undefined &&
      (t.startLine ?? 0) > (prevToken.endLine ?? 0) &&
      !CONTINUES.has(prev ?? '') &&
      !BINARY.has(kind) &&
      kind !== '^' &&
      !CLOSERS.has(kind) &&
      !openParenOnStack(stack);
    if (newStatement) {
      depth -= top.ops;
      top.ops = 0;
    }
    if (OPENERS.has(kind)) {
      const w = kind === '(' && prev === 'ID' ? NESTING_WEIGHTS.call : NESTING_WEIGHTS.bracket;
      stack.push({ open: w, ops: 0, brace: kind === '{' });
      depth += w;
    } else if (CLOSERS.has(kind)) {
      if (stack.length > 1) {
        const l = stack.pop() as Level;
        depth -= l.open + l.ops;
      }
    } else if (kind === '^') {
      top.ops += NESTING_WEIGHTS.power;
      depth += NESTING_WEIGHTS.power;
    } else if (kind === '-' && (prev === undefined || BEFORE_UNARY.has(prev))) {
      top.ops += NESTING_WEIGHTS.unary;
      depth += NESTING_WEIGHTS.unary;
    } else if (BINARY.has(kind)) {
      top.ops += NESTING_WEIGHTS.binary;
      depth += NESTING_WEIGHTS.binary;
    } else if (RESETS.has(kind) || STATEMENT_KEYWORDS.has(kind)) {
      // a new expression (or a statement keyword) at this level
      depth -= top.ops;
      top.ops = 0;
    }
    const over = depth > budget;
    if (over && !blanking) {
      blanking = true;
      blankFrom = i;
    } else if (!over && blanking) {
      // This token brought the depth back within the budget: it is blanked too when it is a
      // closer (its opener was), so the brackets that remain stay balanced.
      const end = CLOSERS.has(kind) ? i + 1 : i;
      regions.push([tokens[blankFrom].startOffset, offsetEnd(tokens[end - 1]), tokens[blankFrom]]);
      blanking = false;
    }
    prev = kind;
  }
  if (blanking) regions.push([tokens[blankFrom].startOffset, offsetEnd(tokens[tokens.length - 1]), tokens[blankFrom]]);
  if (regions.length === 0) return { text, diagnostics: [] };
  let out = '';
  let at = 0;
  const diagnostics: LexingDiagnostic[] = [];
  for (const [start, end, first] of regions) {
    out += text.slice(at, start) + text.slice(start, end).replace(/[^\r\n]/g, ' ');
    at = end;
    diagnostics.push({
      severity: 'error',
      line: first.startLine ?? 1,
      column: first.startColumn ?? 1,
      length: first.image.length,
      offset: first.startOffset,
      message:
        'nested too deeply: this expression goes deeper than NN Lens parses (about 50 nested brackets, 35 nested ' +
        'calls, 120 chained ^, or 1,000 operators in one expression); the rest of it is ignored — split it into named values',
    });
  }
  out += text.slice(at);
  return { text: out, diagnostics };
}

function offsetEnd(t: IToken): number {
  return t.startOffset + t.image.length;
}

function isStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && /call stack/i.test(e.message);
}

const OVERFLOW_MESSAGE =
  'nested too deeply: this text nests deeper than NN Lens can parse; split deep expressions into named values';

/**
 * Langium's lexer, which can be handed the tokens of a text it is about to be asked for: the guard
 * lexes a text before the parser does, and when it changed nothing the parser takes those tokens
 * instead of lexing the same text again. (The default lexer's result depends on the text only.)
 */
export class NnLexer extends DefaultLexer {
  private kept: { text: string; result: LexerResult } | undefined;

  /** The result of lexing `text`, for the next `tokenize` call (if it is about the same text). */
  keep(text: string, result: LexerResult): void {
    this.kept = { text, result };
  }

  override tokenize(text: string, options?: TokenizeOptions): LexerResult {
    const kept = this.kept;
    this.kept = undefined;
    return kept && kept.text === text ? kept.result : super.tokenize(text, options);
  }
}

/** Wraps a document parser with the nesting guard and a stack-overflow fallback. */
export function guardParser(parser: LangiumParser, services: LangiumCoreServices): LangiumParser {
  const parse = parser.parse.bind(parser);
  const lexer = services.parser.Lexer;
  parser.parse = (<T extends AstNode>(input: string, options?: Parameters<LangiumParser['parse']>[1]): ParseResult<T> => {
    const lexed = lexer.tokenize(input);
    const guard = guardNesting(input, lexed.tokens);
    if (guard.text === input && lexer instanceof NnLexer) lexer.keep(input, lexed);
    try {
      const result = parse<T>(guard.text, options);
      if (guard.diagnostics.length > 0) {
        result.lexerReport = { diagnostics: [...(result.lexerReport?.diagnostics ?? []), ...guard.diagnostics] };
      }
      return result;
    } catch (e) {
      if (!isStackOverflow(e)) throw e;
      // The parser's own stack of unfinished nodes is not unwound by the overflow.
      (parser as unknown as { stack: unknown[] }).stack = [];
      const empty = parse<T>('', options);
      const error: ILexingError = { offset: 0, line: 1, column: 1, length: Math.min(input.length, 1), message: OVERFLOW_MESSAGE };
      return { ...empty, lexerErrors: [error] };
    }
  }) as LangiumParser['parse'];
  return parser;
}

/** Wraps the completion parser (it parses the text before the cursor) with the same guard. */
export function guardCompletionParser(parser: LangiumCompletionParser, services: LangiumCoreServices): LangiumCompletionParser {
  const parse = parser.parse.bind(parser);
  const lexer = services.parser.Lexer;
  parser.parse = (input: string) => {
    const guard = guardNesting(input, lexer.tokenize(input).tokens);
    try {
      return parse(guard.text);
    } catch (e) {
      if (!isStackOverflow(e)) throw e;
      return parse('');
    }
  };
  return parser;
}

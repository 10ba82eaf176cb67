/**
 * Syntax error messages in the language's words ("expected an expression but found `@`")
 * instead of the parser's token lists.
 */
import type { IToken, TokenType } from 'chevrotain';
import { DefaultLexerErrorMessageProvider, LangiumParserErrorMessageProvider } from 'langium';

const TERMINALS: Record<string, string> = {
  ID: 'a name',
  NUMBER: 'a number',
  STRING: 'a string',
};

/** Langium marks rule names with invisible characters; strip them. */
const ruleOf = (name: string): string | undefined => RULES[name.replace(/[^\w]/g, '')];

const RULES: Record<string, string> = {
  Expression: 'an expression',
  Additive: 'an expression',
  Multiplicative: 'an expression',
  Unary: 'an expression',
  Power: 'an expression',
  Primary: 'an expression',
  Declaration: 'a declaration (const, function, data, model, train or check)',
  Member: 'a model member (input, target, param, NAME = …, loss or backward)',
  DataDecl: 'a data source',
};

function tokenName(t: TokenType): string {
  const name = t.name.endsWith(':KW') ? t.name.slice(0, -3) : t.name;
  return TERMINALS[name] ?? `'${name}'`;
}

function found(tok: IToken | undefined): string {
  if (!tok || tok.tokenType?.name === 'EOF' || tok.image === '') return 'the end of the file';
  return `\`${tok.image}\``;
}

function alternatives(paths: TokenType[][]): string {
  const names = [...new Set(paths.map((p) => (p[0] ? tokenName(p[0]) : 'nothing')))];
  if (names.length === 1) return names[0];
  return `one of ${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}

export class NnParserErrorMessageProvider extends LangiumParserErrorMessageProvider {
  override buildMismatchTokenMessage(o: { expected: TokenType; actual: IToken; previous: IToken; ruleName: string }): string {
    return `expected ${tokenName(o.expected)} but found ${found(o.actual)}`;
  }

  override buildNotAllInputParsedMessage(o: { firstRedundant: IToken; ruleName: string }): string {
    return `unexpected ${found(o.firstRedundant)}: expected ${RULES.Declaration}`;
  }

  override buildNoViableAltMessage(o: {
    expectedPathsPerAlt: TokenType[][][];
    actual: IToken[];
    previous: IToken;
    customUserDescription: string;
    ruleName: string;
  }): string {
    const what = ruleOf(o.ruleName) ?? alternatives(o.expectedPathsPerAlt.flat());
    return `expected ${what} but found ${found(o.actual[0])}`;
  }

  override buildEarlyExitMessage(o: {
    expectedIterationPaths: TokenType[][];
    actual: IToken[];
    previous: IToken;
    customUserDescription: string;
    ruleName: string;
  }): string {
    const what = ruleOf(o.ruleName) ?? alternatives(o.expectedIterationPaths);
    return `expected ${what} but found ${found(o.actual[0])}`;
  }
}

export class NnLexerErrorMessageProvider extends DefaultLexerErrorMessageProvider {
  override buildUnexpectedCharactersMessage(fullText: string, startOffset: number, length: number): string {
    const text = fullText.substr(startOffset, length);
    return `unexpected character${length === 1 ? '' : 's'} \`${text}\``;
  }
}

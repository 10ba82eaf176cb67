/**
 * The lexer's tokens: Langium's, with one fix for names in any script (§9). A name is
 * `[_\p{L}][\p{L}\p{M}\p{N}_]*` with the `u` flag, which Langium hands to the lexer as a matcher
 * function; Langium decides which keywords a name may continue (`grad` → `gradients`: the
 * keyword's "longer alternative") only for terminals given as a plain RegExp. Here a keyword also
 * gets every terminal matcher that matches the whole keyword.
 */
import { DefaultTokenBuilder, type GrammarAST } from 'langium';
import type { CustomPatternMatcherFunc, TokenType } from 'chevrotain';

export class NnTokenBuilder extends DefaultTokenBuilder {
  protected override findLongerAlt(keyword: GrammarAST.Keyword, terminalTokens: TokenType[]): TokenType[] {
    const alts = super.findLongerAlt(keyword, terminalTokens);
    for (const token of terminalTokens) {
      if (typeof token.PATTERN !== 'function' || alts.includes(token)) continue;
      const m = (token.PATTERN as CustomPatternMatcherFunc)(keyword.value, 0, [], {});
      if (m && m[0].length === keyword.value.length) alts.push(token);
    }
    return alts;
  }
}

/**
 * Source ranges as users expect them: 0-based LSP ranges, plain objects (JSON round-trips them),
 * and an expression's range without the parentheses around it.
 */
import { GrammarUtils, isCompositeCstNode, isLeafCstNode, type AstNode, type CstNode } from 'langium';
import type { Range } from '../engine/ir';
import * as ast from './generated/ast';

export function plainRange(r: { start: { line: number; character: number }; end: { line: number; character: number } }): Range {
  return {
    start: { line: r.start.line, character: r.start.character },
    end: { line: r.end.line, character: r.end.character },
  };
}

const ZERO: Range = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };

/** `( inner )` → inner, repeatedly. */
function unparenthesize(c: CstNode): CstNode {
  let cur = c;
  for (;;) {
    if (!isCompositeCstNode(cur)) return cur;
    const parts = cur.content.filter((x) => !x.hidden);
    if (parts.length === 1) {
      const only = unparenthesize(parts[0]);
      if (only === parts[0]) return cur;
      cur = only;
      continue;
    }
    if (parts.length !== 3) return cur;
    const [open, inner, close] = parts;
    if (!isLeafCstNode(open) || open.text !== '(' || !isLeafCstNode(close) || close.text !== ')') return cur;
    cur = inner;
  }
}

/** The range of a node; for an expression, without enclosing parentheses. */
export function rangeOf(n: AstNode | undefined): Range {
  const c = n?.$cstNode;
  if (!c) return ZERO;
  return plainRange((ast.isExpression(n) ? unparenthesize(c) : c).range);
}

/** The range of a node's property (its name by default), or of the node. */
export function nameRangeOf(n: AstNode, property = 'name'): Range {
  const c = n.$cstNode ? GrammarUtils.findNodeForProperty(n.$cstNode, property) : undefined;
  return c ? plainRange(c.range) : rangeOf(n);
}

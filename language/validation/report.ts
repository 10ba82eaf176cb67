import { isAstNode, type AstNode, type ValidationAcceptor } from 'langium';
import type { Issue } from '../analysis';
import { rangeOf } from '../ranges';

/** Reports analysis issues through a Langium acceptor. */
export function report(accept: ValidationAcceptor, issues: readonly Issue[]): void {
  for (const i of issues) {
    // A property holding a node (a call's callee): that node's range. A plain property (a
    // name): Langium finds it. No property: the node, expressions without their parentheses.
    const child: unknown =
      i.property !== undefined ? (i.node as unknown as Record<string, unknown>)[i.property] : undefined;
    const range = isAstNode(child) ? rangeOf(child) : i.property === undefined ? rangeOf(i.node) : undefined;
    accept(i.severity, i.message, {
      node: i.node as AstNode,
      property: i.property as never,
      range,
      index: i.index,
      code: i.code,
    });
  }
}

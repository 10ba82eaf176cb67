import type { AstNode, ValidationAcceptor } from 'langium';
import type { Issue } from '../analysis';
import { rangeOf } from '../ranges';

/** Reports analysis issues through a Langium acceptor. */
export function report(accept: ValidationAcceptor, issues: readonly Issue[]): void {
  for (const i of issues) {
    accept(i.severity, i.message, {
      node: i.node as AstNode,
      property: i.property as never,
      // Expressions without their parentheses; otherwise Langium's node/property range.
      range: i.property === undefined ? rangeOf(i.node) : undefined,
      index: i.index,
      code: i.code,
    });
  }
}

import type { AstNode, ValidationAcceptor } from 'langium';
import type { Issue } from '../analysis';

/** Reports analysis issues through a Langium acceptor. */
export function report(accept: ValidationAcceptor, issues: readonly Issue[]): void {
  for (const i of issues) {
    accept(i.severity, i.message, {
      node: i.node as AstNode,
      property: i.property as never,
      index: i.index,
      code: i.code,
    });
  }
}

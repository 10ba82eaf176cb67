/**
 * The structure of a model (§2): at least one input, exactly one loss, and warnings for params,
 * inputs, targets and named values the loss does not depend on.
 */
import { AstUtils, type ValidationAcceptor } from 'langium';
import type { NnAnalysisCache } from '../analysis-cache';
import { Codes } from '../../engine/codes';
import * as ast from '../generated/ast';

export function checkModelStructure(cache: NnAnalysisCache, m: ast.ModelDecl, accept: ValidationAcceptor): void {
  const a = cache.of(m).modelAnalysis(m);
  if (a.inputs.length === 0) {
    accept('error', `model '${m.name}' has no input; declare one: input x: [n]`, {
      node: m,
      property: 'name',
      code: Codes.MissingInput,
    });
  }
  if (a.losses.length === 0) {
    accept('error', `model '${m.name}' has no loss; declare exactly one: loss C = …`, {
      node: m,
      property: 'name',
      code: Codes.MissingLoss,
    });
  }
  for (const extra of a.losses.slice(1)) {
    accept(
      'error',
      `model '${m.name}' already has a loss ('${a.losses[0].name}' on line ${(a.losses[0].$cstNode?.range.start.line ?? 0) + 1}); ` +
        'a model has exactly one loss',
      { node: extra, property: 'name', code: Codes.MultipleLoss },
    );
  }

  // Unused declarations: only meaningful when the (single) loss is well defined.
  if (a.losses.length !== 1 || !a.infos.get(a.losses[0])) return;
  const loss = a.losses[0].name;
  const referenced = new Set(
    a.values.flatMap((v) => (v.expr ? AstUtils.streamAst(v.expr).filter(ast.isRef).toArray() : [])).map((r) => r.target?.ref),
  );
  // A duplicate declaration is an error already; its twin gets the uses.
  const names = new Set<string>();
  const duplicate = new Set<ast.Member>();
  for (const x of m.members) {
    if (!('name' in x) || typeof x.name !== 'string') continue;
    if (names.has(x.name)) duplicate.add(x);
    names.add(x.name);
  }
  const why = (n: ast.ParamDecl | ast.InputDecl | ast.TargetDecl | ast.ValueDecl) =>
    referenced.has(n) ? `does not affect the loss '${loss}'` : 'is never used';
  for (const p of a.params) {
    if (!a.reachable.has(p) && !duplicate.has(p)) {
      accept('warning', `param '${p.name}' ${why(p)}; it would never be trained`, {
        node: p,
        property: 'name',
        code: Codes.UnusedParam,
      });
    }
  }
  for (const i of a.inputs) {
    if (!a.reachable.has(i) && !duplicate.has(i)) {
      accept('warning', `input '${i.name}' ${why(i)}`, { node: i, property: 'name', code: Codes.UnusedInput });
    }
  }
  for (const t of a.targets) {
    if (!a.reachable.has(t) && !duplicate.has(t)) {
      accept('warning', `target '${t.name}' ${why(t)}`, { node: t, property: 'name', code: Codes.UnusedTarget });
    }
  }
  // A value may exist only to be used by the backward block (a shared δ): that is a use.
  const usedByBackward = new Set(
    a.backwards.flatMap((b) => AstUtils.streamAst(b).filter(ast.isRef).toArray()).map((r) => r.target?.ref),
  );
  for (const v of a.values) {
    if (ast.isValueDecl(v) && !a.reachable.has(v) && !duplicate.has(v) && !usedByBackward.has(v)) {
      const dense = a.dense.has(v) ? ` (its params ${v.name}.W and ${v.name}.b would never be trained)` : '';
      accept('warning', `value '${v.name}' ${why(v)}${dense}`, { node: v, property: 'name', code: Codes.UnusedValue });
    }
  }
}

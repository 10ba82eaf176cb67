/**
 * `train M on D { … }` and `check M on D { … }` (§7): known options with values of the right
 * type and range, one train and one check block per model, and `gradients: manual` only with a
 * backward block that has a grad line for every param.
 */
import type { ValidationAcceptor } from 'langium';
import type { NnAnalysisCache } from '../analysis-cache';
import { Codes } from '../../engine/codes';
import { readCheckOptions, readTrainOptions } from '../config';
import * as ast from '../generated/ast';
import { report } from './report';

export function checkTrain(cache: NnAnalysisCache, t: ast.TrainDecl, accept: ValidationAcceptor): void {
  const { issues, manual } = readTrainOptions(cache.of(t), t);
  report(accept, issues);
  const model = t.model?.ref;
  if (!manual || !model) return;
  const a = cache.of(model).modelAnalysis(model);
  const params = [
    ...a.params.map((p) => p.name),
    ...[...a.dense.keys()].flatMap((v) => [`${v.name}.W`, `${v.name}.b`]),
  ];
  if (a.backwards.length === 0) {
    accept(
      'error',
      `gradients: manual trains with the backward block, but model '${model.name}' has none; ` +
        `write backward { grad ${params[0] ?? 'W'} = … } with a line for every param (${params.join(', ')})`,
      { node: manual, code: Codes.ManualGradientsIncomplete },
    );
    return;
  }
  const missing = params.filter((p) => !a.gradLines.has(p));
  if (missing.length > 0) {
    accept(
      'error',
      `gradients: manual needs a grad line for every param; model '${model.name}' has none for ${missing.join(', ')}`,
      { node: manual, code: Codes.ManualGradientsIncomplete },
    );
  }
}

export function checkCheck(cache: NnAnalysisCache, c: ast.CheckDecl, accept: ValidationAcceptor): void {
  report(accept, readCheckOptions(cache.of(c), c).issues);
}

/** One train and one check block per model. */
export function checkBlocksPerModel(p: ast.Program, accept: ValidationAcceptor): void {
  const trains = new Map<ast.ModelDecl, ast.TrainDecl>();
  const checks = new Map<ast.ModelDecl, ast.CheckDecl>();
  for (const d of p.declarations) {
    if (!ast.isTrainDecl(d) && !ast.isCheckDecl(d)) continue;
    const m = d.model?.ref;
    if (!m) continue;
    const seen: Map<ast.ModelDecl, ast.TrainDecl | ast.CheckDecl> = ast.isTrainDecl(d) ? trains : checks;
    const first = seen.get(m);
    if (first) {
      const kw = ast.isTrainDecl(d) ? 'train' : 'check';
      accept(
        'error',
        `model '${m.name}' already has a ${kw} block (line ${(first.$cstNode?.range.start.line ?? 0) + 1}); ` +
          `merge the options into one ${kw} block`,
        { node: d, property: 'model', code: ast.isTrainDecl(d) ? Codes.DuplicateTrain : Codes.DuplicateCheck },
      );
    } else {
      (seen as Map<ast.ModelDecl, typeof d>).set(m, d);
    }
  }
}

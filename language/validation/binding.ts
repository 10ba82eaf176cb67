/**
 * `train M on D` / `check M on D` (§6): the model's single input takes the data's features and
 * its target the labels; their shapes must agree (`data-shape-mismatch` on the train line).
 */
import type { ValidationAcceptor } from 'langium';
import type { Range } from 'vscode-languageserver';
import type { NnAnalysisCache } from '../analysis-cache';
import { Codes } from '../../engine/codes';
import type { NnDataContextProvider } from '../data-context';
import * as ast from '../generated/ast';
import { plainRange } from '../ranges';
import { fmtShape, sameShape } from '../../engine/shape';
import { describeDecl } from './data';

/** From the `train`/`check` keyword to the data name: "the train line". */
export function headerRange(d: ast.TrainDecl | ast.CheckDecl): Range | undefined {
  const start = d.$cstNode?.range.start;
  const end = (d.data?.$refNode ?? d.model?.$refNode)?.range.end;
  return start && end ? plainRange({ start, end }) : undefined;
}

export function checkBinding(
  cache: NnAnalysisCache,
  contexts: NnDataContextProvider,
  d: ast.TrainDecl | ast.CheckDecl,
  accept: ValidationAcceptor,
): void {
  const model = d.model?.ref;
  const data = d.data?.ref;
  if (!model || !data) return;
  const kw = ast.isTrainDecl(d) ? 'train' : 'check';
  const head = `${kw} ${model.name} on ${data.name}`;
  const range = headerRange(d);
  const a = cache.of(model).modelAnalysis(model);
  const fail = (code: string, message: string) => accept('error', message, { node: d, range, code });

  if (a.inputs.length > 1) {
    fail(
      Codes.DataBinding,
      `${head}: model '${model.name}' has ${a.inputs.length} inputs (${a.inputs.map((i) => i.name).join(', ')}); ` +
        'a data set binds exactly one input',
    );
    return;
  }
  if (a.inputs.length === 0) return; // missing-input is reported on the model
  if (kw === 'train' && a.targets.length !== 1) {
    fail(
      Codes.DataBinding,
      a.targets.length === 0
        ? `${head}: model '${model.name}' has no target, so there is nothing to train against; declare one: target t: [k]`
        : `${head}: model '${model.name}' has ${a.targets.length} targets (${a.targets.map((t) => t.name).join(', ')}); ` +
            'a data set binds exactly one target',
    );
    return;
  }
  if (a.targets.length > 1) {
    fail(
      Codes.DataBinding,
      `${head}: model '${model.name}' has ${a.targets.length} targets; a data set binds at most one target`,
    );
    return;
  }
  const described = describeDecl(cache, contexts, data);
  if (!described.ok) return; // reported on the data declaration
  const { xShape, yShape } = described.info;
  const input = a.inputs[0];
  const xs = a.declShapes.get(input);
  if (xs && !sameShape(xs, xShape)) {
    fail(
      Codes.DataShapeMismatch,
      `${head}: the data's features are ${fmtShape(xShape)} but input '${input.name}' is ${fmtShape(xs)}`,
    );
  }
  const target = a.targets[0];
  const ts = target ? a.declShapes.get(target) : undefined;
  if (target && ts && !sameShape(ts, yShape)) {
    fail(
      Codes.DataShapeMismatch,
      `${head}: the data's labels are ${fmtShape(yShape)} but target '${target.name}' is ${fmtShape(ts)}`,
    );
  }
}

/**
 * `nnlens/checkGradients`: a full (or fast) gradient check the user asked for, in the worker of
 * full checks, with work-done progress and cancellation; it publishes its findings and answers
 * with per-model summaries and the counts of errors and warnings now shown.
 */
import {
  ErrorCodes,
  LSPErrorCodes,
  ResponseError,
  type CancellationToken,
  type Connection,
  type WorkDoneProgressReporter,
} from 'vscode-languageserver';
import { JobCancelled } from '../engine-host';
import type { NnLensServices } from '../module';
import { CheckGradientsRequestMethod, type CheckGradientsParams, type CheckGradientsResult } from '../protocol';
import { NnLensTraining } from '../training';

export function addCheckGradientsHandler(connection: Connection, Nn: NnLensServices): void {
  connection.onRequest(CheckGradientsRequestMethod, async (p: CheckGradientsParams, token: CancellationToken) => {
    const workDoneToken = (p as { workDoneToken?: string | number }).workDoneToken;
    const reporter =
      workDoneToken !== undefined ? connection.window.attachWorkDoneProgress(workDoneToken) : await connection.window.createWorkDoneProgress();
    return checkGradients(Nn, p, token, reporter);
  });
}

/** Runs the check (also for the lens command of editors other than VS Code). */
export async function checkGradients(
  Nn: NnLensServices,
  p: CheckGradientsParams,
  token: CancellationToken | undefined,
  progress: WorkDoneProgressReporter,
): Promise<CheckGradientsResult> {
  const engine = Nn.lens.Engine;
  const doc = await Nn.lens.Training.document(p.uri);
  const lowered = engine.lowered(doc);
  if (p.model !== undefined && !lowered.program.models.some((m) => m.name === p.model)) {
    NnLensTraining.pickModel(lowered, doc, p.model); // throws the reason
  }
  progress.begin('NN Lens: checking gradients', 0, p.model ? `model ${p.model}` : 'every model', true);
  let cancelJob: (() => void) | undefined;
  const sub = token?.onCancellationRequested(() => cancelJob?.());
  const ptoken = 'token' in progress ? (progress as { token: CancellationToken }).token : undefined;
  const psub = ptoken?.onCancellationRequested(() => cancelJob?.());
  try {
    const { result } = await engine.fullCheck(doc, {
      models: p.model ? [p.model] : undefined,
      mode: p.mode ?? 'full',
      onProgress: (f) => progress.report(Math.round(f * 100)),
      onCancel: (cb) => {
        cancelJob = cb;
        if (token?.isCancellationRequested) cb();
      },
    });
    const models: CheckGradientsResult['models'] = {};
    for (const [name, r] of Object.entries(result.models)) if (r.summary) models[name] = r.summary;
    const published = engine.diagnosticsOf(doc.uri.toString())?.diagnostics ?? [];
    return {
      models,
      errors: published.filter((d) => d.severity === 1).length,
      warnings: published.filter((d) => d.severity === 2).length,
    };
  } catch (e) {
    if (e instanceof JobCancelled) throw new ResponseError(LSPErrorCodes.RequestCancelled, 'the gradient check was cancelled');
    throw e instanceof ResponseError ? e : new ResponseError(ErrorCodes.InternalError, e instanceof Error ? e.message : String(e));
  } finally {
    sub?.dispose();
    psub?.dispose();
    progress.done();
  }
}

/**
 * The `nnlens/trace` request (server/protocol.ts): the trace of one example of a model of an
 * open document, at its initial or last trained weights, for the Backprop view. The trace runs on
 * the main thread: one example in float64 takes milliseconds (the digits net: about 10 ms after
 * its data is loaded, see docs/backprop-view.md).
 */
import type { LangiumDocument } from 'langium';
import type { Connection } from 'vscode-languageserver';
import { traceData, traceModel } from '../../engine/session/trace';
import { NnAst as ast } from '../../language';
import type { NnLensServices } from '../module';
import { TraceRequestMethod, type TraceParams, type TraceResult } from '../protocol';

/** Registers the request on a connection. */
export function addTraceHandler(connection: Connection, Nn: NnLensServices): void {
  connection.onRequest(TraceRequestMethod, (p: TraceParams) => traceRequest(Nn, p));
}

function modelNames(doc: LangiumDocument): string[] {
  const root = doc.parseResult.value;
  return ast.isProgram(root) ? root.declarations.filter(ast.isModelDecl).map((m) => m.name).filter((n): n is string => !!n) : [];
}

export async function traceRequest(Nn: NnLensServices, p: TraceParams): Promise<TraceResult> {
  const engine = Nn.lens.Engine;
  let doc: LangiumDocument;
  try {
    doc = await Nn.lens.Training.document(p.uri);
  } catch (e) {
    return { status: 'unavailable', model: p.model ?? null, message: e instanceof Error ? e.message : String(e), models: [], version: null };
  }
  const version = doc.textDocument.version;
  const models = modelNames(doc);
  const name = p.model ?? models[0];
  if (name === undefined) return { status: 'unavailable', model: null, message: 'this file has no model', models, version };
  if (!models.includes(name)) {
    return { status: 'unavailable', model: name, message: `there is no model ${name} in this file${models.length ? ` (models: ${models.join(', ')})` : ''}`, models, version };
  }
  const lowered = engine.lowered(doc);
  const model = lowered.program.models.find((m) => m.name === name);
  if (!model) {
    const errors = (doc.diagnostics ?? []).filter((d) => d.severity === 1);
    return {
      status: 'errors',
      model: name,
      message: `${name} has ${errors.length === 1 ? 'an error' : 'errors'}: fix ${errors.length === 1 ? 'it' : 'them'} to see its backprop`,
      diagnostics: errors.map((d) => ({
        line: d.range.start.line,
        character: d.range.start.character,
        endLine: d.range.end.line,
        endCharacter: d.range.end.character,
        code: d.code === undefined ? null : String(d.code),
        message: d.message,
      })),
      models,
      version,
    };
  }
  const trained = engine.weightsOf(doc.uri.toString(), name);
  const useTrained = p.weights === 'trained' && trained !== undefined;
  const r = traceModel({
    program: lowered.program,
    model: name,
    example: p.example ?? 1,
    ctx: lowered.ctx,
    params: useTrained ? trained.params : undefined,
    weightsLabel: useTrained ? trained.label : 'the initial weights',
  });
  if (!r.ok) return { status: 'unavailable', model: name, message: r.error.message, models, version };
  return {
    status: 'ok',
    trace: traceData(r.value),
    weights: useTrained ? 'trained' : 'initial',
    trainedAvailable: trained !== undefined,
    models,
    version,
  };
}

/**
 * Training over LSP: `nnlens/train`, `nnlens/stopTraining`, `nnlens/listModels` (the client's
 * quick pick and lenses), and the run's events as notifications (`nnlens/trainProgress`,
 * `nnlens/trainDone`), with code lenses refreshed as runs start, advance an epoch and end.
 */
import { GrammarUtils, type LangiumDocument } from 'langium';
import { MessageType, type Connection } from 'vscode-languageserver';
import { NnAst as ast } from '../../language';
import type { NnLensServices } from '../module';
import {
  ListModelsRequestMethod,
  StopTrainingRequestMethod,
  TrainDoneNotificationMethod,
  TrainProgressNotificationMethod,
  TrainRequestMethod,
  type ListModelsParams,
  type ListModelsResult,
  type ModelInfo,
  type StopTrainingParams,
  type TrainParams,
  type TrainResult,
} from '../protocol';
import { showMessage } from './notify';

/** Lens refreshes are coalesced over this many ms. */
const LENS_REFRESH_DELAY_MS = 50;

export function addTrainingHandlers(connection: Connection, Nn: NnLensServices): void {
  const settings = Nn.lens.Settings;
  const training = Nn.lens.Training;

  let lensTimer: NodeJS.Timeout | undefined;
  const refreshLenses = () => {
    if (!settings.client.codeLensRefresh) return;
    clearTimeout(lensTimer);
    lensTimer = setTimeout(() => void connection.sendRequest('workspace/codeLens/refresh').catch(() => undefined), LENS_REFRESH_DELAY_MS);
  };
  const lastEpochLens = new Map<string, number>();
  training.events = {
    progress: (p) => {
      void connection.sendNotification(TrainProgressNotificationMethod, p);
      if (lastEpochLens.get(p.runId) !== p.epoch) {
        lastEpochLens.set(p.runId, p.epoch);
        refreshLenses();
      }
    },
    done: (d) => {
      lastEpochLens.delete(d.runId);
      void connection.sendNotification(TrainDoneNotificationMethod, d);
      if (!settings.client.isNnLensExtension) {
        const type = d.reason === 'error' ? MessageType.Error : d.reason === 'diverged' ? MessageType.Warning : MessageType.Info;
        showMessage(connection, type, `NN Lens: ${d.model}: ${d.message}${d.weightsPath ? ` — weights in ${d.weightsPath}` : ''}`);
      }
    },
    changed: refreshLenses,
  };

  connection.onRequest(ListModelsRequestMethod, async (p: ListModelsParams): Promise<ListModelsResult> => {
    const doc = await training.document(p.uri);
    return { models: training.withCurrentWeights(doc.uri.toString(), listModels(Nn, doc)) };
  });
  connection.onRequest(TrainRequestMethod, (p: TrainParams): Promise<TrainResult> => training.train(p));
  connection.onRequest(StopTrainingRequestMethod, async (p: StopTrainingParams) => {
    await training.stop(p.runId);
    return null;
  });
}

/** The models of a document for the client's quick pick and lenses. */
export function listModels(Nn: NnLensServices, doc: LangiumDocument): ModelInfo[] {
  const root = doc.parseResult.value;
  if (!ast.isProgram(root)) return [];
  const out: ModelInfo[] = [];
  const trains = root.declarations.filter(ast.isTrainDecl);
  for (const m of root.declarations.filter(ast.isModelDecl)) {
    if (!m.name || !m.$cstNode) continue;
    const n = Nn.analysis.Cache.tryModel(m)?.paramElements ?? 0;
    const params = Number.isFinite(n) ? n : 0;
    const t = trains.find((x) => x.model?.$refText === m.name);
    const nameLine = (GrammarUtils.findNodeForProperty(m.$cstNode, 'name') ?? m.$cstNode).range.start.line;
    out.push({
      name: m.name,
      line: nameLine,
      params,
      hasTrain: t !== undefined,
      endLine: m.$cstNode.range.end.line,
      ...(t?.$cstNode ? { trainRange: { line: t.$cstNode.range.start.line, endLine: t.$cstNode.range.end.line } } : {}),
    });
  }
  return out;
}

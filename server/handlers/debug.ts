/**
 * Requests for tests and diagnosis of the server itself: `nnlens/debug/stats` (memory, the engine
 * workers, documents, training runs, what became of requests about replaced versions, builds,
 * model analyses computed and reused, parses in part and whole) and `nnlens/debug/crashWorker`.
 */
import { DocumentState } from 'langium';
import type { LangiumSharedServices } from 'langium/lsp';
import type { Connection } from 'vscode-languageserver';
import { NnDocumentFactory } from '../../language';
import type { NnLensServices } from '../module';
import { DebugCrashWorkerRequestMethod, DebugStatsRequestMethod, type DebugStatsResult } from '../protocol';

export function addDebugHandlers(connection: Connection, Nn: NnLensServices): void {
  const shared = Nn.shared as LangiumSharedServices;
  const engine = Nn.lens.Engine;
  const factory = shared.workspace.LangiumDocumentFactory;
  let validations = 0;
  shared.workspace.DocumentBuilder.onDocumentPhase(DocumentState.Validated, () => {
    validations++;
  });
  connection.onRequest(DebugStatsRequestMethod, (): DebugStatsResult => {
    const m = process.memoryUsage();
    return {
      memory: { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers },
      workers: { edit: engine.editWorker.stats, full: engine.fullWorker.stats },
      documents: shared.workspace.LangiumDocuments.all.count(),
      trainingRuns: Nn.lens.Training.live.length,
      requests: { ...Nn.lens.Requests.counts },
      validations,
      analyses: { ...Nn.analysis.Cache.counts },
      parses: factory instanceof NnDocumentFactory ? { ...factory.counts } : { spliced: 0, whole: 0 },
    };
  });
  connection.onRequest(DebugCrashWorkerRequestMethod, () => {
    engine.editWorker.crashForTest();
    return null;
  });
}

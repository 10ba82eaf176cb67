/**
 * Code lenses above each model: `▶ Train` (or `■ Stop training` while it trains),
 * `∇ Check gradients`, the parameter count and, in VS Code, `$(debug-alt-small) Step through` (the debugger; a codicon).
 * They invoke the client's commands (`ClientCommands`, arguments `[uri, model]`); other editors
 * run them through `workspace/executeCommand`, which the server then handles itself.
 */
import type { LangiumDocument } from 'langium';
import type { CodeLensProvider } from 'langium/lsp';
import type { CodeLens, CodeLensParams } from 'vscode-languageserver';
import { NnAst as ast } from '../language';
import { count } from './markup';
import type { NnLensServices } from './module';
import {
  ClientCommands,
  ShowBackpropCommand,
  type CheckGradientsCommandArgs,
  type ShowBackpropCommandArgs,
  type StepThroughCommandArgs,
  type StopTrainingCommandArgs,
  type TrainCommandArgs,
} from './protocol';

export class NnCodeLensProvider implements CodeLensProvider {
  constructor(private readonly services: NnLensServices) {}

  provideCodeLens(document: LangiumDocument, _params: CodeLensParams): CodeLens[] {
    const root = document.parseResult.value;
    if (!ast.isProgram(root)) return [];
    const uri = document.uri.toString();
    const training = this.services.lens.Training;
    const cache = this.services.analysis.Cache;
    const trained = new Set(root.declarations.filter(ast.isTrainDecl).map((t) => t.model?.$refText));
    const lenses: CodeLens[] = [];
    for (const m of root.declarations.filter(ast.isModelDecl)) {
      if (!m.name || !m.$cstNode) continue;
      const line = m.$cstNode.range.start.line;
      const range = { start: { line, character: 0 }, end: { line, character: 0 } };
      const live = training.liveRun(uri, m.name);
      if (live) {
        const p = live.progress;
        const where = p ? ` (epoch ${p.epoch}/${live.epochs})` : '';
        lenses.push({
          range,
          command: {
            title: `■ Stop training${where}`,
            command: ClientCommands.stopTraining,
            arguments: [live.runId] satisfies StopTrainingCommandArgs,
          },
        });
      } else if (trained.has(m.name)) {
        lenses.push({
          range,
          command: { title: '▶ Train', command: ClientCommands.train, arguments: [uri, m.name] satisfies TrainCommandArgs },
        });
      }
      lenses.push({
        range,
        command: {
          title: '∇ Check gradients',
          command: ClientCommands.checkGradients,
          arguments: [uri, m.name] satisfies CheckGradientsCommandArgs,
        },
      });
      // the Backprop view is the VS Code extension's (other editors: nnlens graph)
      if (this.services.lens.Settings.client.isNnLensExtension) {
        lenses.push({
          range,
          command: { title: '◇ Backprop', command: ShowBackpropCommand, arguments: [uri, m.name] satisfies ShowBackpropCommandArgs },
        });
      }
      if (this.services.lens.Settings.client.isNnLensExtension) {
        // the debugger is VS Code's (other editors start `nnlens dap` from their DAP client)
        lenses.push({
          range,
          command: { title: '$(debug-alt-small) Step through', command: ClientCommands.stepThrough, arguments: [uri, m.name] satisfies StepThroughCommandArgs },
        });
      }
      const params = cache.tryModel(m)?.paramElements ?? NaN;
      if (Number.isFinite(params)) {
        lenses.push({ range, command: { title: `${count(params)} param${params === 1 ? '' : 's'}`, command: '' } });
      }
    }
    return lenses;
  }
}

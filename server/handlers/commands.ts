/**
 * `workspace/executeCommand`: the code lenses' commands (train, stop training, check gradients)
 * for editors other than VS Code (the extension runs them itself). The outcome is also shown as
 * a message, since such editors show nothing else of a command's answer.
 */
import { ErrorCodes, MessageType, ResponseError, type Connection } from 'vscode-languageserver';
import type { NnLensServices } from '../module';
import { ClientCommands } from '../protocol';
import { refuse } from '../training';
import { checkGradients } from './check';
import { showMessage } from './notify';

export function addExecuteCommandHandler(connection: Connection, Nn: NnLensServices): void {
  const training = Nn.lens.Training;
  connection.onExecuteCommand(async (p, token) => {
    const args = p.arguments ?? [];
    try {
      if (p.command === ClientCommands.train) {
        const r = await training.train({ uri: String(args[0] ?? ''), model: typeof args[1] === 'string' ? args[1] : undefined });
        showMessage(connection, MessageType.Info, `NN Lens: training ${r.model}: ${r.epochs} epochs × ${r.stepsPerEpoch} steps (run ${r.runId})`);
        return r;
      }
      if (p.command === ClientCommands.stopTraining) {
        const id = typeof args[0] === 'string' ? args[0] : training.live[0]?.runId;
        if (!id) throw refuse('no training run is live');
        await training.stop(id);
        return null;
      }
      if (p.command === ClientCommands.checkGradients) {
        const r = await checkGradients(
          Nn,
          { uri: String(args[0] ?? ''), model: typeof args[1] === 'string' ? args[1] : undefined, mode: 'full' },
          token,
          await connection.window.createWorkDoneProgress(),
        );
        const worst = Object.entries(r.models)
          .map(([m, s]) => `${m}: max relative error ${Math.max(0, ...Object.values(s.params).map((x) => x.maxRelError)).toExponential(1)}`)
          .join('; ');
        showMessage(connection, MessageType.Info, `NN Lens: full gradient check: ${r.errors} error(s), ${r.warnings} warning(s). ${worst}`);
        return r;
      }
    } catch (e) {
      showMessage(connection, MessageType.Error, `NN Lens: ${e instanceof Error ? e.message : String(e)}`);
      throw e;
    }
    throw new ResponseError(ErrorCodes.InvalidParams, `unknown command ${p.command}`);
  });
}

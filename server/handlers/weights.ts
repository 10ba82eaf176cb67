/**
 * Weights trained elsewhere (server/weights-file.ts): `nnlens/loadWeights` (the command "NN Lens:
 * Load Weights…"). Creating the service also starts applying the `nnlens.weightsFile` setting as
 * documents are checked.
 */
import type { Connection } from 'vscode-languageserver';
import type { NnLensServices } from '../module';
import { LoadWeightsRequestMethod, type LoadWeightsParams, type LoadWeightsResult } from '../protocol';

export function addWeightsHandlers(connection: Connection, Nn: NnLensServices): void {
  const files = Nn.lens.WeightsFiles;
  const training = Nn.lens.Training;
  connection.onRequest(LoadWeightsRequestMethod, (p: LoadWeightsParams): Promise<LoadWeightsResult> => files.load(p, (uri) => training.document(uri)));
}

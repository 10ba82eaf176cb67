/**
 * "NN Lens: Load Weights…": a weights file (P.json) trained elsewhere — by `nnlens train`, an
 * exported project's train.py — becomes the current weights of a model of the active `.nn` file,
 * so that hovers, checks and the Backprop view show the model as trained. The server reads and
 * fits the file (`nnlens/loadWeights`); this side picks the file and, when it fits several
 * models, the model at the cursor.
 *
 * Arguments (optional, for keybindings and tests): `[uri, path, model]`.
 */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import {
  ListModelsRequestMethod, LoadWeightsRequestMethod,
  type ListModelsParams, type ListModelsResult, type LoadWeightsParams, type LoadWeightsResult,
} from '../server/protocol';
import { modelAt } from './models';

export async function loadWeights(
  server: { client(): Promise<LanguageClient | undefined> },
  log: vscode.LogOutputChannel,
  uriArg?: unknown,
  pathArg?: unknown,
  modelArg?: unknown,
): Promise<LoadWeightsResult | undefined> {
  const editor = vscode.window.activeTextEditor;
  const uri = typeof uriArg === 'string' ? vscode.Uri.parse(uriArg) : editor?.document.languageId === 'nn' ? editor.document.uri : undefined;
  if (!uri) {
    void vscode.window.showInformationMessage('NN Lens: open a .nn file to load weights for one of its models.');
    return undefined;
  }
  let path = typeof pathArg === 'string' ? pathArg : undefined;
  if (!path) {
    const picked = await vscode.window.showOpenDialog({
      canSelectMany: false,
      openLabel: 'Load Weights',
      filters: { 'Weights (P.json)': ['json'] },
      defaultUri: vscode.Uri.joinPath(uri, '..'),
    });
    if (!picked?.[0]) return undefined;
    path = picked[0].toString();
  }
  const client = await server.client();
  if (!client) return undefined;
  const send = (model?: string) =>
    client.sendRequest<LoadWeightsResult>(LoadWeightsRequestMethod, { uri: uri.toString(), path: path!, ...(model ? { model } : {}) } satisfies LoadWeightsParams);
  let res = await send(typeof modelArg === 'string' ? modelArg : undefined);
  if (res.status === 'error' && res.message.includes('fits several models') && editor?.document.uri.toString() === uri.toString()) {
    const models = await client.sendRequest<ListModelsResult>(ListModelsRequestMethod, { uri: uri.toString() } satisfies ListModelsParams);
    const here = modelAt(models.models, editor.selection.active.line);
    if (here) res = await send(here.name);
  }
  if (res.status === 'ok') {
    log.info(`loaded ${path} for model ${res.model}: hovers now show ${res.label}`);
    void vscode.window.showInformationMessage(`NN Lens: ${res.model} now shows ${res.label}.`);
  } else {
    log.warn(`could not load ${path}: ${res.message}`);
    void vscode.window.showErrorMessage(`NN Lens: ${res.message}`);
  }
  return res;
}

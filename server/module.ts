/**
 * The language server's services: Langium's LSP services for `.nn` plus ours (engine-backed
 * diagnostics and hovers, inlay hints, code lenses, completion of built-ins, signature help,
 * formatting, quick fixes, semantic tokens, the outline, training).
 */
import type { Module } from 'langium';
import type { DefaultSharedModuleContext, LangiumSharedServices, PartialLangiumLSPServices } from 'langium/lsp';
import { createNnServices, type NnServices } from '../language';
import { CoalescedBuilds } from './builds';
import { NnCodeActionProvider } from './code-actions';
import { NnCodeLensProvider } from './code-lens';
import { NnCompletionProvider } from './completion';
import { NnLensEngine } from './engine-service';
import { NnFormatter } from './formatter';
import { NnHoverProvider } from './hover';
import { NnInlayHintProvider } from './inlay-hints';
import { NnRenameProvider } from './rename';
import { NnSemanticTokenProvider } from './semantic-tokens';
import { NnLensSettingsService } from './settings';
import { NnSignatureHelpProvider } from './signature-help';
import { StaleRequests } from './stale-requests';
import { NnDocumentSymbolProvider } from './symbols';
import { MessageTraffic } from './traffic';
import { NnLensTraining } from './training';
import { NnWeightsFiles } from './weights-file';

export type NnLensAddedServices = {
  lens: {
    Settings: NnLensSettingsService;
    Engine: NnLensEngine;
    Training: NnLensTraining;
    /** The dispatch of the client's messages (when the queue runs dry). */
    Traffic: MessageTraffic;
    /** Builds of edited documents, once per burst; the version each open document was parsed from. */
    Builds: CoalescedBuilds;
    /** Requests about replaced document versions: answered ContentModified without work. */
    Requests: StaleRequests;
    /** Weights trained elsewhere: nnlens.weightsFile and nnlens/loadWeights. */
    WeightsFiles: NnWeightsFiles;
  };
};

export type NnLensServices = NnServices & NnLensAddedServices;

export interface NnLensModuleOptions {
  /** The engine worker script (default: out/worker.js next to the bundle). */
  workerScript?: string;
  /** The message strategy of the connection (without one, the queue always counts as empty). */
  traffic?: MessageTraffic;
}

export function nnLensModule(opts: NnLensModuleOptions = {}): Module<NnLensServices, PartialLangiumLSPServices & NnLensAddedServices> {
  return {
    lens: {
      Settings: () => new NnLensSettingsService(),
      Engine: (s) => new NnLensEngine(s, s.lens.Settings, opts.workerScript, s.lens.Builds),
      Training: (s) => new NnLensTraining(s, s.lens.Engine, s.lens.Settings, s.lens.Requests),
      Traffic: () => opts.traffic ?? new MessageTraffic(),
      Builds: (s) => new CoalescedBuilds(s.shared as LangiumSharedServices, s.lens.Traffic),
      Requests: (s) => new StaleRequests(s.shared as LangiumSharedServices, s.lens.Traffic, s.lens.Builds),
      WeightsFiles: (s) => new NnWeightsFiles(s, s.lens.Engine, s.lens.Settings, (m) => s.lens.Engine.logger.info(m)),
    },
    lsp: {
      HoverProvider: (s) => new NnHoverProvider(s),
      InlayHintProvider: (s) => new NnInlayHintProvider(s),
      CodeLensProvider: (s) => new NnCodeLensProvider(s),
      CompletionProvider: (s) => new NnCompletionProvider(s),
      SignatureHelp: (s) => new NnSignatureHelpProvider(s),
      Formatter: (s) => new NnFormatter(s),
      CodeActionProvider: (s) => new NnCodeActionProvider(s),
      SemanticTokenProvider: (s) => new NnSemanticTokenProvider(s),
      DocumentSymbolProvider: (s) => new NnDocumentSymbolProvider(s),
      RenameProvider: (s) => new NnRenameProvider(s),
    },
  };
}

/** The services of the language server (with `{ connection, ...NodeFileSystem }`) or of tests. */
export function createNnLensServices(context?: DefaultSharedModuleContext, opts: NnLensModuleOptions = {}) {
  return createNnServices<NnLensAddedServices>(
    context,
    nnLensModule(opts) as Module<NnServices & NnLensAddedServices, NnLensAddedServices>,
  );
}

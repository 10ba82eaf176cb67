/**
 * Dependency injection for the `.nn` language, in Langium's style: the generated modules, the
 * default core + LSP modules, and ours. The language server adds its own services (hover,
 * inlay hints, …) on top; the CLI uses the same services without a connection.
 */
import { EmptyFileSystem, inject, type Module } from 'langium';
import {
  createDefaultModule,
  createDefaultSharedModule,
  type DefaultSharedModuleContext,
  type LangiumServices,
  type LangiumSharedServices,
  type PartialLangiumServices,
} from 'langium/lsp';
import { NnAnalysisCache } from './analysis-cache';
import { NnDataContextProvider } from './data-context';
import { NnDocumentValidator } from './document-validator';
import { NnGeneratedModule, NnGeneratedSharedModule } from './generated/module';
import { NnLexerErrorMessageProvider, NnParserErrorMessageProvider } from './parser-messages';
import { NnScopeComputation } from './scope';
import { registerValidationChecks } from './validation/nn-validator';

export type NnAddedServices = {
  analysis: {
    /** Per-document analysis (shapes, consts, functions, models), computed once per build. */
    Cache: NnAnalysisCache;
    /** Where data files of a document are looked up (base folder, workspace root). */
    DataContext: NnDataContextProvider;
  };
};

export type NnServices = LangiumServices & NnAddedServices;

export const NnModule: Module<NnServices, PartialLangiumServices & NnAddedServices> = {
  analysis: {
    Cache: (services) => new NnAnalysisCache(services.shared),
    DataContext: (services) => new NnDataContextProvider(services.shared),
  },
  parser: {
    ParserErrorMessageProvider: () => new NnParserErrorMessageProvider(),
    LexerErrorMessageProvider: () => new NnLexerErrorMessageProvider(),
  },
  references: {
    ScopeComputation: (services) => new NnScopeComputation(services),
  },
  validation: {
    DocumentValidator: (services) => new NnDocumentValidator(services),
  },
};

/**
 * Creates the shared and language services. Pass `{ connection, ...NodeFileSystem }` for a
 * language server, `NodeFileSystem` or `EmptyFileSystem` (the default) without one. Extra modules
 * (the server's hover, inlay hints, …) are merged last.
 */
export function createNnServices(
  context: DefaultSharedModuleContext = EmptyFileSystem,
  ...extra: Module<NnServices, unknown>[]
): { shared: LangiumSharedServices; Nn: NnServices } {
  const shared = inject(createDefaultSharedModule(context), NnGeneratedSharedModule);
  const Nn = inject(createDefaultModule({ shared }), NnGeneratedModule, NnModule, ...(extra as Module<NnServices>[]));
  shared.ServiceRegistry.register(Nn);
  registerValidationChecks(Nn);
  if (!context.connection) {
    // Without an LSP client the workspace is never initialized; there is nothing to index.
    shared.workspace.ConfigurationProvider.initialized({});
  }
  return { shared, Nn };
}

/**
 * Dependency injection for the `.nn` language, in Langium's style: the generated modules, the
 * default core + LSP modules, and ours. The language server adds its own services (hover,
 * inlay hints, …) on top; the CLI uses the same services without a connection.
 */
import { createCompletionParser, createLangiumParser, EmptyFileSystem, inject, type DeepPartial, type Module } from 'langium';
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
import { guardCompletionParser, guardParser } from './parser-guard';
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
    // Text nested too deeply for a recursive-descent parser is cut short with an error.
    LangiumParser: (services) => guardParser(createLangiumParser(services), services),
    CompletionParser: (services) => guardCompletionParser(createCompletionParser(services), services),
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
 * language server, `NodeFileSystem` or `EmptyFileSystem` (the default) without one.
 *
 * `extra` is merged last: a module that adds services (type `E`, e.g. the server's hover and
 * inlay hints) and/or overrides default ones.
 */
export function createNnServices<E extends object = object>(
  context: DefaultSharedModuleContext = EmptyFileSystem,
  extra?: Module<NnServices & E, DeepPartial<NnServices> & E>,
): { shared: LangiumSharedServices; Nn: NnServices & E } {
  const shared = inject(createDefaultSharedModule(context), NnGeneratedSharedModule);
  const Nn = inject(
    createDefaultModule({ shared }),
    NnGeneratedModule,
    NnModule,
    (extra ?? {}) as Module<NnServices & E, E>,
  ) as NnServices & E;
  shared.ServiceRegistry.register(Nn);
  registerValidationChecks(Nn);
  if (!context.connection) {
    // Without an LSP client nobody sends `initialized`; resolve the configuration ourselves.
    void shared.workspace.ConfigurationProvider.initialized({});
  }
  return { shared, Nn };
}

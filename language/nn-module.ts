/**
 * Dependency injection for the `.nn` language, in Langium's style: the generated modules, the
 * default core + LSP modules, and ours. The language server adds its own services (hover,
 * inlay hints, …) on top; the CLI uses the same services without a connection.
 */
import {
  createCompletionParser,
  createLangiumParser,
  DefaultDocumentBuilder,
  EmptyFileSystem,
  inject,
  type DeepPartial,
  type LangiumDocument,
  type LangiumSharedCoreServices,
  type Module,
  type URI,
} from 'langium';
import {
  createDefaultModule,
  createDefaultSharedModule,
  type DefaultSharedModuleContext,
  type LangiumServices,
  type LangiumSharedServices,
  type PartialLangiumServices,
} from 'langium/lsp';
import { NnAnalysisCache } from './analysis-cache';
import { NnAstNodeDescriptionProvider, NnIndexManager, NnLinker, NnReferenceDescriptionProvider } from './build-phases';
import { NnDataContextProvider } from './data-context';
import { NnDocumentValidator, NnValidationRegistry } from './document-validator';
import { NnGeneratedModule, NnGeneratedSharedModule } from './generated/module';
import type { CancellationToken } from 'vscode-languageserver';
import { guardCompletionParser, guardParser, NnLexer } from './parser-guard';
import { NnDocumentFactory } from './incremental-parse';
import { NnLexerErrorMessageProvider, NnParserErrorMessageProvider } from './parser-messages';
import { NnScopeComputation, NnScopeProvider } from './scope';
import { NnTokenBuilder } from './tokens';
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
    Lexer: (services) => new NnLexer(services),
    // Text nested too deeply for a recursive-descent parser is cut short with an error.
    LangiumParser: (services) => guardParser(createLangiumParser(services), services),
    CompletionParser: (services) => guardCompletionParser(createCompletionParser(services), services),
    ParserErrorMessageProvider: () => new NnParserErrorMessageProvider(),
    LexerErrorMessageProvider: () => new NnLexerErrorMessageProvider(),
    // names in any script: keywords still yield to a longer name (`gradients`, `inputs`)
    TokenBuilder: () => new NnTokenBuilder(),
  },
  references: {
    ScopeComputation: (services) => new NnScopeComputation(services),
    ScopeProvider: (services) => new NnScopeProvider(services),
    Linker: (services) => new NnLinker(services),
  },
  workspace: {
    AstNodeDescriptionProvider: (services) => new NnAstNodeDescriptionProvider(services),
    ReferenceDescriptionProvider: (services) => new NnReferenceDescriptionProvider(services),
  },
  validation: {
    DocumentValidator: (services) => new NnDocumentValidator(services),
    ValidationRegistry: (services) => new NnValidationRegistry(services),
  },
};

/**
 * Names are per file (§1): a document never refers to another, so a change to one `.nn` document
 * never requires relinking the others. (Langium's default relinks every document that has an
 * unresolved reference whenever any document changes — in .nn files every call of a built-in is
 * one — which revalidated the whole workspace on each keystroke.) A change to any other file (a
 * csv a `data` declaration reads) still revalidates every document.
 */
export class NnDocumentBuilder extends DefaultDocumentBuilder {
  private otherFilesChanged = false;

  override async update(changed: URI[], deleted: URI[], cancelToken?: CancellationToken): Promise<void> {
    this.otherFilesChanged = [...changed, ...deleted].some((u) => !u.path.endsWith('.nn'));
    try {
      await super.update(changed, deleted, cancelToken);
    } finally {
      this.otherFilesChanged = false;
    }
  }

  protected override shouldRelink(_document: LangiumDocument, _changedUris: Set<string>): boolean {
    return this.otherFilesChanged;
  }
}

export const NnSharedModule = {
  workspace: {
    DocumentBuilder: (services: LangiumSharedCoreServices) => new NnDocumentBuilder(services),
    IndexManager: (services: LangiumSharedCoreServices) => new NnIndexManager(services),
    LangiumDocumentFactory: (services: LangiumSharedCoreServices) => new NnDocumentFactory(services),
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
  const shared = inject(
    createDefaultSharedModule(context),
    NnGeneratedSharedModule,
    NnSharedModule as unknown as Module<LangiumSharedServices, DeepPartial<LangiumSharedServices>>,
  );
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

/**
 * Langium's build phases after parsing, doing what `.nn` files need and no more (issue 13: on a
 * 1,000-line file every keystroke runs each phase over the whole document, and the phases' own
 * bookkeeping — a stream object and an awaited promise per node, a path string and two text
 * ranges per symbol, a description per reference — allocated about as much as parsing).
 *
 * - Linking (`NnLinker`): the same references linked in the same order as Langium's linker, walking
 *   the tree directly and looking for a cancellation (and giving other work a turn) every few
 *   hundred nodes instead of at every node.
 * - Symbols (`NnAstNodeDescriptionProvider`): a symbol's path and ranges are worked out when first
 *   read (go to definition, references, rename), not for every symbol on every build.
 * - The reference index (`NnIndexManager`, `NnReferenceDescriptionProvider`): references are
 *   described when first asked for (find references, rename, highlights), not after every build.
 *   Names are per file, so no build needs them to tell which other documents a change affects.
 */
import {
  AstUtils,
  CstUtils,
  DefaultAstNodeDescriptionProvider,
  DefaultIndexManager,
  DefaultLinker,
  DefaultReferenceDescriptionProvider,
  interruptAndCheck,
  isAstNode,
  isMultiReference,
  isReference,
  type AstNode,
  type AstNodeDescription,
  type LangiumDocument,
  type ReferenceDescription,
  type Stream,
  type URI,
} from 'langium';
import { CancellationToken } from 'vscode-languageserver';

/** Nodes visited between two looks for a cancellation (Langium's phases look at every node). */
export const NODES_PER_CHECK = 256;

type Generic = Record<string, unknown>;

/**
 * Visits `root` and every node under it in tree order (that of `AstUtils.streamAst`); `visit`
 * answers false to skip a node's children. Every NODES_PER_CHECK nodes it awaits
 * `interruptAndCheck` (which throws when `cancelToken` is cancelled, and now and then lets other
 * work run).
 */
export async function walkTree(
  root: AstNode,
  cancelToken: CancellationToken,
  visit: (node: AstNode) => boolean | void | Promise<boolean | void>,
): Promise<void> {
  const stack: AstNode[] = [root];
  let count = 0;
  while (stack.length > 0) {
    const node = stack.pop() as AstNode;
    if (++count % NODES_PER_CHECK === 0) await interruptAndCheck(cancelToken);
    let go = visit(node);
    if (go instanceof Promise) go = await go;
    if (go === false) continue;
    pushChildren(node, stack);
  }
}

/** Pushes `node`'s children so that they pop in tree order. */
function pushChildren(node: AstNode, stack: AstNode[]): void {
  const keys = Object.keys(node);
  for (let i = keys.length - 1; i >= 0; i--) {
    const k = keys[i];
    if (k.charCodeAt(0) === 36 /* $ */) continue;
    const v = (node as unknown as Generic)[k];
    if (Array.isArray(v)) {
      for (let j = v.length - 1; j >= 0; j--) if (isAstNode(v[j])) stack.push(v[j]);
    } else if (isAstNode(v)) stack.push(v);
  }
}

export class NnLinker extends DefaultLinker {
  override async link(document: LangiumDocument, cancelToken = CancellationToken.None): Promise<void> {
    if (this.profiler?.isActive('linking')) return super.link(document, cancelToken);
    await walkTree(document.parseResult.value, cancelToken, (node) => {
      // (the references of a node before those of its children, in property order: as streamReferences)
      for (const property of Object.keys(node)) {
        if (property.charCodeAt(0) === 36 /* $ */) continue;
        const value = (node as unknown as Generic)[property];
        if (isReference(value) || isMultiReference(value)) this.doLink({ reference: value, container: node, property }, document);
        else if (Array.isArray(value)) {
          value.forEach((element, index) => {
            if (isReference(element) || isMultiReference(element)) this.doLink({ reference: element, container: node, property, index }, document);
          });
        }
      }
    });
  }
}

/** Langium's descriptions of symbols, with the path and ranges worked out when first read. */
export class NnAstNodeDescriptionProvider extends DefaultAstNodeDescriptionProvider {
  override createDescription(node: AstNode, name: string | undefined, document?: LangiumDocument): AstNodeDescription {
    const doc = document ?? AstUtils.getDocument(node);
    name ??= this.nameProvider.getName(node);
    if (!name) throw new Error(`Node at path ${this.astNodeLocator.getAstNodePath(node)} has no name.`);
    const locator = this.astNodeLocator;
    const names = this.nameProvider;
    let path: string | undefined;
    let nameSegment: AstNodeDescription['nameSegment'];
    let selectionSegment: AstNodeDescription['selectionSegment'];
    return {
      node,
      name,
      type: node.$type,
      documentUri: doc.uri,
      get path() {
        return (path ??= locator.getAstNodePath(node));
      },
      get nameSegment() {
        return (nameSegment ??= CstUtils.toDocumentSegment(names.getNameNode(node) ?? node.$cstNode));
      },
      get selectionSegment() {
        return (selectionSegment ??= CstUtils.toDocumentSegment(node.$cstNode));
      },
    };
  }
}

/** Langium's reference descriptions, with a synchronous way to describe a whole document. */
export class NnReferenceDescriptionProvider extends DefaultReferenceDescriptionProvider {
  describe(document: LangiumDocument): ReferenceDescription[] {
    const out: ReferenceDescription[] = [];
    for (const node of AstUtils.streamAst(document.parseResult.value)) {
      AstUtils.streamReferences(node).forEach((info) => {
        if (!info.reference.error) out.push(...this.createInfoDescriptions(info));
      });
    }
    return out;
  }
}

/** Langium's index, with each document's references described when the index is first asked about them. */
export class NnIndexManager extends DefaultIndexManager {
  private readonly pending = new Map<string, LangiumDocument>();

  override async updateReferences(document: LangiumDocument, cancelToken = CancellationToken.None): Promise<void> {
    if (!(this.serviceRegistry.getServices(document.uri).workspace.ReferenceDescriptionProvider instanceof NnReferenceDescriptionProvider)) {
      return super.updateReferences(document, cancelToken);
    }
    const uri = document.uri.toString();
    this.referenceIndex.delete(uri);
    this.pending.set(uri, document);
  }

  override removeReferences(uri: URI): void {
    super.removeReferences(uri);
    this.pending.delete(uri.toString());
  }

  override findAllReferences(targetNode: AstNode, astNodePath: string): Stream<ReferenceDescription> {
    this.describePending();
    return super.findAllReferences(targetNode, astNodePath);
  }

  override isAffected(document: LangiumDocument, changedUris: Set<string>): boolean {
    this.describePending();
    return super.isAffected(document, changedUris);
  }

  /** Describes the references of the documents linked since the index was last asked. */
  private describePending(): void {
    for (const [uri, document] of this.pending) {
      this.pending.delete(uri);
      const provider = this.serviceRegistry.getServices(document.uri).workspace.ReferenceDescriptionProvider as NnReferenceDescriptionProvider;
      this.referenceIndex.set(uri, provider.describe(document));
    }
  }
}

/**
 * Semantic tokens: what each name is, so an editor can colour params, inputs, named values,
 * consts, functions and built-ins differently (the TextMate grammar only knows words).
 */
import type { AstNode } from 'langium';
import { AbstractSemanticTokenProvider, type SemanticTokenAcceptor } from 'langium/lsp';
import { SemanticTokenModifiers, SemanticTokenTypes } from 'vscode-languageserver';
import { BUILTIN_FUNCTIONS, DATA_SOURCES, INITIALIZERS, NnAst as ast, OPTIMIZERS } from '../language';
import type { NnLensServices } from './module';

const BUILTIN = new Set(BUILTIN_FUNCTIONS.map((b) => b.name));
const CONFIG = new Set([...INITIALIZERS, ...DATA_SOURCES, ...OPTIMIZERS].map((c) => c.name));

function typeOf(sym: AstNode | undefined): string | undefined {
  if (ast.isParamDecl(sym)) return SemanticTokenTypes.property;
  if (ast.isInputDecl(sym) || ast.isTargetDecl(sym)) return SemanticTokenTypes.parameter;
  if (ast.isValueDecl(sym) || ast.isLossDecl(sym)) return SemanticTokenTypes.variable;
  if (ast.isConstDecl(sym)) return SemanticTokenTypes.variable;
  if (ast.isFunctionDecl(sym)) return SemanticTokenTypes.function;
  if (ast.isFunctionParam(sym)) return SemanticTokenTypes.parameter;
  if (ast.isModelDecl(sym)) return SemanticTokenTypes.class;
  if (ast.isDataDecl(sym)) return SemanticTokenTypes.variable;
  return undefined;
}

export class NnSemanticTokenProvider extends AbstractSemanticTokenProvider {
  constructor(services: NnLensServices) {
    super(services);
  }

  protected highlightElement(node: AstNode, acceptor: SemanticTokenAcceptor): void {
    const decl = [SemanticTokenModifiers.declaration];
    if (
      ast.isParamDecl(node) ||
      ast.isInputDecl(node) ||
      ast.isTargetDecl(node) ||
      ast.isValueDecl(node) ||
      ast.isLossDecl(node) ||
      ast.isFunctionDecl(node) ||
      ast.isFunctionParam(node) ||
      ast.isModelDecl(node) ||
      ast.isDataDecl(node)
    ) {
      if (node.name) acceptor({ node, property: 'name', type: typeOf(node)!, modifier: decl });
    } else if (ast.isConstDecl(node)) {
      if (node.name) acceptor({ node, property: 'name', type: SemanticTokenTypes.variable, modifier: [...decl, SemanticTokenModifiers.readonly] });
    } else if (ast.isRef(node) || ast.isGradRef(node)) {
      const sym = node.target?.ref;
      const type = typeOf(sym);
      if (type) {
        const modifier = ast.isConstDecl(sym) ? [SemanticTokenModifiers.readonly] : [];
        acceptor({ node, property: 'target', type, modifier });
      } else {
        const name = node.target?.$refText ?? '';
        if (BUILTIN.has(name)) acceptor({ node, property: 'target', type: SemanticTokenTypes.function, modifier: [SemanticTokenModifiers.defaultLibrary] });
        else if (CONFIG.has(name) || name === 'auto' || name === 'manual' || name === 'fast' || name === 'full') {
          acceptor({ node, property: 'target', type: SemanticTokenTypes.enumMember, modifier: [SemanticTokenModifiers.defaultLibrary] });
        }
      }
      if (node.member !== undefined) acceptor({ node, property: 'member', type: SemanticTokenTypes.property });
    } else if (ast.isBackwardLine(node)) {
      const type = typeOf(node.target?.ref);
      if (type) acceptor({ node, property: 'target', type });
      if (node.member !== undefined) acceptor({ node, property: 'member', type: SemanticTokenTypes.property });
    } else if (ast.isFunctionGrad(node)) {
      if (node.arg?.ref) acceptor({ node, property: 'arg', type: SemanticTokenTypes.parameter });
    } else if (ast.isOption(node)) {
      if (node.key) acceptor({ node, property: 'key', type: SemanticTokenTypes.property });
    } else if (ast.isArgument(node)) {
      if (node.name) acceptor({ node, property: 'name', type: SemanticTokenTypes.parameter });
    } else if (ast.isTrainDecl(node) || ast.isCheckDecl(node)) {
      if (node.model?.ref) acceptor({ node, property: 'model', type: SemanticTokenTypes.class });
      if (node.data?.ref) acceptor({ node, property: 'data', type: SemanticTokenTypes.variable });
    }
  }
}

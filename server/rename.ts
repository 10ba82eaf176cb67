/**
 * Rename: Langium's (the declaration and every reference, `grad X` lines included), refusing
 * names that are not identifiers, keywords, built-in names, or names already taken where the
 * renamed one is visible.
 */
import { AstUtils, CstUtils, type AstNode, type LangiumDocument } from 'langium';
import { DefaultRenameProvider } from 'langium/lsp';
import { ResponseError, ErrorCodes, type RenameParams, type WorkspaceEdit } from 'vscode-languageserver';
import { BUILTIN_FUNCTIONS, isName, NAME_CHAR, NnAst as ast } from '../language';
import type { NnLensServices } from './module';

const KEYWORDS = new Set([
  'const', 'function', 'grad', 'data', 'model', 'input', 'target', 'param', 'loss', 'backward', 'train', 'check', 'on',
  'table', 'true', 'false',
]);
const BUILTINS = new Set(BUILTIN_FUNCTIONS.map((b) => b.name));

/** Names visible next to a declaration (its model's members and the file's top level). */
function namesAround(decl: AstNode): Set<string> {
  const names = new Set<string>();
  const root = AstUtils.findRootNode(decl);
  if (ast.isProgram(root)) for (const d of root.declarations) if ('name' in d && typeof d.name === 'string') names.add(d.name);
  const model = AstUtils.getContainerOfType(decl, ast.isModelDecl);
  if (model) for (const m of model.members) if ('name' in m && typeof m.name === 'string') names.add(m.name);
  const fn = AstUtils.getContainerOfType(decl, ast.isFunctionDecl);
  if (fn) for (const p of fn.params) names.add(p.name);
  if (ast.isModelDecl(decl)) for (const m of decl.members) if ('name' in m && typeof m.name === 'string') names.add(m.name);
  return names;
}

export class NnRenameProvider extends DefaultRenameProvider {
  constructor(services: NnLensServices) {
    super(services);
  }

  override async rename(document: LangiumDocument, params: RenameParams): Promise<WorkspaceEdit | undefined> {
    const name = params.newName;
    const refuse = (why: string) => new ResponseError(ErrorCodes.InvalidParams, why);
    if (!isName(name)) throw refuse(`'${name}' is not a name: use letters (of any script), digits and _ (not first a digit)`);
    if (KEYWORDS.has(name)) throw refuse(`'${name}' is a keyword of the language`);
    if (BUILTINS.has(name)) throw refuse(`'${name}' is a built-in function`);
    const root = document.parseResult.value.$cstNode;
    const leaf = root ? CstUtils.findDeclarationNodeAtOffset(root, document.textDocument.offsetAt(params.position), NAME_CHAR) : undefined;
    const decl = leaf ? this.references.findDeclarations(leaf)[0] : undefined;
    if (decl) {
      const old = (decl as { name?: string }).name;
      if (old !== name && namesAround(decl).has(name)) throw refuse(`'${name}' is already declared here`);
    }
    return super.rename(document, params);
  }
}

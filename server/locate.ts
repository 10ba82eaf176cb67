/**
 * What is at a position of a `.nn` document, in the terms hovers, signature help and code actions
 * use: a param (declaration or use), a dense param (`h.W`), a named value, an input or target, a
 * `grad` line, a built-in, an initializer, an option, an operator, …
 */
import { AstUtils, CstUtils, GrammarUtils, type AstNode, type CstNode, type LangiumDocument } from 'langium';
import {
  BUILTIN_FUNCTIONS,
  CHECK_OPTIONS,
  DATA_SOURCES,
  INITIALIZERS,
  NnAst as ast,
  OPTIMIZERS,
  TRAIN_OPTIONS,
  type ArgSpec,
  type BuiltinFunction,
  type ConfigCallable,
} from '../language';
import { isConfigPosition } from '../language/document-validator';
import { NAME_CHAR } from '../language/identifiers';

export type NamedValue = ast.ValueDecl | ast.LossDecl;

export type Target =
  | { kind: 'param'; decl: ast.ParamDecl; model: ast.ModelDecl }
  | { kind: 'dense-param'; value: NamedValue; role: 'W' | 'b'; model: ast.ModelDecl }
  | { kind: 'value'; decl: NamedValue; model: ast.ModelDecl }
  | { kind: 'tensor'; decl: ast.InputDecl | ast.TargetDecl; model: ast.ModelDecl }
  | { kind: 'const'; decl: ast.ConstDecl }
  | { kind: 'function'; decl: ast.FunctionDecl }
  | { kind: 'function-param'; decl: ast.FunctionParam }
  | { kind: 'builtin'; fn: BuiltinFunction; call: ast.Call | undefined; model: ast.ModelDecl | undefined }
  | { kind: 'config'; item: ConfigCallable; category: 'initializer' | 'data source' | 'optimizer' }
  | { kind: 'option'; spec: ArgSpec; block: 'train' | 'check'; option: ast.Option }
  | { kind: 'backward-line'; line: ast.BackwardLine; index: number; model: ast.ModelDecl }
  | { kind: 'function-grad'; grad: ast.FunctionGrad; fn: ast.FunctionDecl }
  | { kind: 'operator'; expr: ast.BinaryExpr | ast.PowExpr; model: ast.ModelDecl | undefined }
  | { kind: 'model'; decl: ast.ModelDecl }
  | { kind: 'data'; decl: ast.DataDecl };

export interface Located {
  target: Target;
  /** The leaf the position is on. */
  leaf: CstNode;
}

const BUILTIN = new Map(BUILTIN_FUNCTIONS.map((b) => [b.name, b]));

function modelOf(n: AstNode): ast.ModelDecl | undefined {
  return AstUtils.getContainerOfType(n, ast.isModelDecl);
}

/** Where a named thing is used or declared, as a target. */
export function targetOfSymbol(sym: AstNode | undefined, member?: string): Target | undefined {
  if (!sym) return undefined;
  const model = modelOf(sym);
  if (ast.isParamDecl(sym) && model) return { kind: 'param', decl: sym, model };
  if ((ast.isValueDecl(sym) || ast.isLossDecl(sym)) && model) {
    if (member === 'W' || member === 'b') return { kind: 'dense-param', value: sym, role: member, model };
    return { kind: 'value', decl: sym, model };
  }
  if ((ast.isInputDecl(sym) || ast.isTargetDecl(sym)) && model) return { kind: 'tensor', decl: sym, model };
  if (ast.isConstDecl(sym)) return { kind: 'const', decl: sym };
  if (ast.isFunctionDecl(sym)) return { kind: 'function', decl: sym };
  if (ast.isFunctionParam(sym)) return { kind: 'function-param', decl: sym };
  if (ast.isModelDecl(sym)) return { kind: 'model', decl: sym };
  if (ast.isDataDecl(sym)) return { kind: 'data', decl: sym };
  return undefined;
}

/** A word in a configuration position: an initializer, a data source or an optimizer. */
function configItem(node: AstNode, name: string): Target | undefined {
  if (!isConfigPosition(node)) return undefined;
  let container: AstNode | undefined = node.$container;
  while (ast.isCall(container) || ast.isArgument(container)) container = container.$container;
  if (ast.isParamDecl(container)) {
    const item = INITIALIZERS.find((i) => i.name === name);
    if (item) return { kind: 'config', item, category: 'initializer' };
  }
  if (ast.isDataDecl(container)) {
    const item = DATA_SOURCES.find((i) => i.name === name);
    if (item) return { kind: 'config', item, category: 'data source' };
  }
  if (ast.isOption(container)) {
    const item = OPTIMIZERS.find((i) => i.name === name);
    if (item) return { kind: 'config', item, category: 'optimizer' };
  }
  return undefined;
}

/** The option spec of `key` in a train or check block. */
export function optionSpec(option: ast.Option): { spec: ArgSpec; block: 'train' | 'check' } | undefined {
  const block = option.$container;
  if (ast.isTrainDecl(block)) {
    const spec = TRAIN_OPTIONS.find((o) => o.name === option.key);
    return spec && { spec, block: 'train' };
  }
  if (ast.isCheckDecl(block)) {
    const spec = CHECK_OPTIONS.find((o) => o.name === option.key);
    return spec && { spec, block: 'check' };
  }
  return undefined;
}

/** What is at `offset`. */
export function locate(document: LangiumDocument, offset: number): Located | undefined {
  const root = document.parseResult.value.$cstNode;
  if (!root) return undefined;
  // A name the position is on or just after; else the token at the position (an operator).
  let leaf = CstUtils.findDeclarationNodeAtOffset(root, offset, NAME_CHAR);
  if (!leaf) leaf = CstUtils.findLeafNodeAtOffset(root, offset);
  if (!leaf || leaf.hidden) return undefined;
  const node = leaf.astNode;
  const feature = GrammarUtils.findAssignment(leaf)?.feature;
  const text = leaf.text;
  const done = (target: Target | undefined) => (target ? { target, leaf } : undefined);

  if (ast.isRef(node) || ast.isGradRef(node)) {
    if (feature === 'member') return done(targetOfSymbol(node.target?.ref, node.member));
    const sym = node.target?.ref;
    if (sym) return done(targetOfSymbol(sym));
    const name = node.target?.$refText ?? '';
    if (ast.isRef(node)) {
      const c = node.$container;
      const call = ast.isCall(c) && c.callee === node ? c : undefined;
      const cfg = configItem(node, name);
      if (cfg) return done(cfg);
      const b = BUILTIN.get(name);
      if (b) return done({ kind: 'builtin', fn: b, call, model: modelOf(node) });
    }
    return undefined;
  }
  if (ast.isBackwardLine(node) && (feature === 'target' || feature === 'member' || text === 'grad')) {
    const block = node.$container;
    const model = modelOf(node);
    if (!model) return undefined;
    return done({ kind: 'backward-line', line: node, index: block.lines.indexOf(node), model });
  }
  if (ast.isFunctionGrad(node) && (feature === 'arg' || text === 'grad')) {
    return done({ kind: 'function-grad', grad: node, fn: node.$container });
  }
  if (ast.isOption(node) && feature === 'key') {
    const o = optionSpec(node);
    return done(o && { kind: 'option', spec: o.spec, block: o.block, option: node });
  }
  if (ast.isBinaryExpr(node) && feature === 'op') return done({ kind: 'operator', expr: node, model: modelOf(node) });
  if (ast.isPowExpr(node) && text === '^') return done({ kind: 'operator', expr: node, model: modelOf(node) });
  if ((ast.isTrainDecl(node) || ast.isCheckDecl(node)) && (feature === 'model' || feature === 'data')) {
    return done(targetOfSymbol(feature === 'model' ? node.model?.ref : node.data?.ref));
  }
  if (ast.isFunctionGrad(node) || ast.isBackwardLine(node)) return undefined;
  if (feature === 'name') return done(targetOfSymbol(node));
  return undefined;
}

/** The innermost call around `offset` whose parentheses contain it, with the argument index. */
export function callAt(document: LangiumDocument, offset: number): { call: ast.Call; active: number } | undefined {
  const root = document.parseResult.value.$cstNode;
  if (!root) return undefined;
  const leaf = CstUtils.findLeafNodeAtOffset(root, Math.max(0, offset - 1)) ?? CstUtils.findLeafNodeAtOffset(root, offset);
  let n: AstNode | undefined = leaf?.astNode;
  while (n) {
    if (ast.isCall(n) && n.$cstNode) {
      const open = n.$cstNode.text.indexOf('(');
      const start = n.$cstNode.offset + open;
      const closeLeaf = [...CstUtils.streamCst(n.$cstNode)].reverse().find((c) => c.text === ')' && c.astNode === n);
      const end = closeLeaf ? closeLeaf.offset : n.$cstNode.end;
      if (open >= 0 && offset > start && offset <= end) {
        let active = 0;
        for (const a of n.args) {
          const c = a.$cstNode;
          if (c && c.end < offset) active++;
        }
        // a comma right before the cursor starts the next argument
        return { call: n, active: Math.min(active, Math.max(0, n.args.length)) };
      }
    }
    n = n.$container;
  }
  return undefined;
}

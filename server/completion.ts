/**
 * Completion: Langium's keywords and names in scope (with their kind and shape), plus what is
 * built into the language — functions with their signatures and shape rules where an expression
 * goes, initializers after `param …: […] =`, data sources after `data NAME =`, optimizers and
 * option words in `train`/`check` blocks, option keys, and argument names inside calls.
 */
import { AstUtils, GrammarAST, type AstNode, type AstNodeDescription, type ReferenceInfo } from 'langium';
import {
  DefaultCompletionProvider,
  type CompletionAcceptor,
  type CompletionContext,
  type CompletionValueItem,
  type NextFeature,
} from 'langium/lsp';
import { CompletionItemKind, InsertTextFormat, MarkupKind, type MarkupContent } from 'vscode-languageserver';
import {
  BUILTIN_FUNCTIONS,
  CHECK_OPTIONS,
  DATA_SOURCES,
  fmtShape,
  INITIALIZERS,
  NAME_SOURCE,
  NnAst as ast,
  OPTIMIZERS,
  TRAIN_OPTIONS,
  type ArgSpec,
  type ConfigCallable,
} from '../language';
import type { NnLensServices } from './module';

/** `param W: [3, 2] = ` (and a word begun): the initializer goes here. Names in any script (§9). */
const PARAM_INIT = new RegExp(`^\\s*param\\s+${NAME_SOURCE}\\s*:\\s*\\[[^\\]]*\\]\\s*=\\s*\\w*$`, 'u');
/** `data d = `: the data source goes here. */
const DATA_SOURCE = new RegExp(`^\\s*data\\s+${NAME_SOURCE}\\s*=\\s*\\w*$`, 'u');

const KIND: Record<string, CompletionItemKind> = {
  ParamDecl: CompletionItemKind.Field,
  InputDecl: CompletionItemKind.Variable,
  TargetDecl: CompletionItemKind.Variable,
  ValueDecl: CompletionItemKind.Variable,
  LossDecl: CompletionItemKind.Variable,
  ConstDecl: CompletionItemKind.Constant,
  FunctionDecl: CompletionItemKind.Function,
  FunctionParam: CompletionItemKind.Variable,
  ModelDecl: CompletionItemKind.Class,
  DataDecl: CompletionItemKind.Variable,
};

type Where = 'model' | 'function' | 'init' | 'data' | 'optimizer' | 'option-word' | 'other';

function doc(value: string): MarkupContent {
  return { kind: MarkupKind.Markdown, value };
}

export class NnCompletionProvider extends DefaultCompletionProvider {
  constructor(private readonly nn: NnLensServices) {
    super(nn);
  }

  override readonly completionOptions = { triggerCharacters: ['.', '(', ',', ':', '='] };

  /** Where an expression at the cursor goes. */
  private where(context: CompletionContext): { where: Where; option?: ast.Option } {
    const node = context.node;
    const line = context.textDocument.getText({ start: { line: context.position.line, character: 0 }, end: context.position });
    const option = node ? AstUtils.getContainerOfType(node, ast.isOption) : undefined;
    if (/^\s*optimizer\s*:\s*\w*$/.test(line) || option?.key === 'optimizer') return { where: 'optimizer', option };
    if (/^\s*(gradients|mode)\s*:\s*\w*$/.test(line) || (option && (option.key === 'gradients' || option.key === 'mode'))) {
      return { where: 'option-word', option };
    }
    if (PARAM_INIT.test(line)) return { where: 'init' };
    if (DATA_SOURCE.test(line)) return { where: 'data' };
    if (node && AstUtils.getContainerOfType(node, ast.isFunctionDecl)) return { where: 'function' };
    if (node && AstUtils.getContainerOfType(node, ast.isModelDecl)) return { where: 'model' };
    return { where: 'other' };
  }

  protected override completionFor(context: CompletionContext, next: NextFeature, acceptor: CompletionAcceptor) {
    const assignment = AstUtils.getContainerOfType(next.feature, GrammarAST.isAssignment);
    const feature = assignment?.feature;
    const owner = next.type ?? context.node?.$type;
    if (GrammarAST.isCrossReference(next.feature) && feature === 'target' && (owner === 'Ref' || next.type === undefined)) {
      const { where, option } = this.where(context);
      if (where === 'init') return this.callables(context, acceptor, INITIALIZERS, 'initializer');
      if (where === 'data') return this.callables(context, acceptor, DATA_SOURCES, 'data source');
      if (where === 'optimizer') return this.callables(context, acceptor, OPTIMIZERS, 'optimizer');
      if (where === 'option-word') {
        const spec = [...TRAIN_OPTIONS, ...CHECK_OPTIONS].find((o) => o.name === (option?.key ?? this.lineKey(context)));
        for (const w of spec?.words ?? []) acceptor(context, { label: w, kind: CompletionItemKind.EnumMember, detail: spec?.doc });
        return;
      }
      if (where === 'model' || where === 'function') this.builtins(context, acceptor, where === 'function');
    }
    if (feature === 'key' && (owner === 'Option' || context.node?.$type === 'Option' || this.inBlock(context))) {
      return this.optionKeys(context, acceptor);
    }
    if (feature === 'name' && owner === 'Argument') this.argumentNames(context, acceptor);
    return super.completionFor(context, next, acceptor);
  }

  private lineKey(context: CompletionContext): string | undefined {
    const line = context.textDocument.getText({ start: { line: context.position.line, character: 0 }, end: context.position });
    return /^\s*(\w+)\s*:/.exec(line)?.[1];
  }

  private inBlock(context: CompletionContext): boolean {
    const n = context.node;
    return !!n && (ast.isTrainDecl(n) || ast.isCheckDecl(n) || !!AstUtils.getContainerOfType(n, (x): x is ast.TrainDecl => ast.isTrainDecl(x) || ast.isCheckDecl(x)));
  }

  private builtins(context: CompletionContext, acceptor: CompletionAcceptor, elementwiseOnly: boolean): void {
    for (const b of BUILTIN_FUNCTIONS) {
      if (elementwiseOnly && !b.elementwise) continue;
      acceptor(context, {
        label: b.name,
        kind: CompletionItemKind.Function,
        detail: b.signature,
        labelDetails: { detail: `(${b.params.map((p, i) => (i < b.required ? p : `${p}?`)).join(', ')})`, description: b.rule },
        documentation: doc(`${b.doc}\n\nShape rule: \`${b.rule}\``),
        sortText: `2${b.name}`,
      });
    }
  }

  private callables(context: CompletionContext, acceptor: CompletionAcceptor, list: readonly ConfigCallable[], what: string): void {
    for (const c of list) {
      const required = c.args.filter((a) => a.required);
      const snippet = required.length ? `${c.name}(${required.map((a, i) => `\${${i + 1}:${a.name}}`).join(', ')})` : c.name;
      acceptor(context, {
        label: c.name,
        kind: CompletionItemKind.Function,
        detail: `${what}: ${c.signature}`,
        documentation: doc(`${c.doc}${c.args.length ? '\n\n' + c.args.map((a) => `- \`${a.name}\` — ${a.doc}`).join('\n') : ''}`),
        insertText: snippet,
        insertTextFormat: required.length ? InsertTextFormat.Snippet : InsertTextFormat.PlainText,
        sortText: `0${c.name}`,
      });
    }
  }

  private optionKeys(context: CompletionContext, acceptor: CompletionAcceptor): void {
    const n = context.node;
    const block = n ? AstUtils.getContainerOfType(n, (x): x is ast.TrainDecl | ast.CheckDecl => ast.isTrainDecl(x) || ast.isCheckDecl(x)) : undefined;
    const specs: readonly ArgSpec[] = block ? (ast.isTrainDecl(block) ? TRAIN_OPTIONS : CHECK_OPTIONS) : [...TRAIN_OPTIONS, ...CHECK_OPTIONS];
    const used = new Set(block?.options.map((o) => o.key) ?? []);
    for (const s of specs) {
      if (used.has(s.name)) continue;
      acceptor(context, {
        label: s.name,
        kind: CompletionItemKind.Property,
        detail: s.default !== undefined && s.default !== null ? `default ${String(s.default)}` : undefined,
        documentation: doc(s.doc),
        insertText: `${s.name}: `,
        sortText: `0${s.name}`,
      });
    }
  }

  private argumentNames(context: CompletionContext, acceptor: CompletionAcceptor): void {
    const n = context.node;
    const call = n ? (ast.isCall(n) ? n : AstUtils.getContainerOfType(n, ast.isCall)) : undefined;
    if (!call) return;
    const name = call.callee?.target?.$refText ?? '';
    const fn = call.callee?.target?.ref;
    let params: readonly string[] = [];
    if (ast.isFunctionDecl(fn)) params = fn.params.map((p) => p.name);
    else {
      const c = [...INITIALIZERS, ...DATA_SOURCES, ...OPTIMIZERS].find((x) => x.name === name);
      if (c) params = c.args.map((a) => a.name);
      else params = BUILTIN_FUNCTIONS.find((b) => b.name === name)?.params ?? [];
    }
    const given = new Set(call.args.map((a) => a.name).filter((x): x is string => !!x));
    for (const p of params) {
      if (given.has(p)) continue;
      acceptor(context, { label: `${p}:`, kind: CompletionItemKind.Variable, insertText: `${p}: `, sortText: `1${p}` });
    }
  }

  protected override createReferenceCompletionItem(
    description: AstNodeDescription,
    _refInfo: ReferenceInfo,
    _context: CompletionContext,
  ): CompletionValueItem {
    let detail: string | undefined;
    const node = description.node;
    if (node) detail = this.detailOf(node);
    return {
      nodeDescription: description,
      kind: KIND[description.type] ?? CompletionItemKind.Reference,
      detail,
      sortText: `1${description.name}`,
    };
  }

  private detailOf(node: AstNode): string | undefined {
    if (ast.isFunctionDecl(node)) return `function ${node.name}(${node.params.map((p) => p.name).join(', ')})`;
    const info = this.nn.analysis.Cache.shapeOf(node);
    if (ast.isConstDecl(node)) return info?.value !== undefined ? `const = ${info.value}` : 'const';
    const kind = ast.isParamDecl(node)
      ? 'param'
      : ast.isInputDecl(node)
        ? 'input'
        : ast.isTargetDecl(node)
          ? 'target'
          : ast.isLossDecl(node)
            ? 'loss'
            : ast.isModelDecl(node)
              ? 'model'
              : ast.isDataDecl(node)
                ? 'data'
                : '';
    return info ? `${kind} ${fmtShape(info.shape)}`.trim() : kind || undefined;
  }

  /** Completion on a document that is being edited: never throws. */
  override async getCompletion(...args: Parameters<DefaultCompletionProvider['getCompletion']>) {
    try {
      return await super.getCompletion(...args);
    } catch (e) {
      if (e instanceof RangeError) return undefined;
      throw e;
    }
  }
}


/**
 * Signature help inside the parentheses of a call: built-ins (with their shape rule), user
 * functions, initializers, data sources and optimizers, with the active argument (positional, or
 * named with `name:`).
 */
import type { LangiumDocument } from 'langium';
import type { SignatureHelpProvider } from 'langium/lsp';
import { MarkupKind, type SignatureHelp, type SignatureHelpOptions, type SignatureHelpParams, type SignatureInformation } from 'vscode-languageserver';
import { BUILTIN_FUNCTIONS, DATA_SOURCES, INITIALIZERS, NnAst as ast, OPTIMIZERS, formatInterval } from '../language';
import { callAt } from './locate';
import type { NnLensServices } from './module';

/** Parameter labels as [start, end) offsets into the signature (a name may occur earlier). */
function offsets(label: string, names: readonly string[]): [number, number][] {
  let at = label.indexOf('(') + 1;
  return names.map((n) => {
    const i = label.indexOf(n, at);
    const start = i >= 0 ? i : at;
    at = start + n.length;
    return [start, start + n.length];
  });
}

export class NnSignatureHelpProvider implements SignatureHelpProvider {
  constructor(private readonly services: NnLensServices) {}

  get signatureHelpOptions(): SignatureHelpOptions {
    return { triggerCharacters: ['(', ','], retriggerCharacters: [',', ':'] };
  }

  provideSignatureHelp(document: LangiumDocument, params: SignatureHelpParams): SignatureHelp | undefined {
    const offset = document.textDocument.offsetAt(params.position);
    const at = callAt(document, offset);
    if (!at) return undefined;
    const sig = this.signature(at.call);
    if (!sig) return undefined;
    let active = at.active;
    const arg = at.call.args[active];
    const names = (sig.parameters ?? []).map((p) =>
      typeof p.label === 'string' ? p.label : sig.label.slice(p.label[0], p.label[1]).replace(/\?$/, ''),
    );
    if (arg?.name !== undefined) {
      const i = names.indexOf(arg.name);
      if (i >= 0) active = i;
    }
    return { signatures: [sig], activeSignature: 0, activeParameter: Math.min(active, Math.max(0, names.length - 1)) };
  }

  private signature(call: ast.Call): SignatureInformation | undefined {
    const name = call.callee?.target?.$refText ?? '';
    const fn = call.callee?.target?.ref;
    if (ast.isFunctionDecl(fn)) {
      const label = `${fn.name}(${fn.params.map((p) => p.name).join(', ')})`;
      const offs = offsets(label, fn.params.map((p) => p.name));
      return {
        label,
        documentation: 'A function of your own, applied elementwise.',
        parameters: fn.params.map((_, i) => ({ label: offs[i] })),
      };
    }
    if (fn) return undefined;
    const b = BUILTIN_FUNCTIONS.find((x) => x.name === name);
    const inConfig = [...INITIALIZERS, ...DATA_SOURCES, ...OPTIMIZERS].find((x) => x.name === name);
    if (inConfig && (!b || !ast.isModelDecl(call.$container?.$container))) {
      const offs = offsets(inConfig.signature, inConfig.args.map((a) => a.name));
      return {
        label: inConfig.signature,
        documentation: { kind: MarkupKind.Markdown, value: inConfig.doc },
        parameters: inConfig.args.map((a, i) => ({
          label: offs[i],
          documentation: `${a.doc}${a.range ? ` (${formatInterval(a.range)})` : ''}${a.required ? '' : a.default !== undefined && a.default !== null ? ` Default ${String(a.default)}.` : ''}`,
        })),
      };
    }
    if (!b) return undefined;
    return {
      label: b.signature,
      documentation: { kind: MarkupKind.Markdown, value: `${b.doc}\n\nShape rule: \`${b.rule}\`` },
      parameters: offsets(b.signature, b.params).map((o) => ({ label: o })),
    };
  }
}

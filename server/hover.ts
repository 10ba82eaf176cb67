/**
 * Hovers: what a name is (shape, parameter count, init, the rule of a built-in) and what the
 * engine says about it at the current weights — ∂C/∂param with backprop against a central
 * difference and one element worked out as forward part × backward part, δ = ∂C/∂value for named
 * values, the checker's verdict on `grad` lines.
 *
 * Engine numbers come from the worker's latest check of the same content (instant); when there
 * is none yet the hover asks for one and waits briefly (HOVER_WAIT_MS), then shows what it has.
 */
import { AstUtils, type LangiumDocument } from 'langium';
import type { HoverProvider } from 'langium/lsp';
import type { Hover, HoverParams } from 'vscode-languageserver';
import type { Range } from '../engine';
import { fmtShape, formatInterval, NnAst as ast, type ArgSpec, type BuiltinFunction, type ConfigCallable } from '../language';
import { calleeFn } from '../language/analysis';
import { infix, sizeOf } from '../engine';
import { describeDecl } from '../language/validation/data';
import type { ModelNumbers, ParamNumbers, Stats, WorkedElement } from '../engine/session/types';
import type { NnLensEngine, NumbersAnswer } from './engine-service';
import { locate, type NamedValue, type Target } from './locate';
import { Markup, err, num, plural, type Span } from './markup';
import type { NnLensServices } from './module';
import type { NnLensSettingsService } from './settings';

/** How long a hover waits for the engine when it has no numbers for the current content. */
export const HOVER_WAIT_MS = 1500;

export class NnHoverProvider implements HoverProvider {
  private readonly engine: NnLensEngine;
  private readonly settings: NnLensSettingsService;

  constructor(private readonly services: NnLensServices) {
    this.engine = services.lens.Engine;
    this.settings = services.lens.Settings;
  }

  async getHoverContent(document: LangiumDocument, params: HoverParams): Promise<Hover | undefined> {
    const offset = document.textDocument.offsetAt(params.position);
    const found = locate(document, offset);
    if (!found) return undefined;
    const md = new Markup(this.settings.client.hoverMarkdown);
    await this.describe(document, found.target, md);
    if (md.empty) return undefined;
    const r = found.leaf.range;
    return { contents: md.content(), range: r };
  }

  private text(document: LangiumDocument, node: { $cstNode?: { text: string } } | undefined): string {
    return (node?.$cstNode?.text ?? '').replace(/\s+/g, ' ').trim();
  }

  private rangeText(document: LangiumDocument, r: Range): string {
    return document.textDocument.getText(r).replace(/\s+/g, ' ').trim();
  }

  private async numbersOf(document: LangiumDocument, model: ast.ModelDecl): Promise<NumbersAnswer> {
    return this.engine.numbers(document, model.name, HOVER_WAIT_MS);
  }

  private async describe(document: LangiumDocument, t: Target, md: Markup): Promise<void> {
    const cache = this.services.analysis.Cache;
    switch (t.kind) {
      case 'param': {
        const shape = cache.shapeOf(t.decl)?.shape;
        md.pre([this.text(document, t.decl)], 'nn');
        const init = t.decl.init ? this.text(document, t.decl.init) : 'glorot (the default)';
        md.para(
          { bold: `param ${t.decl.name}` },
          shape ? ': ' : '',
          shape ? { code: fmtShape(shape) } : '',
          shape ? ` — ${plural(sizeOf(shape), 'parameter')}, init ` : ' — init ',
          { code: init },
        );
        await this.paramNumbers(document, t.model, t.decl.name, md);
        return;
      }
      case 'dense-param': {
        const dense = cache.modelOf(t.value)?.dense.get(t.value);
        const name = `${t.value.name}.${t.role}`;
        if (!dense) {
          md.para({ code: name }, ': ', `'${t.value.name}' has no dense layer, so it has no .${t.role}`);
          return;
        }
        const shape = t.role === 'W' ? dense.W : dense.b;
        md.para(
          { bold: `param ${name}` },
          ': ',
          { code: fmtShape(shape) },
          ` — ${plural(sizeOf(shape), 'parameter')}, created by `,
          { code: this.text(document, dense.call) },
          `, init ${t.role === 'W' ? 'glorot' : 'zeros'}`,
        );
        await this.paramNumbers(document, t.model, name, md);
        return;
      }
      case 'value':
        return this.valueHover(document, t.decl, t.model, md);
      case 'tensor': {
        const shape = cache.shapeOf(t.decl)?.shape;
        const kind = ast.isInputDecl(t.decl) ? 'input' : 'target';
        md.para(
          { bold: `${kind} ${t.decl.name}` },
          ': ',
          { code: shape ? fmtShape(shape) : '?' },
          ' per example (the batch adds a leading axis)',
        );
        const n = await this.numbersOf(document, t.model);
        if (n.status === 'ok') {
          const v = n.numbers.values[t.decl.name];
          if (v) md.list([[`values on ${this.examples(n.numbers)}: `, ...this.statsSpans(v.value)]]);
        }
        return;
      }
      case 'const': {
        const v = cache.shapeOf(t.decl)?.value;
        md.pre([this.text(document, t.decl)], 'nn');
        md.para({ bold: `const ${t.decl.name}` }, v !== undefined ? ` = ${num(v)}` : ' (not a number: see its error)');
        return;
      }
      case 'function': {
        const fn = t.decl;
        md.pre([`function ${fn.name}(${fn.params.map((p) => p.name).join(', ')}) = ${this.text(document, fn.body)}`], 'nn');
        md.para(
          'An elementwise function of scalars. ',
          fn.grads.length
            ? `Backpropagation uses its grad line${fn.grads.length > 1 ? 's' : ''} for ${fn.grads.map((g) => g.arg?.$refText).join(', ')}; `
            : '',
          fn.params.filter((p) => !fn.grads.some((g) => g.arg?.ref === p)).length
            ? `the derivative by ${fn.params.filter((p) => !fn.grads.some((g) => g.arg?.ref === p)).map((p) => p.name).join(', ')} is automatic.`
            : '',
        );
        for (const g of fn.grads) await this.functionGradNumbers(document, g, fn, md, true);
        return;
      }
      case 'function-param':
        md.para({ bold: `argument ${t.decl.name}` }, ' of ', { code: t.decl.$container.name }, ': a scalar (the function is applied elementwise)');
        return;
      case 'builtin':
        return this.builtinHover(document, t.fn, t.call, md);
      case 'config':
        return this.configHover(t.item, t.category, md);
      case 'option':
        return this.optionHover(t.spec, t.block, md);
      case 'backward-line':
        return this.lineHover(document, t.line, t.index, t.model, md);
      case 'function-grad':
        md.pre([this.text(document, t.grad)], 'nn');
        await this.functionGradNumbers(document, t.grad, t.fn, md, false);
        return;
      case 'operator':
        return this.operatorHover(document, t.expr, md);
      case 'model':
        return this.modelHover(document, t.decl, md);
      case 'data':
        return this.dataHover(document, t.decl, md);
    }
  }

  private examples(n: ModelNumbers): string {
    const src = n.source === 'random' ? 'random data' : n.source;
    return `${plural(n.examples, 'example')} of ${src}`;
  }

  private statsSpans(s: Stats): Span[] {
    const parts: Span[] = [`min ${num(s.min)} · max ${num(s.max)} · mean |·| ${num(s.meanAbs)}`];
    if (s.nonFinite) parts.push(` · ${plural(s.nonFinite, 'NaN/∞ element')}`);
    return parts;
  }

  private notReady(md: Markup, a: NumbersAnswer): void {
    if (a.status !== 'ok') md.para({ italic: a.message });
  }

  private where(n: ModelNumbers): Span[] {
    return [` at ${n.weights}, on ${this.examples(n)} — C = ${num(n.loss)} (the mean loss)`];
  }

  private async paramNumbers(document: LangiumDocument, model: ast.ModelDecl, name: string, md: Markup): Promise<void> {
    const a = await this.numbersOf(document, model);
    if (a.status !== 'ok') return this.notReady(md, a);
    const n = a.numbers;
    const p = n.params[name];
    if (!p) return;
    md.rule();
    md.para({ bold: `∂C/∂${name}` }, ...this.where(n));
    const items: Span[][] = [[`‖∂C/∂${name}‖ = ${num(p.grad.norm)} · `, ...this.statsSpans(p.grad)]];
    if (p.check) items.push(this.checkLine(p, n));
    if (p.element) {
      items.push([
        `largest element ${p.element.where}: backprop ${num(p.element.analytic)}, numeric ${num(p.element.numeric)} `,
        `(relative error ${err(p.element.relError)})`,
      ]);
    }
    md.list(items);
    if (p.worked) this.worked(document, p, p.worked, md);
    if (n.nonFinite) md.para('⚠ ', n.nonFinite);
  }

  private checkLine(p: ParamNumbers, n: ModelNumbers): Span[] {
    const c = p.check!;
    const how = n.mode === 'fast' ? `fast check, ${plural(c.comparisons, 'random direction')}` : `full check, ${plural(c.comparisons, 'element')}`;
    const verdict: Record<string, string> = {
      ok: '✓ they agree',
      mismatch: '✗ they disagree',
      explained: '✗ they disagree because of a wrong grad line',
      kink: '≈ they differ only across a kink',
      unchecked: 'not checked',
    };
    const e = Number.isFinite(c.maxRelError) ? `max relative error ${err(c.maxRelError)}` : 'no comparison';
    return [`backprop vs central differences (${how}, tolerance ${num(n.tolerance)}): ${e} — ${verdict[c.status] ?? c.status}`];
  }

  private worked(document: LangiumDocument, p: ParamNumbers, w: WorkedElement, md: Markup): void {
    const deltaName = w.delta.name ?? `(${this.rangeText(document, w.delta.range)})`;
    const d = `δ${w.delta.index}`;
    const lines: string[] = [];
    if (w.kind === 'matmul' && w.input) {
      const aName = w.input.name ?? `(${this.rangeText(document, w.input.range)})`;
      const a = `${aName}${w.input.index}`;
      md.para(
        { bold: 'Worked out' },
        ` (forward part × backward part): ∂C/∂${w.where} = ${a} × ${d}, where a = `,
        { code: aName },
        " is the layer's input and δ = ",
        { code: `∂C/∂${deltaName}` },
        '.',
      );
      w.terms.forEach((t) => {
        lines.push(`example ${t.example}: ${a} × ${d} = ${num(t.a)} × ${num(t.d)} = ${num((t.a ?? 0) * t.d)}`);
      });
    } else {
      md.para(
        { bold: 'Worked out' },
        `: ∂C/∂${w.where} = ${d}, the backward part δ = `,
        { code: `∂C/∂${deltaName}` },
        ' (the forward part of a bias is 1).',
      );
      w.terms.forEach((t) => lines.push(`example ${t.example}: ${d} = ${num(t.d)}`));
    }
    if (w.delta.note) md.para(`(${w.delta.note}.)`);
    if (w.examples > w.terms.length) lines.push(`… (${w.examples - w.terms.length} more examples)`);
    lines.push(
      w.examples > 1
        ? `∂C/∂${w.where} = the mean over the ${w.examples} examples = ${num(w.term)}`
        : `∂C/∂${w.where} = ${num(w.term)}`,
    );
    md.pre(lines);
    if (w.examples > 1) {
      md.para(
        `C is the mean of the ${w.examples} per-example losses, so each example's term a·δ (with δ = ∂Cⁿ/∂${deltaName}ⁿ, one example's own loss) counts 1/${w.examples}.`,
      );
    }
    if (w.uses > 1) {
      md.para(
        `${p.name} is used ${w.uses} times in the model: this use contributes ${num(w.term)}; in total ∂C/∂${w.where} = ${num(w.grad)}.`,
      );
    }
  }

  private async valueHover(document: LangiumDocument, decl: NamedValue, model: ast.ModelDecl, md: Markup): Promise<void> {
    const cache = this.services.analysis.Cache;
    const info = cache.shapeOf(decl);
    const isLoss = ast.isLossDecl(decl);
    md.pre([this.text(document, decl)], 'nn');
    md.para(
      { bold: `${isLoss ? 'loss' : 'value'} ${decl.name}` },
      ': ',
      { code: info ? fmtShape(info.shape) : '?' },
      info ? (info.batched ? ' per example' : ' (the same for every example: it depends on no input)') : ' (unknown: see the errors)',
    );
    const dense = cache.modelOf(decl)?.dense.get(decl);
    if (dense) {
      md.para(
        'Its dense layer has params ',
        { code: `${decl.name}.W: ${fmtShape(dense.W)}` },
        ' and ',
        { code: `${decl.name}.b: ${fmtShape(dense.b)}` },
        ` (${plural(dense.W[0] * dense.W[1] + dense.b[0], 'parameter')}).`,
      );
    }
    const a = await this.numbersOf(document, model);
    if (a.status !== 'ok') return this.notReady(md, a);
    const n = a.numbers;
    const v = n.values[decl.name];
    if (!v) return;
    md.rule();
    md.para(...this.where(n).map((s) => (typeof s === 'string' ? s.replace(/^ at/, 'At') : s)));
    const items: Span[][] = [];
    items.push([isLoss ? `per-example losses: ` : `values: `, ...this.statsSpans(v.value)]);
    if (v.perExample && v.batched) {
      items.push([`δ = ∂Cⁿ/∂${decl.name}ⁿ (one example's loss): ‖δ‖ = ${num(v.perExample.norm)} · `, ...this.statsSpans(v.perExample)]);
    }
    if (v.grad && !isLoss) items.push([`∂C/∂${decl.name} (the mean loss): ‖·‖ = ${num(v.grad.norm)}`]);
    md.list(items);
  }

  private async lineHover(document: LangiumDocument, line: ast.BackwardLine, index: number, model: ast.ModelDecl, md: Markup): Promise<void> {
    const target = line.target?.$refText + (line.member ? `.${line.member}` : '');
    const cache = this.services.analysis.Cache;
    const shape = cache.shapeOf(line)?.shape;
    md.pre([this.text(document, line)], 'nn');
    md.para(
      'Your ',
      { code: `∂Cⁿ/∂${target}` },
      shape ? ` (${fmtShape(shape)})` : '',
      ' for one example',
      ast.isParamDecl(line.target?.ref) || line.member ? ' — for a param, averaged over the batch before it is compared' : '',
      '.',
    );
    const a = await this.numbersOf(document, model);
    if (a.status !== 'ok') return this.notReady(md, a);
    const n = a.numbers;
    const block = model.members.find(ast.isBackwardBlock);
    if (block !== line.$container) {
      md.para({ italic: 'Only the first backward block of a model is checked.' });
      return;
    }
    const l = n.lines[index];
    if (!l || l.target !== target) return;
    md.rule();
    md.para('Checked', ...this.where(n), ':');
    if (l.status === 'ok') {
      const w = l.worst;
      md.para(
        `✓ matches the true gradient (largest relative error ${err(l.relError)}` +
          (w ? `, at ${w.where}${w.example !== null ? ` of example ${w.example}` : ''}: yours ${num(w.user)}, true ${num(w.truth)})` : ')'),
      );
    } else if (l.status === 'wrong') {
      md.para('✗ ', l.message);
    } else if (l.status === 'dependent') {
      md.para('≈ ', l.message);
    } else {
      md.para({ italic: 'not checked' });
    }
  }

  private async functionGradNumbers(
    document: LangiumDocument,
    g: ast.FunctionGrad,
    fn: ast.FunctionDecl,
    md: Markup,
    compact: boolean,
  ): Promise<void> {
    const arg = g.arg?.$refText ?? '';
    // Any lowered model that calls the function has its line checked.
    const root = AstUtils.findRootNode(fn);
    const models = ast.isProgram(root) ? root.declarations.filter(ast.isModelDecl) : [];
    const users = models.filter((m) => AstUtils.streamAst(m).some((x) => ast.isCall(x) && calleeFn(x) === fn));
    if (users.length === 0) {
      if (!compact) md.para({ italic: `not checked: no model calls ${fn.name}` });
      return;
    }
    for (const m of users) {
      const a = await this.numbersOf(document, m);
      if (a.status !== 'ok') continue;
      const f = a.numbers.functionLines.find((x) => x.function === fn.name && x.arg === arg);
      if (!f) continue;
      if (!compact) md.rule();
      const head = compact ? `grad ${arg}: ` : '';
      if (f.status === 'ok') {
        md.para(
          `${head}✓ matches the numeric derivative of the body at ${plural(f.points, 'point')} (largest relative error ${err(f.relError)})`,
          f.skipped ? `; ${plural(f.skipped, 'point')} skipped (not finite, or a kink within the step)` : '',
        );
      } else if (f.status === 'wrong') {
        md.para(`${head}✗ `, f.message);
      } else {
        md.para(`${head}not checked`);
      }
      return;
    }
    const a = await this.numbersOf(document, users[0]);
    if (!compact) this.notReady(md, a);
  }

  private builtinHover(document: LangiumDocument, b: BuiltinFunction, call: ast.Call | undefined, md: Markup): void {
    md.pre([b.signature], 'nn');
    md.para(b.doc);
    md.para('Shape rule: ', { code: b.rule });
    if (b.elementwise) md.para({ italic: 'Elementwise: usable inside a function.' });
    if (!call) return;
    const cache = this.services.analysis.Cache;
    const out = cache.shapeOf(call);
    const args = call.args.map((a) => (a.value ? cache.shapeOf(a.value) : undefined));
    if (out && args.every((x) => x)) {
      // the tensors (not compile-time numbers or an activation's name)
      const shown = args.filter((_, i) => (b.op.params[i]?.kind ?? 'tensor') === 'tensor');
      md.para('Here: ', { code: `${shown.map((x) => fmtShape(x!.shape)).join(', ')} → ${fmtShape(out.shape)}` });
    }
    if (b.name === 'dense') {
      const owner = AstUtils.getContainerOfType(call, (n): n is NamedValue => ast.isValueDecl(n) || ast.isLossDecl(n));
      const d = owner ? cache.modelOf(owner)?.dense.get(owner) : undefined;
      if (d && owner) {
        md.para(
          'Creates ',
          { code: `${owner.name}.W: ${fmtShape(d.W)}` },
          ' and ',
          { code: `${owner.name}.b: ${fmtShape(d.b)}` },
          ` — ${plural(d.W[0] * d.W[1] + d.b[0], 'parameter')}.`,
        );
      }
    }
  }

  private configHover(item: ConfigCallable, category: string, md: Markup): void {
    md.pre([item.signature], 'nn');
    md.para({ italic: category }, ': ', item.doc);
    md.list(item.args.map((a) => this.argSpans(a)));
  }

  private argSpans(a: ArgSpec): Span[] {
    const parts: Span[] = [{ code: a.name }, ` — ${a.doc}`];
    if (a.range) parts.push(` (${formatInterval(a.range)})`);
    if (a.words) parts.push(` (${a.words.join(' or ')})`);
    if (a.required) parts.push(' Required.');
    else if (a.default !== undefined && a.default !== null) parts.push(` Default ${String(a.default)}.`);
    return parts;
  }

  private optionHover(spec: ArgSpec, block: 'train' | 'check', md: Markup): void {
    md.para({ bold: `${spec.name}` }, ` (a ${block} option)`);
    md.list([this.argSpans(spec)]);
  }

  private operatorHover(document: LangiumDocument, e: ast.BinaryExpr | ast.PowExpr, md: Markup): void {
    const cache = this.services.analysis.Cache;
    const out = cache.shapeOf(e);
    const symbol = ast.isPowExpr(e) ? '^' : e.op;
    const op = infix(symbol);
    const verb = op?.syntax.kind === 'infix' ? op.syntax.verb : symbol;
    md.para({ bold: `${verb} ${symbol}` }, ': ', op?.rule ?? '');
    if (ast.isPowExpr(e)) {
      const base = cache.shapeOf(e.base);
      if (base && out) md.para({ code: `${fmtShape(base.shape)} ^ ${num(cache.shapeOf(e.exponent)?.value ?? NaN)} → ${fmtShape(out.shape)}` });
      return;
    }
    const l = cache.shapeOf(e.left);
    const r = cache.shapeOf(e.right);
    if (l && r) {
      md.para('Here: ', { code: `${fmtShape(l.shape)} ${e.op} ${fmtShape(r.shape)} → ${out ? fmtShape(out.shape) : 'error'}` });
    }
  }

  private async modelHover(document: LangiumDocument, decl: ast.ModelDecl, md: Markup): Promise<void> {
    const m = this.services.analysis.Cache.tryModel(decl);
    if (!m) return;
    const params: string[] = [];
    for (const p of m.params) {
      const s = m.declShapes.get(p);
      params.push(`${p.name}: ${s ? fmtShape(s) : '?'}`);
    }
    for (const d of m.dense.values()) params.push(`${d.owner.name}.W: ${fmtShape(d.W)}`, `${d.owner.name}.b: ${fmtShape(d.b)}`);
    md.para({ bold: `model ${decl.name}` }, ` — ${Number.isFinite(m.paramElements) ? plural(m.paramElements, 'parameter') : 'parameters unknown (see the errors)'}`);
    if (params.length) md.pre(params);
    const a = await this.numbersOf(document, decl);
    if (a.status !== 'ok') return this.notReady(md, a);
    md.para(`C = ${num(a.numbers.loss)} (mean loss)`, ...this.where(a.numbers).map((s) => (typeof s === 'string' ? s.replace(/ — C = .*$/, '') : s)));
  }

  private dataHover(document: LangiumDocument, decl: ast.DataDecl, md: Markup): void {
    md.pre([this.text(document, decl).slice(0, 200)], 'nn');
    const r = describeDecl(this.services.analysis.Cache, this.services.analysis.DataContext, decl);
    if (r.ok) {
      md.para(
        { bold: `data ${decl.name}` },
        `: ${plural(r.info.n, 'example')} — features `,
        { code: fmtShape(r.info.xShape) },
        ', label ',
        { code: fmtShape(r.info.yShape) },
      );
    } else if (r.error) {
      md.para({ bold: `data ${decl.name}` }, `: ${r.error.message}`);
    }
  }
}

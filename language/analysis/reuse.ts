/**
 * Reusing the analysis of a model across versions of a document (issue 13, big files). A
 * language server rebuilds a whole document on every keystroke; in a file of many models the
 * models the edit did not touch are analysed again with the same result. Here the analysis of
 * each model is kept with a key of everything it depends on, and the next version of the
 * document takes it over — moved onto the new syntax tree — when the key is the same.
 *
 * The key (`content`) is the text of the model and, for every name the model uses from outside
 * it, what that name resolves to (nothing, or a top-level declaration): the text of that
 * declaration and, the same way, of everything it uses in turn (a const defined from another
 * const, a function calling a function). It also holds the text of the model's `train` and
 * `check` blocks and of the data they name, and the kind of any top-level const or function a
 * member's name collides with (names.ts reports those). An edit to any of these gives the model
 * a new key, so it is analysed afresh.
 *
 * Messages name lines (`'z2' is used before it is defined (on line 14)`), so a model with issues
 * or diagnostics is reused only where it, and the declarations it uses, start on the same lines
 * as before (`position`). A model without any is reused wherever it moved: whether a check finds
 * something does not depend on where the model stands.
 *
 * Moving an analysis onto the new tree (`transplant`): a model whose text is the same parses to
 * the same tree, so the old and new models' nodes correspond one to one in tree order (checked:
 * the same number of nodes and the same types, the same names referred to, resolving alike). Every
 * field of the analysis is copied with old nodes replaced by new ones (maps, sets, arrays and
 * plain objects are followed; values that hold no node are shared). Anything that cannot be moved
 * — a node that is not in the model and not a target of its references — makes the model be
 * analysed afresh.
 */
import { DocumentState, isAstNode, isReference, type AstNode, type LangiumDocument, type Reference } from 'langium';
import type { Diagnostic } from 'vscode-languageserver-types';
import * as ast from '../generated/ast';
import type { DocumentAnalysis } from './index';
import type { ModelAnalysis } from './models';

/** Supplies the analysis of a model: computed, or reused from an earlier version of the document. */
export interface ModelAnalysisProvider {
  modelAnalysis(doc: DocumentAnalysis, model: ast.ModelDecl, compute: () => ModelAnalysis): ModelAnalysis;
}

/** How many model analyses were computed and how many were reused (tests count them; never time). */
export interface ReuseCounts {
  computed: number;
  reused: number;
  /** Models whose diagnostics were reused (their validation skipped). */
  diagnosticsReused: number;
}

/** What is kept of one model between versions. */
interface ModelEntry {
  readonly content: string;
  readonly position: string;
  readonly model: ast.ModelDecl;
  readonly analysis: ModelAnalysis;
  /** The model's nodes and references, read while they were linked (a later build unlinks them). */
  readonly tree: Subtree;
  /** Diagnostics of the validation of the model's subtree, once validated (ranges at `position`). */
  diagnostics?: Diagnostic[];
  /** The validation categories they are of. */
  categories?: string;
}

const positionFree = (e: ModelEntry) => e.analysis.issues.length === 0;

/**
 * The memory of one document's models across its versions: the entries of the latest validated
 * version (`previous`) and those of the version being built (`current`).
 */
export class ModelMemo {
  private previous = new Map<string, ModelEntry>();
  private current = new Map<string, ModelEntry>();
  private program: ast.Program | undefined;
  /** The current version was validated: everything it needs from `previous` was taken. */
  private validated = false;

  constructor(private readonly counts: ReuseCounts) {}

  /** Starts a version of the document (a new program, or the same one linked again). */
  begin(program: ast.Program, document: LangiumDocument): ModelReuse {
    // A version whose validation did not finish (a newer edit cancelled its build) may not have
    // taken every model over yet: keep the older entries too.
    this.previous = this.validated ? this.current : new Map([...this.previous, ...this.current]);
    this.current = new Map();
    this.program = program;
    this.validated = false;
    return new ModelReuse(this.previous, this.current, program, document, this.counts);
  }

  /** The version of `program` was validated: the older entries are no longer needed. */
  settle(program: ast.Program): void {
    if (program !== this.program) return;
    this.validated = true;
    this.previous = new Map();
  }
}

/** The reuse of models for one version of a document (one `DocumentAnalysis`). */
export class ModelReuse implements ModelAnalysisProvider {
  private keys?: DependencyKeys;
  private readonly entries = new Map<ast.ModelDecl, ModelEntry>();
  /** Models whose diagnostics come from an earlier version (its entry had them, at this position). */
  private readonly reusedDiagnostics = new Map<ast.ModelDecl, ModelEntry>();

  constructor(
    private readonly previous: ReadonlyMap<string, ModelEntry>,
    private readonly current: Map<string, ModelEntry>,
    private readonly program: ast.Program,
    private readonly document: LangiumDocument,
    private readonly counts: ReuseCounts,
  ) {}

  modelAnalysis(doc: DocumentAnalysis, model: ast.ModelDecl, compute: () => ModelAnalysis): ModelAnalysis {
    const key = this.keyOf(model);
    if (key) {
      const old = this.previous.get(key.content) ?? this.current.get(key.content);
      if (old && (positionFree(old) || old.position === key.position)) {
        const moved = transplant(old, model, doc);
        if (moved) {
          this.counts.reused++;
          const entry: ModelEntry = { content: key.content, position: key.position, model, analysis: moved.analysis, tree: moved.tree };
          const diagnosticsHold = old.diagnostics && ((positionFree(old) && old.diagnostics.length === 0) || old.position === key.position);
          if (diagnosticsHold && old.diagnostics) {
            entry.diagnostics = old.diagnostics;
            entry.categories = old.categories;
            this.reusedDiagnostics.set(model, old);
          }
          this.remember(model, entry);
          return moved.analysis;
        }
      }
    }
    this.counts.computed++;
    const analysis = compute();
    if (key) this.remember(model, { content: key.content, position: key.position, model, analysis, tree: subtree(model) });
    return analysis;
  }

  /**
   * The diagnostics of the validation (of `categories`) of `model`'s subtree when they carry over
   * from an earlier version (call after its analysis was obtained); undefined when it must be
   * validated.
   */
  diagnosticsOf(model: ast.ModelDecl, categories: string): Diagnostic[] | undefined {
    const old = this.reusedDiagnostics.get(model);
    if (!old?.diagnostics || old.categories !== categories) return undefined;
    this.counts.diagnosticsReused++;
    return old.diagnostics.map((x) => structuredClone(x));
  }

  /** Records the diagnostics of the validation (of `categories`) of `model`'s subtree, for the next version. */
  storeDiagnostics(model: ast.ModelDecl, diagnostics: Diagnostic[], categories: string): void {
    const entry = this.entries.get(model);
    if (!entry) return;
    entry.diagnostics = diagnostics.map((x) => structuredClone(x));
    entry.categories = categories;
  }

  private remember(model: ast.ModelDecl, entry: ModelEntry): void {
    this.entries.set(model, entry);
    this.current.set(entry.content, entry);
  }

  private keyOf(model: ast.ModelDecl): { content: string; position: string } | undefined {
    if (this.document.state < DocumentState.Linked || this.document.parseResult.value !== this.program) return undefined;
    this.keys ??= new DependencyKeys(this.program, this.document);
    return this.keys.keyOf(model);
  }
}

// -------------------------------------------------------------------------------------------------
// Keys

/** The text, dependencies and position of each top-level declaration of one version. */
class DependencyKeys {
  private readonly decls: readonly ast.Declaration[];
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  /** References of each declaration to something outside it (by declaration index). */
  private readonly external: Reference[][];
  private readonly fingerprints = new Map<number, { text: string; closure: Set<number> }>();
  private readonly inProgress = new Set<number>();
  private readonly trains = new Map<ast.ModelDecl, number[]>();
  private topLevelValues?: Map<string, number>;
  /** False when a reference cannot be placed (then nothing is reused in this version). */
  private usable = true;

  constructor(
    program: ast.Program,
    private readonly document: LangiumDocument,
  ) {
    this.decls = program.declarations;
    for (const d of this.decls) {
      const c = d.$cstNode;
      if (!c) this.usable = false;
      this.starts.push(c?.offset ?? -1);
      this.ends.push(c?.end ?? -1);
    }
    this.external = this.decls.map(() => []);
    for (const ref of document.references) {
      if (!isReference(ref)) {
        this.usable = false; // (the grammar has no multi-references)
        continue;
      }
      const at = ref.$refNode?.offset;
      if (at === undefined) {
        if (ref.$refText) this.usable = false;
        continue;
      }
      const i = this.declAt(at);
      if (i < 0) continue;
      const target = ref.ref;
      if (target && this.declOf(target) === i) continue; // resolved inside the declaration: its text decides
      this.external[i].push(ref);
    }
    this.decls.forEach((d, i) => {
      if (!ast.isTrainDecl(d) && !ast.isCheckDecl(d)) return;
      const m = d.model?.ref;
      if (!m) return;
      const list = this.trains.get(m) ?? [];
      list.push(i);
      this.trains.set(m, list);
    });
  }

  keyOf(model: ast.ModelDecl): { content: string; position: string } | undefined {
    const i = this.decls.indexOf(model);
    if (!this.usable || i < 0) return undefined;
    const own = this.fingerprint(i);
    const closure = new Set(own.closure);
    let content = own.text;
    // members named like a top-level const or function (names.ts reports them, naming its kind and line)
    this.topLevelValues ??= this.firstValues();
    for (const m of model.members) {
      const name = 'name' in m && typeof m.name === 'string' ? m.name : undefined;
      const j = name !== undefined ? this.topLevelValues.get(name) : undefined;
      if (j === undefined) continue;
      content += `\u0002${name}:${this.decls[j].$type}`;
      closure.add(j);
    }
    // train and check blocks of the model, and the data they name
    for (const j of this.trains.get(model) ?? []) {
      content += `\u0003${this.text(j)}`;
      closure.add(j);
      for (const ref of this.external[j]) {
        const t = ref.ref ? this.declOf(ref.ref) : -1;
        if (t === i) continue;
        content += `\u0001${ref.$refText}=${t < 0 ? '?' : this.fingerprint(t).text}`;
        if (t >= 0) for (const k of this.fingerprint(t).closure) closure.add(k);
      }
    }
    const line = (j: number) => this.decls[j].$cstNode?.range.start;
    const start = line(i);
    let position = `${start?.line}:${start?.character}`;
    for (const j of [...closure].sort((a, b) => a - b)) if (j !== i) position += `;${j}@${line(j)?.line}`;
    return { content, position };
  }

  /** The text of declaration `i` and of everything it uses from outside itself, recursively. */
  private fingerprint(i: number): { text: string; closure: Set<number> } {
    const known = this.fingerprints.get(i);
    if (known) return known;
    if (this.inProgress.has(i)) return { text: `\u0004cycle:${i}`, closure: new Set() };
    this.inProgress.add(i);
    let text = `${this.decls[i].$type}\u0000${this.text(i)}`;
    const closure = new Set<number>([i]);
    for (const ref of this.external[i]) {
      const t = ref.ref ? this.declOf(ref.ref) : -1;
      if (t < 0) {
        text += `\u0001${ref.$refText}=?`;
        continue;
      }
      const dep = this.fingerprint(t);
      text += `\u0001${ref.$refText}=${dep.text}`;
      for (const k of dep.closure) closure.add(k);
    }
    this.inProgress.delete(i);
    const f = { text, closure };
    this.fingerprints.set(i, f);
    return f;
  }

  private text(i: number): string {
    return this.decls[i].$cstNode?.text ?? '';
  }

  private firstValues(): Map<string, number> {
    const m = new Map<string, number>();
    this.decls.forEach((d, i) => {
      if ((ast.isConstDecl(d) || ast.isFunctionDecl(d)) && d.name && !m.has(d.name)) m.set(d.name, i);
    });
    return m;
  }

  /** The index of the top-level declaration that contains `node` (-1: none, or another document). */
  private declOf(node: AstNode): number {
    let n: AstNode | undefined = node;
    while (n?.$container && !ast.isProgram(n.$container)) n = n.$container;
    if (!n || n.$container?.$document !== this.document) {
      // not in this document's tree: cannot be keyed
      if (n && !ast.isProgram(n)) this.usable = false;
      return -1;
    }
    return this.decls.indexOf(n as ast.Declaration);
  }

  /** The declaration whose text contains `offset` (-1: none). */
  private declAt(offset: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid] > offset) hi = mid - 1;
      else if (this.ends[mid] <= offset) lo = mid + 1;
      else return mid;
    }
    return -1;
  }
}

// -------------------------------------------------------------------------------------------------
// Moving an analysis onto a new tree

class NotTransplantable extends Error {}

/** The nodes of a subtree in tree order (that of `AstUtils.streamAst`), and its references' targets in that order. */
interface Subtree {
  nodes: AstNode[];
  refs: { text: string; target: AstNode | undefined }[];
}

function subtree(root: AstNode): Subtree {
  const nodes: AstNode[] = [];
  const refs: Subtree['refs'] = [];
  const visit = (n: AstNode) => {
    nodes.push(n);
    for (const k of Object.keys(n)) {
      if (k.startsWith('$')) continue;
      const v = (n as unknown as Record<string, unknown>)[k];
      if (isAstNode(v)) visit(v);
      else if (Array.isArray(v)) {
        for (const x of v) if (isAstNode(x)) visit(x);
      } else if (isReference(v)) refs.push({ text: v.$refText, target: v.ref });
    }
  };
  visit(root);
  return { nodes, refs };
}

/**
 * The analysis of `old.model` moved onto `model` (same text), or undefined when the trees do not
 * correspond (then the model is analysed afresh).
 */
function transplant(old: ModelEntry, model: ast.ModelDecl, doc: DocumentAnalysis): { analysis: ModelAnalysis; tree: Subtree } | undefined {
  const before = old.tree;
  const after = subtree(model);
  if (before.nodes.length !== after.nodes.length || before.refs.length !== after.refs.length) return undefined;
  const map = new Map<unknown, unknown>([[old.analysis.doc, doc]]);
  for (let i = 0; i < before.nodes.length; i++) {
    if (before.nodes[i].$type !== after.nodes[i].$type) return undefined;
    map.set(before.nodes[i], after.nodes[i]);
  }
  for (let i = 0; i < before.refs.length; i++) {
    const o = before.refs[i];
    const n = after.refs[i];
    if (o.text !== n.text || !o.target !== !n.target) return undefined;
    if (!o.target || !n.target) continue;
    const known = map.get(o.target);
    if (known === undefined) map.set(o.target, n.target);
    else if (known !== n.target) return undefined; // resolves differently
  }
  try {
    return { analysis: remapObject(old.analysis, map), tree: after };
  } catch (e) {
    if (e instanceof NotTransplantable) return undefined;
    throw e;
  }
}

/** A copy of the analysis object whose own fields are remapped (containers always copied). */
function remapObject<T extends object>(source: T, map: Map<unknown, unknown>): T {
  const seen = new Map<object, unknown>();
  const out = Object.create(Object.getPrototypeOf(source)) as Record<string, unknown>;
  for (const k of Object.keys(source)) {
    const v = (source as Record<string, unknown>)[k];
    // The analysis's own containers are copied even when nothing in them changes: they belong
    // to the new analysis (which may add to them).
    if (v instanceof Map) out[k] = new Map([...v].map(([a, b]) => [remap(a, map, seen), remap(b, map, seen)]));
    else if (v instanceof Set) out[k] = new Set([...v].map((a) => remap(a, map, seen)));
    else if (Array.isArray(v)) out[k] = v.map((a) => remap(a, map, seen));
    else out[k] = remap(v, map, seen);
  }
  return out as T;
}

const IN_PROGRESS = Symbol('in progress');

/** `v` with old nodes replaced by new ones; the same object when nothing in it changes. */
function remap(v: unknown, map: Map<unknown, unknown>, seen: Map<object, unknown>): unknown {
  if (v === null || typeof v !== 'object') return v;
  const mapped = map.get(v);
  if (mapped !== undefined) return mapped;
  if (isAstNode(v)) throw new NotTransplantable();
  const done = seen.get(v);
  if (done === IN_PROGRESS) throw new NotTransplantable(); // a cycle: not followed
  if (done !== undefined) return done;
  seen.set(v, IN_PROGRESS);
  let result: unknown = v;
  if (v instanceof Map) {
    result = new Map([...v].map(([a, b]) => [remap(a, map, seen), remap(b, map, seen)]));
  } else if (v instanceof Set) {
    result = new Set([...v].map((a) => remap(a, map, seen)));
  } else if (Array.isArray(v)) {
    const copy = v.map((a) => remap(a, map, seen));
    if (copy.some((a, i) => a !== v[i])) result = copy;
  } else if (Object.getPrototypeOf(v) === Object.prototype) {
    const src = v as Record<string, unknown>;
    let copy: Record<string, unknown> | undefined;
    for (const k of Object.keys(src)) {
      const x = remap(src[k], map, seen);
      if (x !== src[k]) copy ??= { ...src };
      if (copy) copy[k] = x;
    }
    if (copy) result = copy;
  }
  // anything else (an entry of the op catalog, …) holds no node of the model: shared
  seen.set(v, result);
  return result;
}

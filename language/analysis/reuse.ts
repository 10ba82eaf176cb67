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
 * What is kept holds no node of the tree it was computed on (which would keep that whole version
 * alive): each node is replaced by its index in tree order, and the target of a reference to
 * something outside the model by the index of that reference. A model whose text is the same
 * parses to the same tree, so the kept analysis is put back onto the new tree node for node
 * (checked: the same number of nodes and the same types, the same names referred to, resolving
 * alike). Every field of the analysis is copied this way (maps, sets, arrays and plain objects are
 * followed; values that hold no node are shared). An analysis holding a node it cannot place is
 * not kept, and its model is analysed afresh each time.
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

/** What is kept of one model between versions (no node of its tree: see the file's comment). */
interface ModelEntry {
  readonly content: string;
  /** Where the model was when its issues and diagnostics were worked out. */
  readonly position: string;
  /** How many issues its analysis has (with none, it is reused wherever the model moved). */
  readonly issues: number;
  readonly kept: KeptAnalysis;
  /** The analysis as the latest version has it, to be taken over as it is by a version that kept the model's nodes. */
  readonly live?: LiveAnalysis;
  /** Diagnostics of the validation of the model's subtree, once validated (ranges at `position`). */
  readonly diagnostics?: Diagnostic[];
  /** The validation categories they are of. */
  readonly categories?: string;
}

const positionFree = (e: ModelEntry) => e.issues === 0;

/**
 * A model's analysis with the nodes it was computed on: the model, and each reference of the
 * model to something outside it with its target. A version whose tree took the model's nodes over
 * (../incremental-parse.ts) takes the analysis over as it is (with its `doc` replaced) when every
 * such reference still resolves to the same node; otherwise it is restored from `kept`.
 */
interface LiveAnalysis {
  readonly model: ast.ModelDecl;
  readonly analysis: ModelAnalysis;
  readonly outside: readonly (readonly [Reference, AstNode])[];
}

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
    return new ModelReuse(this, program, document, this.counts);
  }

  /** The version of `program` was validated: it took over what it could, and the older entries are let go. */
  settle(program: ast.Program): void {
    if (program !== this.program) return;
    this.validated = true;
    this.previous = new Map();
  }

  /** An entry of the previous version (or of this one: a model whose text is another's). */
  find(content: string): ModelEntry | undefined {
    return this.previous.get(content) ?? this.current.get(content);
  }

  /** Keeps an entry of `program` for the next version (when `program` is the latest version). */
  add(program: ast.Program, entry: ModelEntry): void {
    if (program === this.program) this.current.set(entry.content, entry);
  }
}

/** The reuse of models for one version of a document (one `DocumentAnalysis`). */
export class ModelReuse implements ModelAnalysisProvider {
  private keys?: DependencyKeys;
  private readonly entries = new Map<ast.ModelDecl, ModelEntry>();
  /** Models whose diagnostics carry over from an earlier version (their entry had them, for this position). */
  private readonly reusedDiagnostics = new Set<ast.ModelDecl>();

  constructor(
    private readonly memo: ModelMemo,
    private readonly program: ast.Program,
    private readonly document: LangiumDocument,
    private readonly counts: ReuseCounts,
  ) {}

  modelAnalysis(doc: DocumentAnalysis, model: ast.ModelDecl, compute: () => ModelAnalysis): ModelAnalysis {
    const key = this.keyOf(model);
    if (key) {
      const old = this.memo.find(key.content);
      if (old && (positionFree(old) || old.position === key.position)) {
        const taken = old.live ? takeOver(old.live, model, doc) : undefined;
        const restored = taken ? undefined : restore(old.kept, model, doc);
        const analysis = taken ?? restored?.analysis;
        if (analysis) {
          this.counts.reused++;
          const diagnosticsHold = old.diagnostics && (old.position === key.position || (positionFree(old) && old.diagnostics.length === 0));
          if (diagnosticsHold) this.reusedDiagnostics.add(model);
          const base = diagnosticsHold ? old : { content: old.content, position: key.position, issues: old.issues, kept: old.kept };
          this.remember(model, { ...base, live: taken ? { ...old.live!, analysis: taken } : liveOf(analysis, model, restored!.outside) });
          return analysis;
        }
      }
    }
    this.counts.computed++;
    const analysis = compute();
    const kept = key && keep(analysis, model);
    if (key && kept) this.remember(model, { content: key.content, position: key.position, issues: analysis.issues.length, kept: kept.kept, live: liveOf(analysis, model, kept.outside) });
    return analysis;
  }

  /**
   * The diagnostics of the validation (of `categories`) of `model`'s subtree when they carry over
   * from an earlier version (call after its analysis was obtained); undefined when it must be
   * validated.
   */
  diagnosticsOf(model: ast.ModelDecl, categories: string): Diagnostic[] | undefined {
    const entry = this.reusedDiagnostics.has(model) ? this.entries.get(model) : undefined;
    if (!entry?.diagnostics || entry.categories !== categories) return undefined;
    this.counts.diagnosticsReused++;
    return entry.diagnostics.map((x) => structuredClone(x));
  }

  /** Records the diagnostics of the validation (of `categories`) of `model`'s subtree, for the next version. */
  storeDiagnostics(model: ast.ModelDecl, diagnostics: Diagnostic[], categories: string): void {
    const entry = this.entries.get(model);
    if (!entry) return;
    this.reusedDiagnostics.delete(model);
    this.remember(model, { ...entry, diagnostics: diagnostics.map((x) => structuredClone(x)), categories });
  }

  private remember(model: ast.ModelDecl, entry: ModelEntry): void {
    this.entries.set(model, entry);
    this.memo.add(this.program, entry);
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
// Keeping an analysis without its tree, and putting it back onto another

class NotKept extends Error {}

/** Where a node was: the `index`-th node of the model in tree order, or the target of its `index`-th reference. */
class Slot {
  constructor(
    readonly kind: 'node' | 'target',
    readonly index: number,
  ) {}
}

/** Stands for the document's analysis (the `doc` of a model's analysis). */
const DOCUMENT = new Slot('node', -1);

/** An analysis with slots in place of nodes, and what its tree looked like. */
interface KeptAnalysis {
  readonly analysis: object;
  /** The type of every node of the model, in tree order. */
  readonly types: readonly string[];
  /**
   * Every reference of the model in tree order: its text and its target, the index of a node of
   * the model (at ≥ 0), UNRESOLVED, or outside the model: then `first` is the first reference to
   * the same target (whose slot in `targets` stands for it).
   */
  readonly refs: readonly { readonly text: string; readonly at: number; readonly first?: number }[];
  readonly nodes: readonly Slot[];
  readonly targets: ReadonlyMap<number, Slot>;
}

const OUTSIDE = -1;
const UNRESOLVED = -2;

/** Whether `node` is `root` or under it. */
function within(node: AstNode, root: AstNode): boolean {
  for (let n: AstNode | undefined = node; n; n = n.$container) if (n === root) return true;
  return false;
}

/** The nodes of a subtree in tree order (that of `AstUtils.streamAst`), and its references with their targets in that order. */
function subtree(root: AstNode): { nodes: AstNode[]; refs: { ref: Reference; text: string; target: AstNode | undefined }[] } {
  const nodes: AstNode[] = [];
  const refs: { ref: Reference; text: string; target: AstNode | undefined }[] = [];
  const visit = (n: AstNode) => {
    nodes.push(n);
    for (const k of Object.keys(n)) {
      if (k.charCodeAt(0) === 36 /* $ */) continue;
      const v = (n as unknown as Record<string, unknown>)[k];
      if (isAstNode(v)) visit(v);
      else if (Array.isArray(v)) {
        for (const x of v) if (isAstNode(x)) visit(x);
      } else if (isReference(v)) refs.push({ ref: v, text: v.$refText, target: v.ref });
    }
  };
  visit(root);
  return { nodes, refs };
}

/**
 * The analysis of `model` in a form that holds none of its nodes (undefined when it holds a node
 * it cannot place), and the model's references to something outside it.
 */
function keep(analysis: ModelAnalysis, model: ast.ModelDecl): { kept: KeptAnalysis; outside: Outside } | undefined {
  const tree = subtree(model);
  const map = new Map<unknown, unknown>([[analysis.doc, DOCUMENT]]);
  const index = new Map<AstNode, number>();
  const nodes = tree.nodes.map((n, i) => {
    index.set(n, i);
    const slot = new Slot('node', i);
    map.set(n, slot);
    return slot;
  });
  const targets = new Map<number, Slot>();
  const firsts = new Map<AstNode, number>();
  const refs = tree.refs.map(({ text, target }, k) => {
    if (!target) return { text, at: UNRESOLVED };
    const inside = index.get(target);
    if (inside !== undefined) return { text, at: inside };
    let first = firsts.get(target);
    if (first === undefined) {
      firsts.set(target, (first = k));
      const slot = new Slot('target', k);
      targets.set(k, slot);
      map.set(target, slot);
    }
    return { text, at: OUTSIDE, first };
  });
  try {
    const kept = { analysis: remapObject(analysis, map), types: tree.nodes.map((n) => n.$type), refs, nodes, targets };
    return { kept, outside: outsideOf(tree.refs, index) };
  } catch (e) {
    if (e instanceof NotKept) return undefined;
    throw e;
  }
}

/**
 * A kept analysis put onto `model` (of the same text), or undefined when its tree does not
 * correspond (then the model is analysed afresh).
 */
function restore(kept: KeptAnalysis, model: ast.ModelDecl, doc: DocumentAnalysis): { analysis: ModelAnalysis; outside: Outside } | undefined {
  const tree = subtree(model);
  if (tree.nodes.length !== kept.types.length || tree.refs.length !== kept.refs.length) return undefined;
  const map = new Map<unknown, unknown>([[DOCUMENT, doc]]);
  for (let i = 0; i < tree.nodes.length; i++) {
    if (tree.nodes[i].$type !== kept.types[i]) return undefined;
    map.set(kept.nodes[i], tree.nodes[i]);
  }
  for (let k = 0; k < tree.refs.length; k++) {
    const { text, target } = tree.refs[k];
    const { text: was, at, first } = kept.refs[k];
    if (text !== was) return undefined;
    // resolving alike: to nothing, to the same node of the model, or outside it (to what the first
    // reference to the same target resolves to)
    if (at === UNRESOLVED) {
      if (target !== undefined) return undefined;
    } else if (at >= 0) {
      if (target !== tree.nodes[at]) return undefined;
    } else if (!target || within(target, model) || (first !== undefined && first !== k && target !== tree.refs[first].target)) {
      return undefined;
    }
  }
  for (const [k, slot] of kept.targets) map.set(slot, tree.refs[k].target);
  try {
    const analysis = remapObject(kept.analysis, map) as ModelAnalysis;
    return { analysis, outside: tree.refs.flatMap((r, k) => (kept.refs[k].at === OUTSIDE ? [[r.ref, r.target!] as const] : [])) };
  } catch (e) {
    if (e instanceof NotKept) return undefined;
    throw e;
  }
}

type Outside = LiveAnalysis['outside'];

/** The references of a subtree to something outside it (`index`: its nodes), with their targets. */
function outsideOf(refs: readonly { ref: Reference; target: AstNode | undefined }[], index: ReadonlyMap<AstNode, number>): Outside {
  return refs.flatMap(({ ref, target }) => (target && !index.has(target) ? [[ref, target] as const] : []));
}

function liveOf(analysis: ModelAnalysis, model: ast.ModelDecl, outside: Outside): LiveAnalysis {
  return { model, analysis, outside };
}

/**
 * The analysis of `live` for the same model node in a new version (its nodes taken over by the
 * new tree): a copy with the new document's analysis, when every reference to something outside
 * the model resolves to the same node as before; undefined otherwise. (A model's analysis is
 * complete once constructed: the copy shares its maps.)
 */
function takeOver(live: LiveAnalysis, model: ast.ModelDecl, doc: DocumentAnalysis): ModelAnalysis | undefined {
  if (live.model !== model || live.analysis.doc === doc) return undefined;
  for (const [ref, target] of live.outside) if (ref.ref !== target) return undefined;
  const copy = Object.assign(Object.create(Object.getPrototypeOf(live.analysis)) as ModelAnalysis, live.analysis);
  (copy as { doc: DocumentAnalysis }).doc = doc;
  return copy;
}

/** A copy of an analysis object whose own fields are remapped (its containers always copied). */
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

/** `v` with what `map` says replaced; the same object when nothing in it changes. */
function remap(v: unknown, map: Map<unknown, unknown>, seen: Map<object, unknown>): unknown {
  if (v === null || typeof v !== 'object') return v;
  const mapped = map.get(v);
  if (mapped !== undefined) return mapped;
  if (isAstNode(v) || v instanceof Slot) throw new NotKept();
  const done = seen.get(v);
  if (done === IN_PROGRESS) throw new NotKept(); // a cycle: not followed
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

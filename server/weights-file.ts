/**
 * Weights trained elsewhere, shown in the editor: a `P.json` file (what `nnlens train`, an
 * exported project's train.py and `nnlens export`'s exact script write — every param by its `.nn`
 * name, `dense` params as "h.W") becomes a model's current weights, which hovers, the checks and
 * the Backprop view use instead of the initial ones.
 *
 * Two ways in:
 * - the setting `nnlens.weightsFile`: a path relative to the `.nn` file's folder (or absolute), in
 *   which `${model}` stands for the model's name (`${model}.weights.json`). Applied when a document
 *   is checked and whenever the file changes (its modification time or size) or the setting does;
 *   weights trained in the editor afterwards win until the file changes again. Ignored in an
 *   untrusted workspace (Restricted Mode), where nothing reads files it names;
 * - the request `nnlens/loadWeights` (the command "NN Lens: Load Weights"): one file, for the
 *   model it names or the one model whose params it fits.
 *
 * A file fits a model when it holds every param of the model with the declared shape and nothing
 * else; a file that fits no model is reported (log, or the request's answer) and changes nothing.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { DocumentState, URI, type LangiumDocument, type LangiumSharedCoreServices } from 'langium';
import type { IRModel } from '../engine';
import { err, ok, type Result } from '../engine/result';
import type { NnServices } from '../language';
import type { NnLensEngine } from './engine-service';
import type { CurrentWeights, Weights } from '../engine/session/types';
import type { LoadWeightsParams, LoadWeightsResult } from './protocol';
import type { NnLensSettingsService } from './settings';

const fmt = (shape: readonly number[]) => `[${shape.join(', ')}]`;

function shapeOf(v: unknown): number[] | null {
  if (typeof v === 'number') return Number.isFinite(v) ? [] : null;
  if (!Array.isArray(v) || v.length === 0) return null;
  const inner = shapeOf(v[0]);
  if (inner === null) return null;
  for (let i = 1; i < v.length; i++) {
    const s = shapeOf(v[i]);
    if (s === null || fmt(s) !== fmt(inner)) return null;
  }
  return [v.length, ...inner];
}

function flatten(v: unknown, out: number[]): void {
  if (typeof v === 'number') out.push(v);
  else for (const x of v as unknown[]) flatten(x, out);
}

/** The file's tensors, by name, with their shapes (or why it is not a weights file). */
export function parseWeightsJson(text: string): Result<Map<string, { shape: number[]; values: Float64Array }>, string> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return err(`not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return err('not a JSON object of named tensors (the P.json format)');
  const out = new Map<string, { shape: number[]; values: Float64Array }>();
  for (const [name, v] of Object.entries(json)) {
    const shape = shapeOf(v);
    if (shape === null) return err(`"${name}" is not a rectangular array of finite numbers`);
    const values: number[] = [];
    flatten(v, values);
    out.set(name, { shape, values: Float64Array.from(values) });
  }
  return ok(out);
}

/** The model's weights from a parsed file, or why the file does not fit the model. */
export function fitWeights(tensors: Map<string, { shape: number[]; values: Float64Array }>, model: IRModel): Result<Weights, string> {
  const names = new Set(model.params.map((p) => p.name));
  const extra = [...tensors.keys()].filter((k) => !names.has(k));
  if (extra.length) return err(`"${extra[0]}" is not a param of ${model.name} (params: ${[...names].join(', ')})`);
  const weights: Weights = {};
  for (const p of model.params) {
    const t = tensors.get(p.name);
    if (!t) return err(`it has no "${p.name}" (${model.name} declares it ${fmt(p.shape)})`);
    if (fmt(t.shape) !== fmt(p.shape)) return err(`"${p.name}" has shape ${fmt(t.shape)} but ${model.name} declares ${fmt(p.shape)}`);
    weights[p.name] = t.values;
  }
  return ok(weights);
}

/** The file a `nnlens.weightsFile` setting names for a model of the document at `docPath`. */
export function resolveWeightsPath(setting: string, docPath: string, model: string): string {
  const path = setting.split('${model}').join(model);
  return isAbsolute(path) ? path : resolve(dirname(docPath), path);
}

interface Read {
  key: string;
  tensors: Result<Map<string, { shape: number[]; values: Float64Array }>, string>;
}

export class NnWeightsFiles {
  /** What was applied per document and model: the file's path, modification time and size. */
  private readonly applied = new Map<string, string>();
  private readonly reported = new Set<string>();
  private readonly cache = new Map<string, Read>();
  private readonly engine: NnLensEngine;

  constructor(
    private readonly Nn: NnServices,
    engine: NnLensEngine,
    private readonly settings: NnLensSettingsService,
    private readonly log: (message: string) => void = () => undefined,
  ) {
    this.engine = engine;
    const builder = (Nn.shared as LangiumSharedCoreServices).workspace.DocumentBuilder;
    builder.onDocumentPhase(DocumentState.Validated, (doc) => this.applySetting(doc));
    settings.onDidChange((now, before) => {
      if (now.weightsFile === before.weightsFile) return;
      this.applied.clear();
      this.reported.clear();
      for (const doc of this.documents()) this.applySetting(doc);
    });
  }

  private documents(): LangiumDocument[] {
    const shared = this.Nn.shared as LangiumSharedCoreServices;
    return shared.workspace.LangiumDocuments.all.toArray().filter((d) => d.state >= DocumentState.Validated);
  }

  /** The file's contents, read again only when its modification time or size changed. */
  private read(path: string): Read | null {
    let st;
    try {
      st = statSync(path);
    } catch {
      return null;
    }
    if (!st.isFile()) return null;
    const key = `${path}\0${st.mtimeMs}\0${st.size}`;
    const had = this.cache.get(path);
    if (had?.key === key) return had;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      return { key, tensors: err(`cannot be read: ${e instanceof Error ? e.message : String(e)}`) };
    }
    const read = { key, tensors: parseWeightsJson(text) };
    this.cache.set(path, read);
    return read;
  }

  /** Applies `nnlens.weightsFile` to every model of a checked document whose file is new or changed. */
  applySetting(doc: LangiumDocument): void {
    const setting = this.settings.settings.weightsFile;
    if (!setting || doc.uri.scheme !== 'file' || !this.settings.workspaceTrusted) return;
    const uri = doc.uri.toString();
    const program = this.engine.lowered(doc).program;
    for (const model of program.models) {
      const path = resolveWeightsPath(setting, doc.uri.fsPath, model.name);
      const read = this.read(path);
      const slot = `${uri}\0${model.name}`;
      if (!read) continue; // no such file (yet): the initial or trained weights stay
      if (this.applied.get(slot) === read.key) continue;
      this.applied.set(slot, read.key);
      const fitted = read.tensors.ok ? fitWeights(read.tensors.value, model) : read.tensors;
      if (!fitted.ok) {
        // a file meant for another model of the same document is no news; one that fits none is
        if (!setting.includes('${model}') && program.models.some((m) => read.tensors.ok && fitWeights(read.tensors.value, m).ok)) continue;
        const note = `${read.key}\0${fitted.error}`;
        if (!this.reported.has(note)) {
          this.reported.add(note);
          this.log(`nnlens.weightsFile: ${path} does not fit model ${model.name}: ${fitted.error}`);
        }
        continue;
      }
      this.engine.setWeights(uri, model.name, { params: fitted.value, label: `the weights of ${basename(path)} (nnlens.weightsFile)` });
    }
  }

  /** `nnlens/loadWeights`: a file the user chose, for a model of an open document. */
  async load(p: LoadWeightsParams, document: (uri: string) => Promise<LangiumDocument>): Promise<LoadWeightsResult> {
    let doc: LangiumDocument;
    try {
      doc = await document(p.uri);
    } catch (e) {
      return { status: 'error', message: e instanceof Error ? e.message : String(e) };
    }
    const path = p.path.startsWith('file:') ? URI.parse(p.path).fsPath : resolve(dirname(doc.uri.fsPath), p.path);
    const read = this.read(path);
    if (!read) return { status: 'error', message: `${path} does not exist` };
    if (!read.tensors.ok) return { status: 'error', message: `${basename(path)} ${read.tensors.error}` };
    const tensors = read.tensors.value;
    const program = this.engine.lowered(doc).program;
    const candidates = p.model ? program.models.filter((m) => m.name === p.model) : program.models;
    if (p.model && candidates.length === 0) return { status: 'error', message: `there is no model ${p.model} (without errors) in this file` };
    const fits = candidates.map((m) => ({ m, r: fitWeights(tensors, m) }));
    const good = fits.filter((f) => f.r.ok);
    if (good.length === 0) {
      const why = fits.map((f) => `${f.m.name}: ${f.r.ok ? '' : f.r.error}`).join('; ');
      return { status: 'error', message: `${basename(path)} fits no model of this file (${why || 'it has no model'})` };
    }
    if (good.length > 1) {
      return { status: 'error', message: `${basename(path)} fits several models (${good.map((f) => f.m.name).join(', ')}): choose one` };
    }
    const { m, r } = good[0];
    const time = new Date().toTimeString().slice(0, 5);
    const current: CurrentWeights = { params: (r as { ok: true; value: Weights }).value, label: `the weights of ${basename(path)} (loaded at ${time})` };
    this.engine.setWeights(doc.uri.toString(), m.name, current);
    return { status: 'ok', model: m.name, label: current.label };
  }
}

/**
 * The server's settings (`nnlens.*`) and the workspace's trust, as the client sends them:
 * `initializationOptions` in `initialize`, then `workspace/didChangeConfiguration` (section
 * `nnlens`) and `nnlens/workspaceTrust`. Values of the wrong type fall back to the defaults.
 */
import type { InitializationOptions, NnLensSettings } from './protocol';

export const DEFAULT_SETTINGS: NnLensSettings = {
  gradientCheck: { onEdit: true, mode: 'fast', tolerance: 1e-6, eps: 1e-6 },
  inlayHints: { shapes: true, paramCounts: true },
  training: { saveWeights: true },
  weightsFile: '',
  trainThreads: 'auto',
};

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

function bool(x: unknown, d: boolean): boolean {
  return typeof x === 'boolean' ? x : d;
}

function positive(x: unknown, d: number): number {
  return typeof x === 'number' && Number.isFinite(x) && x > 0 ? x : d;
}

/** Reads settings from whatever a client sent (missing or wrong values keep `base`'s). */
export function readSettings(raw: unknown, base: NnLensSettings = DEFAULT_SETTINGS): NnLensSettings {
  const r = isObject(raw) ? raw : {};
  const gc = isObject(r.gradientCheck) ? r.gradientCheck : {};
  const ih = isObject(r.inlayHints) ? r.inlayHints : {};
  const tr = isObject(r.training) ? r.training : {};
  return {
    gradientCheck: {
      onEdit: bool(gc.onEdit, base.gradientCheck.onEdit),
      mode: gc.mode === 'fast' || gc.mode === 'full' ? gc.mode : base.gradientCheck.mode,
      tolerance: positive(gc.tolerance, base.gradientCheck.tolerance),
      eps: positive(gc.eps, base.gradientCheck.eps),
    },
    inlayHints: {
      shapes: bool(ih.shapes, base.inlayHints.shapes),
      paramCounts: bool(ih.paramCounts, base.inlayHints.paramCounts),
    },
    training: { saveWeights: bool(tr.saveWeights, base.training.saveWeights) },
    weightsFile: typeof r.weightsFile === 'string' ? r.weightsFile.trim() : base.weightsFile,
    trainThreads: threadsSetting(r.trainThreads, base.trainThreads),
  };
}

/** 'auto' or a count from 1 to 256 (a numeric string too: the settings editor may send one). */
function threadsSetting(x: unknown, d: number | 'auto'): number | 'auto' {
  if (x === 'auto') return 'auto';
  const n = typeof x === 'string' && x.trim() !== '' ? Number(x) : x;
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 256 ? n : d;
}

export type SettingsListener = (settings: NnLensSettings, previous: NnLensSettings) => void;
export type TrustListener = (trusted: boolean) => void;

/** What a client told the server about itself in `initialize`. */
export interface ClientInfo {
  /** The NN Lens VS Code extension (it registers the `nnlens.*` commands itself). */
  isNnLensExtension: boolean;
  hoverMarkdown: boolean;
  workDoneProgress: boolean;
  inlayHintRefresh: boolean;
  codeLensRefresh: boolean;
  semanticTokensRefresh: boolean;
  /** It answers `workspace/configuration` (the server pulls `nnlens` settings from it). */
  configurationPull: boolean;
}

/** Settings, trust and what the client supports: one place every service reads. */
export class NnLensSettingsService {
  private current: NnLensSettings = DEFAULT_SETTINGS;
  private trusted = true;
  private readonly listeners: SettingsListener[] = [];
  private readonly trustListeners: TrustListener[] = [];
  client: ClientInfo = {
    isNnLensExtension: false,
    hoverMarkdown: true,
    workDoneProgress: false,
    inlayHintRefresh: false,
    codeLensRefresh: false,
    semanticTokensRefresh: false,
    configurationPull: false,
  };

  get settings(): NnLensSettings {
    return this.current;
  }

  /** False in an untrusted workspace: no data files are read and nothing is trained. */
  get workspaceTrusted(): boolean {
    return this.trusted;
  }

  /** Applies `initializationOptions` (any shape: other editors send their own or none). */
  initialize(options: unknown): void {
    const o = (isObject(options) ? options : {}) as Partial<InitializationOptions>;
    this.current = readSettings(o.settings);
    this.trusted = o.workspaceTrusted !== false;
  }

  update(raw: unknown): void {
    const previous = this.current;
    this.current = readSettings(raw, previous);
    if (JSON.stringify(previous) !== JSON.stringify(this.current)) for (const l of this.listeners) l(this.current, previous);
  }

  setTrusted(trusted: boolean): void {
    if (trusted === this.trusted) return;
    this.trusted = trusted;
    for (const l of this.trustListeners) l(trusted);
  }

  onDidChange(listener: SettingsListener): void {
    this.listeners.push(listener);
  }

  onDidChangeTrust(listener: TrustListener): void {
    this.trustListeners.push(listener);
  }
}

export const RESTRICTED_DATA_MESSAGE =
  'not read: this workspace is not trusted (Restricted Mode), so NN Lens reads no data files; trust the ' +
  'workspace to use it — shapes and gradient checks on random data still work';

export const RESTRICTED_TRAIN_MESSAGE =
  'training is off because this workspace is not trusted (Restricted Mode): training reads data files and ' +
  'writes weights next to your .nn files. Trust the workspace to train.';

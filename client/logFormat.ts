/**
 * The JSON-lines training log of `nnlens train --json` (spec §8): one object per line,
 * `{"epoch": e, "step": s, "loss": l, "valLoss": v, "accuracy": a}`. No VS Code API here.
 */
import type { RunPoint } from './panel/messages';

/** Parses one line of a training log; null for blank lines, anything that is not a sample. */
export function parseLogLine(line: string, index: number): (RunPoint & { model?: string }) | null {
  const text = line.trim();
  if (!text.startsWith('{')) return null;
  let o: unknown;
  try { o = JSON.parse(text); } catch { return null; }
  if (!o || typeof o !== 'object') return null;
  const r = o as Record<string, unknown>;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const loss = num(r.loss);
  if (loss === null) return null;
  return {
    step: num(r.step) ?? index + 1,
    epoch: num(r.epoch) ?? 0,
    loss,
    valLoss: num(r.valLoss ?? r.val_loss),
    accuracy: num(r.accuracy),
    elapsedMs: num(r.elapsedMs) ?? 0,
    model: typeof r.model === 'string' ? r.model : undefined,
  };
}

/** The codes of the engine's findings. Stable: never rename one (docs/diagnostics.md). */
import type { Finding } from '../ir';

export const FINDING_CODES = {
  /** error: a user-written derivative (function grad line or backward line) is wrong on its own. */
  gradMismatch: 'grad-mismatch',
  /** info: a backward line right on its own, wrong as written because it uses a wrong line. */
  gradDependent: 'grad-dependent',
  /** hint: a numeric/automatic mismatch explained by a kink within the perturbation. */
  gradKink: 'grad-kink',
  /** warning: automatic and numeric gradients disagree and nothing the user wrote explains it. */
  gradUnexplained: 'grad-unexplained',
  /** error: NaN or ±Infinity appeared (forward or backward), on the op that produced it. */
  nonFinite: 'non-finite',
} as const;

export type FindingCode = (typeof FINDING_CODES)[keyof typeof FINDING_CODES];

/**
 * Removes repeated findings (same code, range and message) — e.g. a function's wrong grad line
 * reported by the checks of two models that both call it.
 */
export function dedupeFindings(findings: readonly Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const k = `${f.code}|${f.range.start.line}:${f.range.start.character}-${f.range.end.line}:${f.range.end.character}|${f.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

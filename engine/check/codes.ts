/** Findings of the gradient checker: repeated ones removed. (The codes are in engine/codes.ts.) */
import type { Finding } from '../ir';


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

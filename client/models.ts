/** Which model of a document a command is about. No VS Code API here (unit-tested). */
import type { ModelInfo } from '../server/protocol';

/** The model whose declaration or train block holds `line` (0-based). Without ranges from the
 * server, a model extends to the line before the next model. */
export function modelAt(models: readonly ModelInfo[], line: number): ModelInfo | undefined {
  for (const m of models) {
    if (m.trainRange && line >= m.trainRange.line && line <= m.trainRange.endLine) return m;
  }
  const sorted = [...models].sort((a, b) => a.line - b.line);
  for (let i = 0; i < sorted.length; i++) {
    const m = sorted[i];
    const end = m.endLine ?? (i + 1 < sorted.length ? sorted[i + 1].line - 1 : Number.POSITIVE_INFINITY);
    if (line >= m.line && line <= end) return m;
  }
  return undefined;
}

/**
 * Data-driven gradient-check tests: `.nn` files under test/cases/blame and test/cases/gradients
 * go through the whole pipeline a user runs with `nnlens check` (language analysis, then the
 * engine's gradient check with blame), in both check modes. Markers (test/language/markers.ts)
 * say which line must carry which diagnostic; every error and warning must be marked, so a
 * wrong derivative is an error on the line that is wrong and on no other line.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { analyzeFile, type LangDiagnostic } from '../language/index';
import { dedupeFindings } from '../engine';
import { checkProgramModel } from '../engine/session/pipeline';
import { checkMarkers, parseMarkers } from './language/markers';

const ROOT = resolve(__dirname, 'cases');
const files = ['blame', 'gradients'].flatMap((dir) =>
  readdirSync(join(ROOT, dir))
    .filter((f) => f.endsWith('.nn'))
    .sort()
    .map((f) => `${dir}/${f}`),
);

async function diagnose(path: string, mode: 'fast' | 'full'): Promise<LangDiagnostic[]> {
  const a = await analyzeFile(path);
  const ctx = { baseDir: dirname(path) };
  const results = a.program.models.map((m) => checkProgramModel({ program: a.program, model: m.name, ctx, mode }));
  return [...a.diagnostics, ...dedupeFindings(results.flatMap((r) => r.report.findings))];
}

describe('gradient-check cases', () => {
  test('there are at least 10 blame files, each marking a wrong line', () => {
    const blame = files.filter((f) => f.startsWith('blame/'));
    expect(blame.length).toBeGreaterThanOrEqual(10);
    for (const f of blame) {
      const markers = parseMarkers(readFileSync(join(ROOT, f), 'utf8'));
      expect(markers.some((m) => m.severity === 'error'), f).toBe(true);
    }
  });

  for (const mode of ['fast', 'full'] as const) {
    test.each(files)(`%s (${mode} check)`, async (file) => {
      const path = join(ROOT, file);
      const source = readFileSync(path, 'utf8');
      expect(checkMarkers(source, await diagnose(path, mode))).toEqual([]);
    });
  }
});
